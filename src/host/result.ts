/** `result.json`: the schema of the file that ends every run (docs/runner.md), and its parser. */
import { boolean, int, iso, looseObject, minimum, nullable, optional, regex, string, enum as zenum, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { FULL_SHA } from "../rules.ts";

/** Final statuses a run can end in (docs/runner.md). */
export const RUN_STATUSES = ["succeeded", "failed", "timeout", "cancelled", "error", "lost"] as const;

/** `result.json`, written last by the runner (or by the launcher when it fails first). */
export const resultSchema = looseObject({
  ok: boolean(),
  status: zenum(RUN_STATUSES),
  runId: string(),
  manifestCommit: string().check(regex(FULL_SHA)),
  pipelineRun: nullable(string()),
  temporaryNamespace: nullable(string()),
  finishedAt: iso.datetime({ offset: true }),
  startedAt: optional(iso.datetime({ offset: true })),
  durationMs: optional(int().check(minimum(0))),
  reason: optional(string()),
});

/** A parsed result.json. */
export type RunResult = Infer<typeof resultSchema>;

/** Parses result.json text against resultSchema: the result, or why it is unusable. */
export function checkResultJson(text: string): { result: RunResult | null; resultProblem: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { result: null, resultProblem: "result.json is not valid JSON" };
  }
  const parsed = resultSchema.safeParse(json);
  if (!parsed.success) {
    return { result: null, resultProblem: `result.json does not match the result schema: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}` };
  }
  return { result: parsed.data, resultProblem: null };
}
