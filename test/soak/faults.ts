/**
 * The soak's fault injectors: each kind strikes the shared sandbox once and (for switches) is undone after
 * `forMs`. `apply` says whether the fault hit anything (a kill with no live target misses) and which runs it
 * spoiled: a run whose live process was killed, whose PipelineRun was cancelled from outside, or that was alive
 * at a reboot can no longer end `succeeded`. See docs/soak.md.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readdir, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { FaultKind, PlannedFault } from "./plan.ts";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one fault did. */
export interface FaultRecord {
  kind: FaultKind;
  /** The run it was drawn for. */
  runIndex: number;
  /** Something was there to hit (a live process, a running PipelineRun, a pod…); switches always hit. */
  hit: boolean;
  /** Run ids that can no longer end `succeeded` because of it. */
  spoiled: string[];
  from: number;
  to: number;
  detail: string;
  /** kill-launcher/kill-runner: the process struck was the one its pid file names (not a launcher still dispatching). */
  fromPidFile?: boolean;
}

/** What the injectors need besides the sandbox. */
export interface FaultContext {
  sb: Sandbox;
  /** The run ids of the run the fault was drawn for. */
  runIds: string[];
  /** Live CLI processes of that run (newest last). */
  liveClis(): { kill(signal: NodeJS.Signals): boolean; exitCode: number | null; signalCode: NodeJS.Signals | null }[];
  /** Run ids of every run in flight (for faults that hit the whole host). */
  liveRunIds(): string[];
  /** The tmpfs mounted on the runs root (disk-full fills it), or undefined when mount failed. */
  runsTmpfs: boolean;
}

const hasResult = (sb: Sandbox, id: string) => existsSync(join(sb.runsRoot, id, "result.json"));

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signals the launcher (its pid file, or the dispatch-time launcher bash) or the runner of the run's first live id. */
async function killHostProcess(ctx: FaultContext, which: "launcher" | "runner", signal: NodeJS.Signals): Promise<Omit<FaultRecord, "kind" | "runIndex" | "from" | "to">> {
  for (const id of ctx.runIds) {
    if (hasResult(ctx.sb, id)) continue;
    let pid = readPid(join(ctx.sb.runsRoot, id, `${which}.pid`));
    const fromPidFile = pid !== undefined;
    if (pid === undefined && which === "launcher") {
      // Still inside the dispatch call: the launcher bash names the run in its command line.
      pid = (await ctx.sb.d601.processes()).find((p) => p.cmdline.includes(`UCI_RUN_ID='${id}'`) || p.cmdline.includes(`UCI_RUN_ID=${id}`))?.pid;
    }
    // A launcher SIGKILLed while its runner runs spoils nothing: the runner goes on and its verdict stands.
    const spoils = which === "runner" || signal === "SIGTERM" || !existsSync(join(ctx.sb.runsRoot, id, "runner.pid"));
    if (pid !== undefined && tryKill(pid, signal)) return { hit: true, spoiled: spoils ? [id] : [], detail: `${signal} to the ${which} of ${id} (pid ${pid})`, fromPidFile };
  }
  return { hit: false, spoiled: [], detail: `no live ${which}` };
}

const prOf = (ctx: FaultContext, id: string) => ctx.sb.kube!.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${id}`);
const podsOf = (ctx: FaultContext) =>
  ctx.runIds.flatMap((id) => [
    ...ctx.sb.kube!.listObjects("v1", "pods", "unidesk-ci").filter((p) => p.metadata.name.startsWith(`e2e-${id}-`)),
    ...ctx.sb.kube!.listObjects("v1", "pods", `unidesk-ci-${id}`),
  ]);
const livePid = (ctx: FaultContext, file: string) => ctx.runIds.some((id) => !hasResult(ctx.sb, id) && readPid(join(ctx.sb.runsRoot, id, file)) !== undefined);

/** A reader D601 is running now (an open exec whose script prints a reader's record tag). */
function runningReader(ctx: FaultContext): { pid: number } | undefined {
  return ctx.sb.d601.execs.find((x) => x.durationMs === null && /unidesk-ci-(watch|status|logs|runs)/.test(x.command) && existsSync(`/proc/${x.pid}`));
}

/** What a targeted fault waits for before it strikes. */
const TARGETS: Partial<Record<FaultKind, (ctx: FaultContext) => boolean | Promise<boolean>>> = {
  "kill-runner": (ctx) => livePid(ctx, "runner.pid"),
  "kill-launcher": (ctx) => livePid(ctx, "launcher.pid"),
  "kill-reader": (ctx) => runningReader(ctx) !== undefined,
  "pod-deleted": (ctx) => podsOf(ctx).length > 0,
  "pr-cancelled": (ctx) => ctx.runIds.some((id) => (prOf(ctx, id)?.status?.["conditions"] as { status?: string }[] | undefined)?.[0]?.status === "Unknown"),
  "kube-drop-watch": (ctx) => ctx.sb.kube!.openWatches() > 0,
};

/** Removes everything inside `dir` (the dir stays). */
async function emptyDir(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, name), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/**
 * Applies one fault; resolves with its record once it is over (a switch after `forMs`, undone). Never throws:
 * an injector's own failure is part of the record's detail.
 */
export async function applyFault(f: PlannedFault, runIndex: number, ctx: FaultContext): Promise<FaultRecord> {
  const { sb } = ctx;
  // A targeted fault waits (up to 20 s) for its target to exist: a moment inside the run's life, not before it.
  const target = TARGETS[f.kind];
  if (target) {
    const until = Date.now() + 20_000;
    while (Date.now() < until && !(await target(ctx))) await sleep(50);
  }
  const from = Date.now();
  const kube = sb.kube!;
  /** A switch: on now, off after forMs. */
  const during = async (on: () => unknown, off: () => unknown, detail: string) => {
    await on();
    await sleep(f.forMs);
    await off();
    return { hit: true, spoiled: [] as string[], detail };
  };
  let r: Omit<FaultRecord, "kind" | "runIndex" | "from" | "to">;
  try {
    switch (f.kind) {
      case "kill-launcher":
        r = await killHostProcess(ctx, "launcher", f.signal);
        break;
      case "kill-runner":
        r = await killHostProcess(ctx, "runner", f.signal);
        break;
      case "kill-reader": {
        const reader = runningReader(ctx);
        r = reader && tryKill(reader.pid, f.signal) ? { hit: true, spoiled: [], detail: `${f.signal} to reader pid ${reader.pid}` } : { hit: false, spoiled: [], detail: "no reader running" };
        break;
      }
      case "kill-cli": {
        const cli = ctx.liveClis().filter((c) => c.exitCode === null && c.signalCode === null).at(-1);
        r = cli?.kill(f.signal) ? { hit: true, spoiled: [], detail: `${f.signal} to the CLI` } : { hit: false, spoiled: [], detail: "no CLI running" };
        break;
      }
      case "backend-down":
        r = await during(() => sb.backend.setFailure({ mode: "down" }), () => sb.backend.setFailure(null), `backend down ${f.forMs} ms`);
        break;
      case "backend-5xx":
        r = await during(() => sb.backend.setFailure({ mode: "server_error", status: f.variant > 0 ? 500 : 502 }), () => sb.backend.setFailure(null), `backend 5xx ${f.forMs} ms`);
        break;
      case "backend-401":
        r = await during(() => sb.backend.setFailure({ mode: "unauthorized" }), () => sb.backend.setFailure(null), `backend 401 ${f.forMs} ms`);
        break;
      case "backend-slow":
        r = await during(() => sb.backend.setFailure({ mode: "slow", delayMs: 1000 + f.forMs }), () => sb.backend.setFailure(null), `backend slow (${1000 + f.forMs} ms a call) for ${f.forMs} ms`);
        break;
      case "backend-garbage":
        r = await during(() => sb.backend.setFailure({ mode: "garbage" }), () => sb.backend.setFailure(null), `backend garbage ${f.forMs} ms`);
        break;
      case "backend-drop":
        r = await during(() => sb.backend.setFailure({ mode: "drop" }), () => sb.backend.setFailure(null), `backend drops answers ${f.forMs} ms`);
        break;
      case "proxy-down":
        r = await during(() => sb.proxy.stop(), () => sb.proxy.start(), `egress proxy down ${f.forMs} ms`);
        break;
      case "proxy-refusing":
        r = await during(() => sb.proxy.setRefusing(true), () => sb.proxy.setRefusing(false), `egress proxy refusing ${f.forMs} ms`);
        break;
      case "git-5xx":
        r = await during(() => sb.git.setFailure(f.variant > 0 ? 500 : 503), () => sb.git.setFailure(null), `git server 5xx ${f.forMs} ms`);
        break;
      case "kube-5xx":
        r = await during(() => kube.setApiFault({ status: f.variant }), () => kube.setApiFault(null), `kube API ${f.variant} ${f.forMs} ms`);
        break;
      case "kube-409":
        r = await during(() => kube.setApiFault({ status: 409, methods: ["POST", "PUT", "PATCH"] }), () => kube.setApiFault(null), `kube API 409 on writes ${f.forMs} ms`);
        break;
      case "kube-slow":
        r = await during(() => kube.setApiFault({ delayMs: 300 + f.forMs / 4 }), () => kube.setApiFault(null), `kube API slow (${300 + f.forMs / 4} ms a request) for ${f.forMs} ms`);
        break;
      case "kube-drop-watch": {
        // Every stream opened during the window is cut too (kubectl and the runner open new ones).
        let n = 0;
        for (const until = Date.now() + f.forMs; Date.now() < until; await sleep(100)) n += kube.dropWatches();
        r = { hit: n > 0, spoiled: [], detail: `dropped ${n} watch/log streams in ${f.forMs} ms` };
        break;
      }
      case "pod-deleted": {
        const pods = podsOf(ctx);
        const pod = pods[f.atMs % Math.max(pods.length, 1)];
        const gone = pod ? kube.deleteObject("v1", "pods", pod.metadata.namespace, pod.metadata.name) : false;
        r = { hit: gone, spoiled: [], detail: gone ? `deleted pod ${pod!.metadata.namespace}/${pod!.metadata.name}` : "no pod" };
        break;
      }
      case "pr-cancelled": {
        const id = ctx.runIds.find((i) => kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${i}`) && !hasResult(sb, i));
        const pr = id ? kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${id}`) : undefined;
        const running = (pr?.status?.["conditions"] as { status?: string }[] | undefined)?.[0]?.status === "Unknown";
        const done = id !== undefined && running && kube.cancelFromOutside("unidesk-ci", `e2e-${id}`);
        r = { hit: done, spoiled: done ? [id] : [], detail: done ? `PipelineRun e2e-${id} cancelled from outside` : "no running PipelineRun" };
        break;
      }
      case "disk-full": {
        if (!ctx.runsTmpfs) {
          r = { hit: false, spoiled: [], detail: "no tmpfs on the runs root (mount failed)" };
          break;
        }
        const fill = join(sb.runsRoot, ".soak-fill");
        r = await during(
          () => run("dd", ["if=/dev/zero", `of=${fill}`, "bs=64k"]).catch(() => undefined),
          () => rm(fill, { force: true }),
          `runs root full for ${f.forMs} ms`,
        );
        break;
      }
      case "clock-jump": {
        // The host clock is shared with other sessions and cannot move: shift the times of every file in the runs
        // root instead, which is what the runner, sweep and readers see after a jump of the clock the other way.
        const shiftS = -f.variant * 3 * 3600;
        const when = new Date(Date.now() + shiftS * 1000);
        let n = 0;
        for (const name of await readdir(sb.runsRoot).catch(() => [] as string[])) {
          for (const p of [join(sb.runsRoot, name), ...(await readdir(join(sb.runsRoot, name)).catch(() => [] as string[])).map((x) => join(sb.runsRoot, name, x))]) {
            await utimes(p, when, when).then(() => n++, () => undefined);
          }
        }
        r = { hit: n > 0, spoiled: [], detail: `clock jumped ${f.variant > 0 ? "forward" : "back"} 3 h (${n} file times shifted)` };
        break;
      }
      case "reboot": {
        // Spoiled: runs already on the host (a run dir) that had no result.json once everything was dead.
        const onHost = ctx.liveRunIds().filter((id) => existsSync(join(sb.runsRoot, id)));
        await sb.d601.killProcesses();
        const live = onHost.filter((id) => !hasResult(sb, id));
        await emptyDir(join(sb.d601Home, "tmp"));
        await emptyDir(join(sb.root, "d601", "tmp"));
        r = { hit: true, spoiled: live, detail: `reboot: every D601 process killed, /tmp emptied (runs live: ${live.join(", ") || "none"})` };
        break;
      }
    }
  } catch (err) {
    r = { hit: false, spoiled: [], detail: `injector failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { kind: f.kind, runIndex, ...r, from, to: Date.now() };
}

/** Every switch back to normal (between runs and at the end), whatever was left on. */
export async function clearAll(sb: Sandbox): Promise<void> {
  if (sb.backend.failure()) await sb.backend.setFailure(null);
  await sb.proxy.start().catch(() => undefined);
  sb.proxy.setRefusing(false);
  sb.git.setFailure(null);
  sb.kube?.setApiFault(null);
  await rm(join(sb.runsRoot, ".soak-fill"), { force: true });
}

/** A small tmpfs on the runs root (for disk-full); false when this host cannot mount. */
export async function mountRunsTmpfs(runsRoot: string, sizeMb: number): Promise<boolean> {
  try {
    await run("mkdir", ["-p", runsRoot]);
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeMb}m,mode=0755`, "tmpfs", runsRoot]);
    await writeFile(join(runsRoot, ".soak-probe"), "");
    await rm(join(runsRoot, ".soak-probe"));
    return true;
  } catch {
    return false;
  }
}

export async function unmountRunsTmpfs(runsRoot: string): Promise<void> {
  await run("umount", ["-l", runsRoot]).catch(() => undefined);
}
