/** The fixed cancel script (cancel.sh): its renderer and the parser of its answer (docs/readers.md). */
import { int, literal, minimum, minLength, nullable, object, regex, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { RESULT_MAX_BYTES } from "../rules.ts";
import template from "./cancel.sh";
import { decodeCount, decodeLiveness, decodeReference, decodeResultRecord, malformed, readerRecords } from "./records.ts";
import { judgeResult, resultStatusWord, type ResultVerdict } from "./result.ts";
import { fillRunTemplate } from "./template.ts";

/** The cancel script for one run (a run id, or `@latest` / `@latest-failed`, resolved on the host); throws a UsageError naming a bad field. */
export function renderCancel(settings: { runsRoot: string; runId: string }): string {
  return fillRunTemplate(template, "cancel.sh", settings, { RESULT_CAP_BYTES: String(RESULT_MAX_BYTES) });
}

const READER = "cancel script";

/** The cancel script's answer, as `cancel --json` prints it. */
export const cancelAnswerSchema = object({
  /** The run acted on: the id asked for, or the one `reference` resolved to. */
  runId: string().check(minLength(1)),
  /** `@latest` / `@latest-failed` when the run was named by one, else null. */
  reference: nullable(string()),
  outcome: literal(["absent", "finished", "signalled", "lost", "unproven"]),
  /** signalled: the process that got SIGTERM. */
  process: nullable(literal(["runner", "launcher"])),
  pid: nullable(int().check(minimum(1))),
  /** finished: what result.json says (judgeResult): its status, or `corrupt` / `mismatch`; lost: `lost`; unproven: `running`. */
  status: nullable(string().check(regex(/^[a-z]+$/))),
  /** Why: a corrupt or mismatched result.json, a lost run, or an unproven one (the liveness rule's words). */
  problem: nullable(string()),
});

/**
 * What the cancel script did: SIGTERM to the run's runner or launcher, or nothing: absent, finished, lost (no
 * result.json, nothing alive), unproven (alive as far as the liveness rule can tell, but no process proven its own).
 */
export type CancelAnswer = Infer<typeof cancelAnswerSchema>;

/** Parses the cancel script's stdout; throws DispatchError (exit 5) on a malformed answer. */
export function parseCancelOutput(stdout: string): CancelAnswer {
  const records = readerRecords(stdout, "unidesk-ci-cancel", READER);
  const [, outcome, ...rest] = records.find((r) => r[0] === "outcome") ?? [];
  const runId = records.find((r) => r[0] === "runid")?.[1];
  const ref = records.find((r) => r[0] === "ref");
  const reference = ref ? decodeReference(ref.slice(1), READER) : null;
  let verdict: ResultVerdict | null = null;
  let problem: string | null = null;
  if (outcome === "finished") {
    const record = records.find((r) => r[0] === "result");
    if (!record || !runId) throw malformed(READER, "a finished outcome without its 'result' or 'runid' line");
    verdict = judgeResult(decodeResultRecord(record.slice(1), READER) ?? { bytes: null, sizeBytes: 0 }, { runId });
    problem = verdict.resultProblem;
  } else if (outcome === "lost") {
    verdict = judgeResult(null, { runId: runId ?? "" }, decodeLiveness(["dead", ...rest], READER));
    problem = verdict.resultProblem;
  } else if (outcome === "unproven") {
    verdict = judgeResult(null, { runId: runId ?? "" });
    problem = `no process of it is proven its own, so nothing was signalled (${decodeLiveness(["live", ...rest], READER).why})`;
  }
  const checked = cancelAnswerSchema.safeParse({
    runId,
    reference,
    outcome,
    process: outcome === "signalled" ? rest[0] : null,
    pid: outcome === "signalled" ? decodeCount(rest[1], READER) : null,
    status: verdict ? resultStatusWord(verdict) : null,
    problem,
  });
  if (!checked.success) throw malformed(READER, checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return checked.data;
}
