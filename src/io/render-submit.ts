/** Text for a submitted (or dry-run) launch. */
import { keyValueLines, palette } from "./color.ts";

/** What `run-dev-e2e` knows after submitting. */
export interface SubmitSummary {
  runId: string;
  manifestCommit: string;
  resultDir: string;
  providerId: string;
  state: "started" | "duplicate";
}

/** Key/value lines for a submitted run plus the next commands (stdout, pipe-friendly). */
export function renderSubmitted(s: SubmitSummary, next: readonly string[], opts: { color: boolean }): string {
  const p = palette(opts.color);
  const state = s.state === "started" ? p.green("started") : p.yellow("already existed (nothing new started)");
  return (
    keyValueLines([
      ["runId", p.bold(s.runId)],
      ["state", state],
      ["host", s.providerId],
      ["commit", s.manifestCommit],
      ["resultDir", s.resultDir],
    ]) +
    "next:\n" +
    next.map((c) => `  ${c}\n`).join("")
  );
}
