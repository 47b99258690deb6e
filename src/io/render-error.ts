/** The human report of a failure (stderr): `error:`, `hint:`, and for a run that may exist how to follow or cancel it. */
import type { Failure } from "../errors.ts";

/** `error: <message>`, `hint: <hint>`, then the run's lines when the failure names one (docs/json.md#runs-nobody-can-find). */
export function renderFailure(f: Failure): string {
  const lines = [`error: ${f.detail ?? f.message}`];
  if (f.hint) lines.push(`hint: ${f.hint}`);
  const { runId, resultDir, runMayHaveStarted } = f.context;
  if (typeof runId === "string" && typeof runMayHaveStarted === "boolean") {
    if (!runMayHaveStarted) lines.push(`run ${runId} was not started`);
    else {
      // Before the launcher answered, nobody knows whether it got there; after, the run is known to exist.
      if (f.context.state === undefined) lines.push(`run ${runId} may have started on the host${typeof resultDir === "string" ? ` (result directory ${resultDir})` : ""}`);
      for (const line of [`follow it with: unidesk-ci logs ${runId}`, `cancel it with: unidesk-ci cancel ${runId}`]) if (!f.hint?.includes(line)) lines.push(line);
    }
  }
  return lines.join("\n") + "\n";
}
