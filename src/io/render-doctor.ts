/** Text of a doctor report: one line per check (`ok`, `FAIL`, `skip`), its hint below, and a count. */
import { palette } from "./color.ts";

/** A check as rendered (the shape of `doctor --json`'s checks). */
export interface RenderedCheck {
  id: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

/** A failed check whose detail says it was not checked (an earlier check failed). */
const isSkipped = (c: RenderedCheck) => !c.ok && c.detail.startsWith("not checked");

/**
 * Aligned check lines (stdout) ending with `N checks: A ok, B failed, C not checked`; only the lines `from`
 * (those before were printed already), or only those before `to` and no count (the rest is still to come).
 */
export function renderDoctor(checks: readonly RenderedCheck[], opts: { color: boolean; from?: number; to?: number }): string {
  const p = palette(opts.color);
  const width = Math.max(...checks.map((c) => c.id.length)) + 2;
  const lines: string[] = [];
  for (const c of checks.slice(opts.from, opts.to)) {
    const state = c.ok ? p.green("ok  ") : isSkipped(c) ? p.yellow("skip") : p.red("FAIL");
    lines.push(`${state}  ${c.id.padEnd(width)}${c.detail}`);
    if (!c.ok && !isSkipped(c) && c.hint) lines.push(`${" ".repeat(6 + width)}${p.dim(`hint: ${c.hint}`)}`);
  }
  if (opts.to === undefined) {
    const passed = checks.filter((c) => c.ok).length;
    const skipped = checks.filter(isSkipped).length;
    const failed = checks.length - passed - skipped;
    const summary = `${checks.length} checks: ${passed} ok, ${failed} failed${skipped ? `, ${skipped} not checked` : ""}`;
    lines.push("", failed === 0 && skipped === 0 ? p.green(summary) : p.bold(summary));
  }
  return lines.map((l) => `${l.trimEnd()}\n`).join("");
}
