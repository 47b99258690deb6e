/** The pipeline's tasks and the source of each log file, from progress.json (or taskruns.json). Data, never text. */
import type { RunProgress, TaskRunProgress } from "../host/progress.ts";
import { parseRunFileJson } from "../host/run-json.ts";

/** One pipeline task as the run last recorded it. */
export interface TaskState {
  task: string;
  /** pending: no TaskRun yet; skipped: none, and the PipelineRun is over. */
  state: "pending" | "running" | "succeeded" | "failed" | "cancelled" | "skipped";
  reason: string | null;
  /** The TaskRun's condition message (a failed step's `"step-x" exited with code 1`), null before it has one. */
  message: string | null;
  startTime: string | null;
  completionTime: string | null;
}

/** What the task states are computed from: progress.json, or its part rebuilt from taskruns.json. */
export type TaskSource = Pick<RunProgress, "tasks" | "taskRuns" | "pipelineRun">;

/** Every task in pipeline order (then any TaskRun of a task the pipeline did not list). */
export function taskStates(p: TaskSource): TaskState[] {
  const names = [...new Set([...p.tasks, ...p.taskRuns.map((t) => t.pipelineTask)])];
  const over = p.pipelineRun !== null && p.pipelineRun.status !== "Unknown";
  return names.map((task) => {
    const tr = p.taskRuns.find((t) => t.pipelineTask === task);
    if (!tr) return { task, state: over ? "skipped" : "pending", reason: null, message: null, startTime: null, completionTime: null };
    const state = tr.status === "Unknown" ? "running" : tr.status === "True" ? "succeeded" : /cancel/i.test(tr.reason) ? "cancelled" : "failed";
    return { task, state, reason: tr.reason || null, message: tr.message || null, startTime: tr.startTime ?? null, completionTime: tr.completionTime ?? null };
  });
}

/** The task part of progress.json rebuilt from taskruns.json (`kubectl get taskruns -o json`) of runs without progress.json; null when unusable. */
export function taskSourceFromTaskRuns(text: string): TaskSource | null {
  let items: unknown;
  try {
    items = (parseRunFileJson(text) as { items?: unknown }).items;
  } catch {
    return null;
  }
  if (!Array.isArray(items)) return null;
  type Item = { metadata?: { name?: string; labels?: Record<string, string> }; status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[]; startTime?: string; completionTime?: string; podName?: string } };
  const taskRuns: TaskRunProgress[] = (items as Item[]).map((i) => {
    const c = i.status?.conditions?.find((x) => x.type === "Succeeded");
    return {
      name: i.metadata?.name ?? "",
      pipelineTask: i.metadata?.labels?.["tekton.dev/pipelineTask"] ?? i.metadata?.name ?? "",
      status: c?.status ?? "Unknown",
      reason: c?.reason ?? "",
      message: c?.message ?? null,
      startTime: i.status?.startTime ?? null,
      completionTime: i.status?.completionTime ?? null,
      pod: i.status?.podName ?? null,
    };
  });
  taskRuns.sort((a, b) => (a.startTime ?? "").localeCompare(b.startTime ?? ""));
  return { tasks: [], taskRuns, pipelineRun: null };
}

/**
 * Where a watched file's lines come from: `launcher`, `runner`, `<task>/<step>` for a TaskRun's pod
 * (`pods/<pod>_<container>.log`, the `step-` prefix dropped), else `<pod>/<container>` (the smoke pod).
 */
export function logSource(path: string, p: Pick<RunProgress, "taskRuns"> | null): string {
  if (path === "launcher.log") return "launcher";
  if (path === "runner.log") return "runner";
  // Pod and container names are DNS labels (no `_`), so the first `_` parts them.
  const m = /^pods\/([^_]+)_(.+?)(\.log)?$/.exec(path);
  if (!m) return path;
  const [, pod, container] = m as unknown as [string, string, string];
  const task = p?.taskRuns.find((t) => t.pod === pod)?.pipelineTask;
  return task ? `${task}/${container.replace(/^step-/, "")}` : `${pod}/${container}`;
}

/** Whether a log source (`<task>/<step>`, `runner`, …) belongs to one of `tasks` (none given: every source does). */
export function ofTasks(source: string, tasks: readonly string[] | undefined): boolean {
  return !tasks?.length || tasks.some((t) => source.startsWith(`${t}/`));
}
