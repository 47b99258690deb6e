/** Text of a validation report. */
import type { CiDeclaration } from "../manifest/schema.ts";

/** What `validate` found. */
export interface ValidationReport {
  ok: boolean;
  source: string;
  issues: { path: string; message: string }[];
  ci?: CiDeclaration;
  services?: string[];
}

/** `ok: <source>` with a summary, or one `path: message` line per issue. */
export function renderValidation(r: ValidationReport): string {
  if (!r.ok) return r.issues.map((i) => `${i.path}: ${i.message}\n`).join("");
  const lines = [`ok: ${r.source}`];
  if (r.ci) lines.push(`  ci: ${r.ci.scriptPath} from ${r.ci.repo}, timeout ${r.ci.timeoutMs} ms`);
  if (r.services) lines.push(`  services: ${r.services.length === 0 ? "(none)" : r.services.join(", ")}`);
  return lines.join("\n") + "\n";
}
