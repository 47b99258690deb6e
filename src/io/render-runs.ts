/** Text for `runs`: one row per run, newest first. Pure: data in, text out. */
import type { ListedRun, ListedStatus, RunListing } from "../host/runs-lister.ts";
import { palette, type Palette } from "./color.ts";
import { formatDuration } from "./render-run.ts";

/** `2026-11-27 16:26:26Z` (UTC, seconds). */
function formatStarted(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function durationOf(run: ListedRun, now: Date): string {
  if (run.durationMs !== null) return formatDuration(run.durationMs);
  return run.status === "running" ? `${formatDuration(now.getTime() - Date.parse(run.startedAt))}+` : "-";
}

function colorOf(status: ListedStatus, p: Palette): (s: string) => string {
  if (status === "succeeded") return p.green;
  if (status === "running") return p.bold;
  return status === "failed" || status === "error" || status === "corrupt" ? p.red : p.yellow;
}

/** The `runs` table (color only on the status column), a line when there are none, a note when more exist. */
export function renderRuns(listing: RunListing, opts: { color: boolean; now: Date; limit: number }): string {
  if (listing.runs.length === 0) return listing.rootExists ? "no runs yet\n" : "no runs yet (the runs root does not exist)\n";
  const p = palette(opts.color);
  const rows = listing.runs.map((r) => [r.runId, r.status, formatStarted(r.startedAt), durationOf(r, opts.now), r.manifestCommit?.slice(0, 12) ?? "-", r.pipelineRun ?? "-"]);
  const head = ["RUN ID", "STATUS", "STARTED", "DURATION", "COMMIT", "PIPELINERUN"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], paint?: (s: string) => string) =>
    cells.map((c, i) => (i === 1 && paint ? paint(c.padEnd(widths[i]!)) : c.padEnd(widths[i]!))).join("  ").trimEnd() + "\n";
  let out = line(head);
  listing.runs.forEach((r, i) => (out += line(rows[i]!, colorOf(r.status, p))));
  if (listing.total > listing.runs.length) out += `(${listing.runs.length} of ${listing.total} runs; --limit N shows more, up to 500)\n`;
  return out;
}
