/**
 * A fake Tekton controller: moves each PipelineRun through a scripted outcome, creating
 * TaskRuns and pods (with logs) the way Tekton does, and honours `spec.status: Cancelled`.
 * The `tasks` outcome runs scripted tasks one after the other, their step logs growing over time.
 */
import { findType } from "./resources.ts";
import type { KubeObject, Store } from "./store.ts";

/** What the fake controller does with a PipelineRun. */
export type Outcome =
  /** Tasks run, then the PipelineRun succeeds after `delayMs` (default 300). */
  | { kind: "succeed"; delayMs?: number }
  /** Task `task` (default: the last) fails after `delayMs`; the PipelineRun fails with `reason` (default "Failed"). */
  | { kind: "fail"; delayMs?: number; reason?: string; message?: string; task?: string }
  /** Tasks start and never finish (until cancelled). */
  | { kind: "hang" }
  /** Tekton cannot find the Pipeline: fails with reason CouldntGetPipeline, creates no TaskRun (also what happens when the Pipeline object is absent). */
  | { kind: "pipeline-missing"; delayMs?: number }
  /**
   * The scripted tasks run in sequence (a TaskRun and pod each, started when the previous one ended), each
   * step container printing its chunks over time; the first task with `fail` fails the PipelineRun and the
   * later ones never start. `hang: true` leaves the last task running forever (until cancelled).
   */
  | { kind: "tasks"; tasks: TaskScript[]; hang?: boolean };

/** One task of a `tasks` outcome. */
export interface TaskScript {
  /** The pipeline task name. */
  name: string;
  /** What its step container prints after its first line, one chunk every `intervalMs` (text or raw bytes). @default [] */
  chunks?: (string | Uint8Array)[];
  /** @default 50 */
  intervalMs?: number;
  /** The task fails after its chunks (its one step exits 1; ignored when `steps` is given). */
  fail?: boolean;
  /**
   * The task's steps in order, each a container `step-<name>` of its pod. The task's chunks go to the step that
   * ends it (the first step that fails without `onError: "continue"`, else the last); after such a step the
   * later ones are skipped (exit 1, `terminationReason: "Skipped"`, as Tekton's entrypoint does).
   * @default [{ name: <task name>, exitCode: fail ? 1 : 0 }]
   */
  steps?: StepScript[];
  /**
   * The task ends only once this holds (looked at every `intervalMs` after its chunks): a test holds a run until
   * it saw what it waits for (a line on the CLI's output), so the order it asserts is an event, not a race.
   */
  endsWhen?: () => boolean;
  /**
   * Chunk `index` is printed only once this holds (looked at every `intervalMs`): a test that must see a log grow
   * holds the next chunk until it saw the earlier ones, so the growth it asserts is an event, not a sample.
   */
  printsWhen?: (index: number) => boolean;
}

/** One step of a {@link TaskScript}. */
export interface StepScript {
  /** The step name (the container is `step-<name>`). */
  name: string;
  /** @default 0 */
  exitCode?: number;
  /** `continue`: a non-zero exit does not fail the task (Tekton's `onError: continue`; `terminationReason: "Continued"`). */
  onError?: "continue" | "stopAndFail";
  /** Printed by the step before it ends (text or raw bytes). @default [] */
  chunks?: (string | Uint8Array)[];
}

/** Options of {@link scriptedTasks}. */
export interface ScriptedTasksOptions {
  /** Task names. @default DEFAULT_TASKS */
  names?: readonly string[];
  /** Numbered text lines per task. @default 3 */
  lines?: number;
  /** @default 50 */
  intervalMs?: number;
  /** A chunk of raw bytes (NUL, 0xff, a lone CR, invalid UTF-8) in the middle of the second task. */
  binary?: boolean;
  /** A single line of this many bytes (plus newline) at the end of the first task. */
  longLineBytes?: number;
  /** This task fails (its name). */
  failTask?: string;
  /** The failing task's steps (see {@link TaskScript.steps}); needs `failTask`. */
  failSteps?: StepScript[];
  /** Per task name: it ends only once this holds (TaskScript.endsWhen). */
  endsWhen?: Record<string, () => boolean>;
  /** Per task name: its chunk `index` is printed only once this holds (TaskScript.printsWhen). */
  printsWhen?: Record<string, (index: number) => boolean>;
}

/** The raw bytes {@link scriptedTasks} puts in a log with `binary: true`. */
export const BINARY_CHUNK = Uint8Array.from([0x62, 0x69, 0x6e, 0x3a, 0x00, 0x01, 0xff, 0xfe, 0x0d, 0x80, 0xc3, 0x28, 0x0a]);

/** A ready-made `tasks` script: numbered lines per task, optionally binary content and a long line. */
export function scriptedTasks(options: ScriptedTasksOptions = {}): TaskScript[] {
  const names = options.names ?? DEFAULT_TASKS;
  return names.map((name, t) => {
    const chunks: (string | Uint8Array)[] = [];
    for (let i = 1; i <= (options.lines ?? 3); i++) {
      chunks.push(`[${name}] line ${i} of ${options.lines ?? 3}\n`);
      if (options.binary && t === 1 && i === 1) chunks.push(BINARY_CHUNK);
    }
    if (options.longLineBytes && t === 0) chunks.push(`${"L".repeat(options.longLineBytes)}\n`);
    const fail = options.failTask === name;
    return { name, chunks, intervalMs: options.intervalMs ?? 50, fail, ...(fail && options.failSteps ? { steps: options.failSteps } : {}), endsWhen: options.endsWhen?.[name], printsWhen: options.printsWhen?.[name] };
  });
}

/** A task's steps: its script's, else one step named after the task exiting 1 when it fails. */
export function stepsOf(script: TaskScript): StepScript[] {
  return script.steps ?? [{ name: script.name, exitCode: script.fail ? 1 : 0 }];
}

/** The step that ends a task: the first that fails without `onError: continue`, else the last. */
export function endingStep(steps: StepScript[]): StepScript | undefined {
  return steps.find((s) => (s.exitCode ?? 0) !== 0 && s.onError !== "continue") ?? steps.at(-1);
}

/** Default tasks of the fake pipeline (as in scripts/ci/tekton/unidesk-dev-namespace-e2e.yaml). */
export const DEFAULT_TASKS = ["check-inputs", "smoke-namespace", "report"];

const T = {
  pr: findType("tekton.dev", "v1", "pipelineruns")!,
  tr: findType("tekton.dev", "v1", "taskruns")!,
  pod: findType("", "v1", "pods")!,
  ns: findType("", "v1", "namespaces")!,
  pipeline: findType("tekton.dev", "v1", "pipelines")!,
};

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const cond = (status: string, reason: string, message: string) => [{ type: "Succeeded", status, reason, message, lastTransitionTime: now() }];

/** Drives PipelineRuns stored in `store`; outcomes chosen per run or by default. */
export class FakeTekton {
  #timers = new Set<NodeJS.Timeout>();
  #overrides = new Map<string, Outcome>();
  /** Steps of each TaskRun (`namespace/name`), as started. */
  #steps = new Map<string, StepScript[]>();
  #default: Outcome;

  constructor(
    private readonly store: Store,
    defaultOutcome: Outcome,
    private readonly tasks: readonly string[] = DEFAULT_TASKS,
  ) {
    this.#default = defaultOutcome;
  }

  /** Sets the outcome for PipelineRuns without an override. */
  setDefaultOutcome(outcome: Outcome): void {
    this.#default = outcome;
  }

  /** Sets the outcome for one run, keyed by runId or PipelineRun name. */
  setOutcome(key: string, outcome: Outcome): void {
    this.#overrides.set(key, outcome);
  }

  /** The outcome a PipelineRun gets: override by name, then by run-id label, then the default. */
  outcomeFor(pr: KubeObject): Outcome {
    const runId = pr.metadata.labels?.["unidesk.ci/run-id"];
    return this.#overrides.get(pr.metadata.name) ?? (runId ? this.#overrides.get(runId) : undefined) ?? this.#default;
  }

  /** Stops every pending transition. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Called after a PipelineRun was created through the API. */
  onCreate(created: KubeObject): void {
    const ns = created.metadata.namespace!;
    const name = created.metadata.name;
    const pr = this.store.get(T.pr, ns, name)!;
    const pipelineName = (pr.spec?.["pipelineRef"] as { name?: string } | undefined)?.name ?? "";
    // As in Tekton: a Pipeline that is not there fails the run, whatever the script says.
    const outcome: Outcome = this.store.get(T.pipeline, ns, pipelineName) ? this.outcomeFor(created) : { kind: "pipeline-missing" };
    if (pr.spec?.["status"] === "Cancelled") return this.#finishCancelled(ns, name);
    const taskNames = outcome.kind === "tasks" ? outcome.tasks.map((t) => t.name) : this.tasks;
    pr.status = {
      startTime: now(),
      conditions: cond("Unknown", "Running", "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0"),
      childReferences: [],
      // As in Tekton v1: the resolved Pipeline, so readers know the tasks still to come.
      pipelineSpec: { tasks: taskNames.map((t) => ({ name: t })) },
    };
    if (outcome.kind === "pipeline-missing") {
      pr.status.conditions = cond("Unknown", "Started", "");
      this.store.update(T.pr, pr);
      this.#later(outcome.delayMs ?? 100, () => {
        this.#finish(ns, name, "False", "CouldntGetPipeline", `Error retrieving pipeline for pipelinerun ${ns}/${name}: Error retrieving pipeline: pipelines.tekton.dev "${pipelineName}" not found`);
      });
      return;
    }
    const tempNs = paramOf(pr, "temporary-namespace");
    if (outcome.kind === "tasks") {
      this.store.update(T.pr, pr);
      this.#putSmokePod(pr, tempNs);
      this.#runTasks(ns, name, outcome, 0, 0);
      return;
    }
    pr.status.childReferences = this.tasks.map((task) => ({ apiVersion: "tekton.dev/v1", kind: "TaskRun", name: `${name}-${task}`, pipelineTaskName: task }));
    this.store.update(T.pr, pr);
    for (const task of this.tasks) this.#startTask(pr, task);
    this.#putSmokePod(pr, tempNs);
    if (outcome.kind === "hang") return;
    const failed = outcome.kind === "fail" ? (outcome.task ?? this.tasks.at(-1)) : undefined;
    this.#later(outcome.delayMs ?? 300, () => {
      if (!this.#isRunning(ns, name)) return;
      for (const task of this.tasks) {
        if (task === failed) this.#steps.set(`${ns}/${name}-${task}`, [{ name: task, exitCode: 1 }]);
        this.#endTask(ns, name, task, "ended", outcome.kind === "fail" ? outcome.message : undefined);
      }
      if (tempNs) this.#setPodState(tempNs, "e2e-smoke", "smoke", failed ? "failed" : "succeeded", failed ? "smoke check failed\n" : "smoke check ok\n");
      if (outcome.kind === "fail") {
        const n = this.tasks.length;
        this.#finish(ns, name, "False", outcome.reason ?? "Failed", outcome.message ?? `Tasks Completed: ${n} (Failed: 1, Cancelled 0), Skipped: 0`);
      } else {
        this.#finish(ns, name, "True", "Succeeded", `Tasks Completed: ${this.tasks.length} (Failed: 0, Cancelled 0), Skipped: 0`);
      }
    });
  }

  #putSmokePod(pr: KubeObject, tempNs: string | undefined): void {
    if (tempNs && this.store.get(T.ns, undefined, tempNs)) {
      this.#putPod(tempNs, "e2e-smoke", { "unidesk.ci/run-id": pr.metadata.labels?.["unidesk.ci/run-id"] ?? "" }, [["smoke", "running", `smoke pod in ${tempNs} up\n`]]);
    }
  }

  /** Task `i` of a `tasks` outcome: start it, print its chunks one by one, end it, go on with the next. */
  #runTasks(ns: string, name: string, outcome: Extract<Outcome, { kind: "tasks" }>, i: number, chunk: number): void {
    if (!this.#isRunning(ns, name)) return;
    const pr = this.store.get(T.pr, ns, name)!;
    const tempNs = paramOf(pr, "temporary-namespace");
    const script = outcome.tasks[i];
    if (!script) {
      if (outcome.hang) return;
      if (tempNs) this.#setPodState(tempNs, "e2e-smoke", "smoke", "succeeded", "smoke check ok\n");
      return this.#finish(ns, name, "True", "Succeeded", `Tasks Completed: ${outcome.tasks.length} (Failed: 0, Cancelled 0), Skipped: 0`);
    }
    const trName = `${name}-${script.name}`;
    if (chunk === 0) {
      const refs = (pr.status?.["childReferences"] ?? []) as object[];
      pr.status = { ...pr.status, childReferences: [...refs, { apiVersion: "tekton.dev/v1", kind: "TaskRun", name: trName, pipelineTaskName: script.name }] };
      this.store.update(T.pr, pr);
      this.#startTask(pr, script.name, stepsOf(script));
    }
    const chunks = script.chunks ?? [];
    const interval = script.intervalMs ?? 50;
    if (chunk < chunks.length) {
      const print = (): void => this.#later(interval, () => {
        if (!this.#isRunning(ns, name)) return;
        if (script.printsWhen && !script.printsWhen(chunk)) return print();
        this.store.appendLog(`${ns}/${trName}-pod/step-${endingStep(stepsOf(script))!.name}`, chunks[chunk]!);
        this.#runTasks(ns, name, outcome, i, chunk + 1);
      });
      return print();
    }
    if (outcome.hang && i === outcome.tasks.length - 1) return;
    const end = (): void => this.#later(interval, () => {
      if (!this.#isRunning(ns, name)) return;
      if (script.endsWhen && !script.endsWhen()) return end();
      const failed = this.#endTask(ns, name, script.name, "ended");
      if (!failed) return this.#runTasks(ns, name, outcome, i + 1, 0);
      if (tempNs) this.#setPodState(tempNs, "e2e-smoke", "smoke", "failed", "smoke check failed\n");
      const skipped = outcome.tasks.length - i - 1;
      this.#finish(ns, name, "False", "Failed", `Tasks Completed: ${i + 1} (Failed: 1, Cancelled 0), Skipped: ${skipped}`);
    });
    end();
  }

  /** Called after a PipelineRun was patched or replaced through the API. */
  onUpdate(updated: KubeObject): void {
    const { namespace, name } = updated.metadata;
    if (updated.spec?.["status"] === "Cancelled" && this.#isRunning(namespace!, name)) {
      // Real Tekton reacts within a reconcile; a short delay keeps the runner's wait honest.
      this.#later(50, () => this.#finishCancelled(namespace!, name));
    }
  }

  #isRunning(ns: string, name: string): boolean {
    const pr = this.store.get(T.pr, ns, name);
    const c = (pr?.status?.["conditions"] as { status: string }[] | undefined)?.[0];
    return pr !== undefined && (c === undefined || c.status === "Unknown");
  }

  #finishCancelled(ns: string, name: string): void {
    if (!this.#isRunning(ns, name)) return;
    for (const tr of this.store.list(T.tr, ns, `tekton.dev/pipelineRun=${name}`)) {
      const task = tr.metadata.labels?.["tekton.dev/pipelineTask"] ?? "";
      const c = (tr.status?.["conditions"] as { status: string }[] | undefined)?.[0];
      if (c?.status === "Unknown") this.#endTask(ns, name, task, "cancelled");
    }
    const pr = this.store.get(T.pr, ns, name)!;
    const tempNs = paramOf(pr, "temporary-namespace");
    if (tempNs) this.#setPodState(tempNs, "e2e-smoke", "smoke", "failed", "smoke pod terminated: run cancelled\n");
    this.#finish(ns, name, "False", "Cancelled", `PipelineRun "${name}" was cancelled`);
  }

  #finish(ns: string, name: string, status: string, reason: string, message: string): void {
    const pr = this.store.get(T.pr, ns, name);
    if (!pr) return;
    // Tekton's reconcile checks a cancel before anything else: a PipelineRun cancelled while it ran ends Cancelled,
    // even when its last task ends before the cancel is reconciled (onUpdate's 50 ms).
    if (pr.spec?.["status"] === "Cancelled" && reason !== "Cancelled") return this.#finishCancelled(ns, name);
    pr.status = { ...pr.status, conditions: cond(status, reason, message), completionTime: now() };
    this.store.update(T.pr, pr);
  }

  #startTask(pr: KubeObject, task: string, steps: StepScript[] = [{ name: task }]): void {
    const ns = pr.metadata.namespace!;
    const prName = pr.metadata.name;
    const trName = `${prName}-${task}`;
    const labels = { ...(pr.metadata.labels ?? {}), "tekton.dev/pipeline": "unidesk-dev-namespace-e2e", "tekton.dev/pipelineRun": prName, "tekton.dev/pipelineTask": task, "tekton.dev/taskRun": trName };
    const started = now();
    this.#steps.set(`${ns}/${trName}`, steps);
    this.store.create(T.tr, {
      apiVersion: "tekton.dev/v1",
      kind: "TaskRun",
      metadata: { name: trName, namespace: ns, labels },
      spec: { serviceAccountName: "unidesk-ci-e2e" },
      status: {
        podName: `${trName}-pod`,
        startTime: started,
        conditions: cond("Unknown", "Running", "Not all Steps in the Task have finished executing"),
        // As in Tekton v1 (StepState): one entry per step, its container's state.
        steps: steps.map((s) => ({ name: s.name, container: `step-${s.name}`, running: { startedAt: started } })),
      },
    });
    const who = (s: StepScript) => (s.name === task ? task : `${task}/${s.name}`);
    this.#putPod(ns, `${trName}-pod`, labels, [
      ["prepare", "succeeded", "2025/01/01 00:00:00 Entrypoint initialization\n", true],
      ...steps.map((s): [string, "running", string] => [`step-${s.name}`, "running", `[${who(s)}] started for ${paramOf(pr, "run-id")} at ${paramOf(pr, "manifest-commit")}\n`]),
    ]);
  }

  /**
   * Ends a TaskRun as Tekton does: `ended` gives each step its scripted exit (steps after the first failing one
   * skipped) and fails the TaskRun with `"step-<x>" exited with code N` naming that step; `cancelled` stops the
   * steps still running. Returns whether the TaskRun failed.
   */
  #endTask(ns: string, prName: string, task: string, state: "ended" | "cancelled", message?: string): boolean {
    const trName = `${prName}-${task}`;
    const tr = this.store.get(T.tr, ns, trName);
    if (!tr) return false;
    const steps = this.#steps.get(`${ns}/${trName}`) ?? [{ name: task }];
    const ending = endingStep(steps);
    const failing = ending && (ending.exitCode ?? 0) !== 0 && ending.onError !== "continue" ? ending : undefined;
    const finished = now();
    const old = (tr.status?.["steps"] ?? []) as { name: string; running?: { startedAt: string }; terminated?: object }[];
    let skipping = false;
    const stepStates = steps.map((s) => {
      const prev = old.find((o) => o.name === s.name);
      const startedAt = prev?.running?.startedAt ?? finished;
      if (prev?.terminated) return prev;
      const results = JSON.stringify([{ key: "StartedAt", value: startedAt, type: 3 }]);
      let exitCode = s.exitCode ?? 0;
      let reason = exitCode === 0 ? "Completed" : "Error";
      let terminationReason = exitCode === 0 ? "Completed" : s.onError === "continue" ? "Continued" : "Error";
      const who = s.name === task ? task : `${task}/${s.name}`;
      let tail = exitCode === 0 ? `[${who}] ok\n` : `[${who}] FAILED: ${message ?? "assertion failed"}\n`;
      if (state === "cancelled") [exitCode, reason, terminationReason, tail] = [1, "TaskRunCancelled", "TaskRunCancelled", `[${task}] terminated: cancelled\n`];
      else if (skipping) [exitCode, reason, terminationReason, tail] = [1, "Error", "Skipped", ""];
      if (s === failing) skipping = true;
      if (terminationReason !== "Skipped" && state !== "cancelled") for (const chunk of s.chunks ?? []) this.store.appendLog(`${ns}/${trName}-pod/step-${s.name}`, chunk);
      this.#setPodState(ns, `${trName}-pod`, `step-${s.name}`, exitCode === 0 ? "succeeded" : "failed", tail, exitCode, reason);
      return { name: s.name, container: `step-${s.name}`, terminated: { exitCode, reason, message: results, startedAt, finishedAt: finished }, terminationReason };
    });
    const [status, reason, msg] =
      state === "cancelled" ? ["False", "TaskRunCancelled", `TaskRun "${trName}" was cancelled. TaskRun cancelled as the PipelineRun it belongs to has been cancelled.`]
      : failing ? ["False", "Failed", `"step-${failing.name}" exited with code ${failing.exitCode}`]
      : ["True", "Succeeded", "All Steps have completed executing"];
    tr.status = { ...tr.status, steps: stepStates, conditions: cond(status, reason, msg), completionTime: finished };
    this.store.update(T.tr, tr);
    return status === "False";
  }

  /** Creates a pod whose containers are [name, state, initial log, isInit?]. */
  #putPod(ns: string, name: string, labels: Record<string, string>, containers: [string, "running" | "succeeded", string, boolean?][]): void {
    const spec = { initContainers: [] as object[], containers: [] as object[] };
    const statuses = { initContainerStatuses: [] as object[], containerStatuses: [] as object[] };
    for (const [c, state, log, isInit] of containers) {
      (isInit ? spec.initContainers : spec.containers).push({ name: c, image: "alpine/k8s:1.32.3" });
      (isInit ? statuses.initContainerStatuses : statuses.containerStatuses).push({ name: c, ready: state === "running", state: containerState(state) });
      this.store.logs.set(`${ns}/${name}/${c}`, Buffer.from(log));
    }
    this.store.create(T.pod, { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, labels }, spec, status: { phase: "Running", ...statuses } });
  }

  #setPodState(ns: string, pod: string, container: string, state: "succeeded" | "failed", tail: string, exitCode?: number, reason?: string): void {
    const p = this.store.get(T.pod, ns, pod);
    if (!p) return;
    const statuses = (p.status?.["containerStatuses"] ?? []) as { name: string; ready: boolean; state: object }[];
    for (const s of statuses) if (s.name === container) Object.assign(s, { ready: false, state: containerState(state, exitCode, reason) });
    const ended = statuses.every((s) => "terminated" in s.state);
    const failed = statuses.some((s) => ((s.state as { terminated?: { exitCode: number } }).terminated?.exitCode ?? 0) !== 0);
    p.status = { ...p.status, phase: !ended ? "Running" : failed ? "Failed" : "Succeeded", containerStatuses: statuses };
    // The last words first: a log follower ends when it sees the container terminated.
    this.store.appendLog(`${ns}/${pod}/${container}`, tail);
    this.store.update(T.pod, p);
  }
}

function containerState(state: "running" | "succeeded" | "failed", exitCode?: number, reason?: string): object {
  if (state === "running") return { running: { startedAt: now() } };
  return { terminated: { exitCode: exitCode ?? (state === "succeeded" ? 0 : 1), reason: reason ?? (state === "succeeded" ? "Completed" : "Error"), finishedAt: now() } };
}

/** A string param of a PipelineRun, or undefined. */
export function paramOf(pr: KubeObject, name: string): string | undefined {
  const params = (pr.spec?.["params"] ?? []) as { name: string; value: unknown }[];
  const v = params.find((p) => p.name === name)?.value;
  return typeof v === "string" ? v : undefined;
}
