/** Text for `runs`: one row per run, newest first. Pure: data in, text out. */
import type { ListedRun, ListedStatus, RunListing } from "../host/runs-lister.ts";
import { palette, type Palette } from "./color.ts";
import { formatDuration } from "./render-run.ts";
import { countServiceChanges, type RunChanges } from "../runs/changes.ts";

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

/** The CHANGED cell: `id: old → new` (short commits) for one changed service, `N services` for several, `-` for none, `?` unknown. */
export function changedCell(changes: RunChanges | null): string {
  if (changes === null) return "?";
  const n = countServiceChanges(changes.services);
  if (n === 0) return "-";
  if (n > 1) return `${n} services`;
  const { added, removed, changed } = changes.services;
  if (changed[0]) return `${changed[0].id}: ${changed[0].from.slice(0, 7)} → ${changed[0].to.slice(0, 7)}`;
  return added[0] ? `+${added[0].id}` : `-${removed[0]!.id}`;
}

/** The `runs` table (color only on the status column), a line when there are none, a note when more exist. */
export function renderRuns(listing: RunListing, opts: { color: boolean; now: Date; limit: number; status?: string }): string {
  if (listing.runs.length === 0) {
    if (opts.status !== undefined) return `no ${opts.status} runs on the host\n`;
    return listing.rootExists ? "no runs yet\n" : "no runs yet (the runs root does not exist)\n";
  }
  const p = palette(opts.color);
  const rows = listing.runs.map((r) => [r.runId, r.status, formatStarted(r.startedAt), durationOf(r, opts.now), r.manifestCommit?.slice(0, 12) ?? "-", r.pipelineRun ?? "-", changedCell(r.changes)]);
  const head = ["RUN ID", "STATUS", "STARTED", "DURATION", "COMMIT", "PIPELINERUN", "CHANGED"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], paint?: (s: string) => string) =>
    cells.map((c, i) => (i === 1 && paint ? paint(c.padEnd(widths[i]!)) : c.padEnd(widths[i]!))).join("  ").trimEnd() + "\n";
  let out = line(head);
  listing.runs.forEach((r, i) => (out += line(rows[i]!, colorOf(r.status, p))));
  if (opts.status !== undefined) out += `(${listing.runs.length} ${opts.status} run(s) of ${listing.total} on the host)\n`;
  else if (listing.total > listing.runs.length) out += `(${listing.runs.length} of ${listing.total} runs; --limit N shows more, up to 500)\n`;
  return out;
}
