/** The fixed cancel script (cancel.sh): its renderer and the parser of its answer (docs/readers.md). */
import { int, literal, minimum, minLength, nullable, object, regex, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import template from "./cancel.sh";
import { decodeCount, malformed, readerRecords } from "./records.ts";
import { fillRunTemplate } from "./template.ts";

/** The cancel script for one run; throws a UsageError naming a bad field. */
export function renderCancel(settings: { runsRoot: string; runId: string }): string {
  return fillRunTemplate(template, "cancel.sh", settings);
}

const READER = "cancel script";

/** The cancel script's answer, as `cancel --json` prints it. */
export const cancelAnswerSchema = object({
  runId: string().check(minLength(1)),
  outcome: literal(["absent", "finished", "signalled", "stale"]),
  /** signalled: the process that got SIGTERM. */
  process: nullable(literal(["runner", "launcher"])),
  pid: nullable(int().check(minimum(1))),
  /** finished: result.json's status, when it could be read. */
  status: nullable(string().check(regex(/^[a-z]+$/))),
});

/** What the cancel script did: nothing (absent, finished, stale) or SIGTERM to the run's runner or launcher. */
export type CancelAnswer = Infer<typeof cancelAnswerSchema>;

/** Parses the cancel script's stdout; throws DispatchError (exit 5) on a malformed answer. */
export function parseCancelOutput(stdout: string): CancelAnswer {
  const records = readerRecords(stdout, "unidesk-ci-cancel", READER);
  const [, outcome, a, b] = records.find((r) => r[0] === "outcome") ?? [];
  const checked = cancelAnswerSchema.safeParse({
    runId: records.find((r) => r[0] === "runid")?.[1],
    outcome,
    process: outcome === "signalled" ? a : null,
    pid: outcome === "signalled" ? decodeCount(b, READER) : null,
    status: outcome === "finished" && a !== "-" ? a : null,
  });
  if (!checked.success) throw malformed(READER, checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return checked.data;
}
