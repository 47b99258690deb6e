/** Answers of the fixed host scripts in their line protocol (docs/readers.md), for stubbed dispatches. */
import type { RunResult } from "../../src/host/result.ts";

const b64 = (data: string | Uint8Array) => Buffer.from(data).toString("base64");

/** A valid result.json of `runId` (status succeeded unless overridden). */
export function testResult(runId: string, over: Partial<RunResult> = {}): RunResult {
  return {
    ok: (over.status ?? "succeeded") === "succeeded",
    status: "succeeded",
    runId,
    manifestCommit: "5a31b71c36f5840de90f6e62232e854c6634cbc8",
    pipelineRun: `e2e-${runId}`,
    temporaryNamespace: `unidesk-ci-${runId}`,
    finishedAt: "2026-11-27T16:28:32.000Z",
    ...over,
  };
}

/** What the cancel script prints after signalling the run's runner. */
export const signalledAnswer = (runId: string, pid = 4242) => `unidesk-ci-cancel\t1\nrunid\t${runId}\noutcome\tsignalled\trunner\t${pid}\nend\n`;

/** What the watch reader would print (docs/readers.md): the status, progress.json when given, each new chunk of a log. */
export function watchAnswer(
  runId: string,
  opts: {
    result?: RunResult | string | Uint8Array;
    pipelineRun?: string;
    /** false: the launcher's pid is dead (nothing alive: lost without a result.json). @default true */
    alive?: boolean;
    progress?: { version: string; json?: object };
    chunks?: { path: string; offset: number; data: string | Uint8Array; sizeBytes?: number }[];
    more?: boolean;
    waitedMs?: number;
  } = {},
): string {
  const raw = opts.result === undefined ? undefined : typeof opts.result === "string" || opts.result instanceof Uint8Array ? opts.result : JSON.stringify(opts.result);
  const p = opts.progress;
  const progress = !p ? "progress\t-\t0\t-" : p.json ? `progress\t${p.version}\t${JSON.stringify(p.json).length}\tb64:${b64(JSON.stringify(p.json))}` : `progress\t${p.version}\t0\tsame`;
  const chunks = opts.chunks ?? [];
  const kept = chunks.reduce((n, c) => n + Buffer.byteLength(c.data), 0);
  return [
    "unidesk-ci-watch\t1",
    `runid\t${runId}`,
    "run\tpresent",
    `launcher\t4242\t${opts.alive === false ? "dead" : "alive"}`,
    "runner\t-\tnone",
    opts.alive === false ? "liveness\tdead\tlauncher.pid 4242 is another program" : "liveness\tlive\tlauncher.pid 4242 runs it",
    `pipelinerun\t${opts.pipelineRun ? `b64:${b64(opts.pipelineRun)}` : "-"}`,
    `result\t${raw === undefined ? "-\t0" : `b64:${b64(raw)}\t${Buffer.byteLength(raw)}`}`,
    progress,
    ...chunks.map((c) => `file\t${c.path}\t${c.offset}\t${c.sizeBytes ?? c.offset + Buffer.byteLength(c.data)}\tb64:${b64(c.data)}`),
    `waited\t${opts.waitedMs ?? 0}`,
    `end\t${chunks.length}\t${kept}\t${opts.more ? 1 : 0}`,
    "",
  ].join("\n");
}

/** A progress.json of `runId` with these tasks (pipeline order) and TaskRuns (`[task, status, reason]`). */
export function testProgress(runId: string, tasks: string[], runs: [string, string, string][], prStatus = "Unknown"): object {
  return {
    updatedAt: "2026-11-27T16:27:00.000Z",
    runId,
    pipelineRun: { name: `e2e-${runId}`, status: prStatus, reason: prStatus === "Unknown" ? "Running" : "Succeeded", message: null, startTime: "2026-11-27T16:26:30Z", completionTime: null },
    tasks,
    taskRuns: runs.map(([task, status, reason], i) => ({
      name: `e2e-${runId}-${task}`,
      pipelineTask: task,
      status,
      reason,
      message: null,
      startTime: `2026-11-27T16:26:${String(31 + i * 5).padStart(2, "0")}Z`,
      completionTime: status === "Unknown" ? null : `2026-11-27T16:26:${String(33 + i * 5).padStart(2, "0")}Z`,
      pod: `e2e-${runId}-${task}-pod`,
    })),
    pods: [],
  };
}
