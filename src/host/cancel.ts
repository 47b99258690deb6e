/** The fixed cancel script (cancel.sh): its renderer and the parser of its answer (docs/readers.md). */
import { int, literal, minimum, minLength, nullable, object, regex, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { RESULT_MAX_BYTES } from "../rules.ts";
import template from "./cancel.sh";
import { decodeCount, decodeResultRecord, malformed, readerRecords, withResultRecord } from "./records.ts";
import { judgeResult, resultStatusWord } from "./result.ts";
import { fillRunTemplate } from "./template.ts";

/** The cancel script for one run; throws a UsageError naming a bad field. */
export function renderCancel(settings: { runsRoot: string; runId: string }): string {
  return fillRunTemplate(withResultRecord(template, "cancel.sh"), "cancel.sh", settings, { RESULT_CAP_BYTES: String(RESULT_MAX_BYTES) });
}

const READER = "cancel script";

/** The cancel script's answer, as `cancel --json` prints it. */
export const cancelAnswerSchema = object({
  runId: string().check(minLength(1)),
  outcome: literal(["absent", "finished", "signalled", "stale"]),
  /** signalled: the process that got SIGTERM. */
  process: nullable(literal(["runner", "launcher"])),
  pid: nullable(int().check(minimum(1))),
  /** finished: what result.json says (judgeResult): its status, or `corrupt` / `mismatch`. */
  status: nullable(string().check(regex(/^[a-z]+$/))),
  /** finished with a corrupt or mismatched result.json: why. */
  problem: nullable(string()),
});

/** What the cancel script did: nothing (absent, finished, stale) or SIGTERM to the run's runner or launcher. */
export type CancelAnswer = Infer<typeof cancelAnswerSchema>;

/** Parses the cancel script's stdout; throws DispatchError (exit 5) on a malformed answer. */
export function parseCancelOutput(stdout: string): CancelAnswer {
  const records = readerRecords(stdout, "unidesk-ci-cancel", READER);
  const [, outcome, a, b] = records.find((r) => r[0] === "outcome") ?? [];
  const runId = records.find((r) => r[0] === "runid")?.[1];
  let verdict = null;
  if (outcome === "finished") {
    const record = records.find((r) => r[0] === "result");
    if (!record || !runId) throw malformed(READER, "a finished outcome without its 'result' or 'runid' line");
    verdict = judgeResult(decodeResultRecord(record.slice(1), READER) ?? { bytes: null, sizeBytes: 0 }, { runId });
  }
  const checked = cancelAnswerSchema.safeParse({
    runId,
    outcome,
    process: outcome === "signalled" ? a : null,
    pid: outcome === "signalled" ? decodeCount(b, READER) : null,
    status: verdict ? resultStatusWord(verdict) : null,
    problem: verdict?.resultProblem ?? null,
  });
  if (!checked.success) throw malformed(READER, checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return checked.data;
}
