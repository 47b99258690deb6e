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

/**
 * What the status reader would print for a run; `result` is an object (as JSON), raw text or bytes, or absent;
 * `lost` makes nothing of it alive (its launcher.pid names a reused pid).
 */
export function statusAnswer(runId: string, opts: { result?: RunResult | string | Uint8Array; pipelineRun?: string; lost?: boolean } = {}): string {
  const raw = opts.result === undefined ? undefined : typeof opts.result === "string" || opts.result instanceof Uint8Array ? opts.result : JSON.stringify(opts.result);
  const size = raw === undefined ? 0 : Buffer.byteLength(raw);
  return [
    "unidesk-ci-status\t1",
    `runid\t${runId}`,
    "run\tpresent",
    `launcher\t4242\t${opts.lost ? "dead" : "alive"}`,
    "runner\t-\tnone",
    opts.lost ? "liveness\tdead\tlauncher.pid 4242 is another program" : "liveness\tlive\tlauncher.pid 4242 runs it",
    `pipelinerun\t${opts.pipelineRun ? `b64:${b64(opts.pipelineRun)}` : "-"}`,
    `result\t${raw === undefined ? "-" : `b64:${b64(raw)}`}\t${size}`,
    "launcherlog\t-",
    "runnerlog\t-",
    "end",
    "",
  ].join("\n");
}

/** What the cancel script prints after signalling the run's runner. */
export const signalledAnswer = (runId: string, pid = 4242) => `unidesk-ci-cancel\t1\nrunid\t${runId}\noutcome\tsignalled\trunner\t${pid}\nend\n`;
