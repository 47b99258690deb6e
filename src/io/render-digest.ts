/** Text of the failure digest (src/runs/digest.ts) and of the changes since the last green run. Pure: data in, text out. */
import type { RunChanges } from "../runs/changes.ts";
import type { RunDigest } from "../runs/digest.ts";
import type { RunFailure } from "../host/result.ts";
import { palette } from "./color.ts";
import { formatDuration } from "./render-run.ts";

const short = (sha: string) => sha.slice(0, 7);

/** `✗ <task>/<step> exited <code>: <message>` (the parts it knows). */
export function failureHeadline(f: RunFailure): string {
  const where = f.step ? `${f.task}/${f.step}` : f.task;
  const how = f.exitCode !== null ? `exited ${f.exitCode}` : `failed (${f.reason || "Failed"})`;
  return `✗ ${where} ${how}${f.message ? `: ${f.message}` : ""}`;
}

/** The changes since the last green run, one line each (no trailing newline handling: every line ends with one). */
export function renderChanges(c: RunChanges, opts: { color: boolean }): string {
  const p = palette(opts.color);
  if (c.since === null) return "since the last green run: no earlier run succeeded\n";
  const commit = c.since.manifestCommit ? ` (commit ${c.since.manifestCommit.slice(0, 12)})` : "";
  const lines = [`since the last green run ${c.since.runId}${commit}:`];
  const { added, removed, changed } = c.services;
  for (const s of changed) lines.push(`  ${s.id}: ${short(s.from)} → ${short(s.to)}`);
  for (const s of added) lines.push(p.green(`  + ${s.id} ${short(s.commitId)}`));
  for (const s of removed) lines.push(p.red(`  - ${s.id} ${short(s.commitId)}`));
  if (!changed.length && !added.length && !removed.length) lines.push("  services: unchanged");
  if (c.commits?.length) {
    lines.push("  manifest commits:");
    for (const k of c.commits) lines.push(`    ${short(k.sha)} ${k.subject}`);
  }
  return lines.map((l) => l + "\n").join("");
}

/**
 * The digest: each failed step's headline and last lines, the tasks still running when it ended, the changes since
 * the last green run. "" when there is nothing to say. One render for `run-dev-e2e --wait-ms`/`--follow`, `logs` and
 * `logs --follow`.
 */
export function renderDigest(d: RunDigest, opts: { color: boolean; ended?: "timeout" | "cancelled" | "finished" }): string {
  const p = palette(opts.color);
  let out = "";
  for (const f of d.failures) {
    out += p.red(failureHeadline(f)) + "\n";
    if (f.tail.length) out += `  last lines of ${f.log ?? `${f.step ? `${f.task}/${f.step}` : f.task}'s log`}:\n`;
    for (const line of f.tail) out += p.dim("  │ ") + line + "\n";
  }
  for (const r of d.running) {
    const line = opts.ended === "timeout" ? `● ${r.task} still running after ${formatDuration(r.forMs)}` : `● ${r.task} was still running when the run ended (after ${formatDuration(r.forMs)})`;
    out += p.yellow(line) + "\n";
  }
  if (d.changes) out += renderChanges(d.changes, opts);
  return out;
}

/** `@latest-failed is run <id>` (stderr): the run a reference named. */
export function renderResolved(reference: string, runId: string): string {
  return `${reference} is run ${runId}\n`;
}
