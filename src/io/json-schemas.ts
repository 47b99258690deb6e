/**
 * zod schemas of every `--json` document the CLI prints (docs/json.md), and the JSON Schemas `unidesk-ci schema
 * <name>` prints, generated from them by the build (build/build.ts). The bundle imports only the types: the
 * writer (io/json.ts) is typed by them, the tests validate every document the e2e suite sees against them.
 */
import { array, boolean, int, literal, looseObject, minimum, nullable, object, optional, registry, string, toJSONSchema, union, enum as zenum, type infer as Infer, type ZodMiniOptional, type ZodMiniType } from "zod/mini";
import "../zod-locale.ts";
import { ERROR_CODES } from "../errors.ts";
import { failureSchema, RUN_STATUSES, resultSchema } from "../host/result.ts";
import { changesSchema } from "../runs/changes.ts";
import { cancelAnswerSchema } from "../host/cancel.ts";
import { launchStateSchema } from "../runs/submit.ts";
import { dispatchRequestSchema } from "../dispatch/wire.ts";
import { ciSchema } from "../manifest/schema.ts";
import { generateManifestJsonSchema } from "../manifest/json-schema.ts";

/**
 * Builds every schema. Everything is built inside functions, never at module level: the bundle imports this module
 * only in the dead branch of cli/schema.ts, and esbuild drops a module only when its top level has no calls.
 */
function buildSchemas() {
  const count = () => int().check(minimum(0));

  /** `error` of every failure document: `exitCode` is the process's exit code. */
  const errorBody = object({ code: zenum(ERROR_CODES), message: string(), hint: optional(string()), exitCode: int() });

  /** A failure of one command: the error plus the context fields that command documents (all optional). */
  const failureOf = <T extends Record<string, ZodMiniType>>(context: T) => {
    const fields = {} as { [K in keyof T]: ZodMiniOptional<T[K]> };
    for (const key in context) fields[key] = optional(context[key]!) as ZodMiniOptional<T[typeof key]>;
    return object({ ok: literal(false), error: errorBody, ...fields });
  };

  /** Where a run is and what it proves: the fields of every run-dev-e2e document. */
  const runPlan = { runId: string(), manifestCommit: string(), resultDir: string(), providerId: string(), scriptPath: string(), timeoutMs: int() };
  /** What the wait saw: its end (result.json) or its last poll. */
  const waitFields = { result: resultSchema, waitedMs: count(), polls: count() };
  const lastPoll = { phase: zenum(["missing", "starting", "running", "finished"]), pipelineRun: nullable(string()) };
  const state = launchStateSchema.shape.state;
  /** A result.json that ends the wait but is no verdict: `status` says which, `resultProblem` why (`result` is null). */
  const unusableResult = { status: zenum(["corrupt", "mismatch", "lost"]), resultProblem: string() };
  const cancelAnswer = cancelAnswerSchema.shape;
  /** The failure digest of a run that did not succeed (docs/json.md#the-failure-digest). */
  const digestFields = { failures: array(failureSchema), running: array(object({ task: string(), forMs: count() })), changes: nullable(changesSchema) };
  const issue = object({ path: string(), message: string() });
  const check = object({ id: string(), ok: boolean(), detail: string(), hint: optional(string()) });

  return {
    errorBody,
    /** Any command's failure: `ok: false`, the error, and the command's context fields beside them. */
    error: looseObject({ ok: literal(false), error: errorBody }),
    /** `run-dev-e2e --json`: dry run, submitted, waited (ok), or a failure naming the run once its id exists. */
    "run-dev-e2e": union([
      object({ ok: literal(true), dryRun: literal(true), ...runPlan, launcher: string(), request: object({ method: literal("POST"), url: nullable(string()), headers: looseObject({}), body: dispatchRequestSchema }) }),
      object({ ok: literal(true), ...runPlan, state, next: array(string()) }),
      object({ ok: literal(true), ...runPlan, state, ...waitFields }),
      failureOf({ ...runPlan, runMayHaveStarted: boolean(), state, ...waitFields, result: nullable(resultSchema), ...unusableResult, ...lastPoll, ...digestFields }),
    ]),
    /** `logs <runId> --json`. */
    logs: union([
      object({
        ok: literal(true),
        runId: string(),
        /** `@latest` / `@latest-failed` when the run was named by one (runId is the run it resolved to), else null. */
        reference: nullable(string()),
        /** The failed steps (result.json's failures, else the failed TaskRuns'), each with its last lines; [] for a run that did not fail. */
        failures: array(failureSchema),
        /** A run that ended without succeeding: what changed since the last green run; else null. */
        changes: nullable(changesSchema),
        status: union([zenum(["running", "corrupt", "mismatch"]), zenum(RUN_STATUSES)]),
        result: nullable(resultSchema),
        resultProblem: nullable(string()),
        files: array(object({ path: string(), sizeBytes: count(), keptBytes: count(), truncated: boolean(), unreadable: boolean(), encoding: zenum(["utf8", "base64"]), content: string() })),
        omittedFiles: count(),
        omittedAtLeast: boolean(),
        keptBytes: count(),
        fileCapBytes: count(),
        totalCapBytes: count(),
        maxFiles: count(),
      }),
      failureOf({}),
    ]),
    /**
     * `logs <runId> --follow --json` and `run-dev-e2e --follow --json`: NDJSON, one event per line. The last line is
     * the `result` event: `ok: true` when the run succeeded, else a failure document (every failure's, `event` beside).
     */
    follow: union([
      object({ event: literal("submitted"), ...runPlan, state }),
      object({ event: literal("status"), phase: zenum(["missing", "starting", "running", "finished", "corrupt", "mismatch", "lost"]), pipelineRun: nullable(string()), alive: nullable(boolean()), elapsedMs: count() }),
      object({
        event: literal("task"),
        task: string(),
        state: zenum(["pending", "running", "succeeded", "failed", "cancelled", "skipped"]),
        reason: nullable(string()),
        /** The TaskRun's message: a failed step's `"step-x" exited with code 1`. Absent from CLIs before it. */
        message: optional(nullable(string())),
        startTime: nullable(string()),
        completionTime: nullable(string()),
        elapsedMs: count(),
      }),
      object({ event: literal("resolved"), reference: string(), runId: string() }),
      object({ event: literal("line"), source: string(), path: string(), encoding: zenum(["utf8", "base64"]), content: string(), eol: boolean() }),
      object({ ok: literal(true), event: literal("result"), runId: string(), state: optional(state), ...waitFields }),
      failureOf({ event: literal("result"), ...runPlan, runMayHaveStarted: boolean(), state, ...waitFields, result: nullable(resultSchema), ...unusableResult, ...lastPoll, ...digestFields }),
    ]),
    /** `cancel <runId> --json`: what the cancel script did, then (with --wait-ms) the result. */
    // The wider member first: a union takes the first that parses, and objects drop unknown keys, so the plain
    // answer would swallow a --wait-ms document and lose result/waitedMs/polls (found by the soak).
    cancel: union([
      object({ ok: literal(true), ...cancelAnswer, ...waitFields }),
      object({ ok: literal(true), ...cancelAnswer }),
      failureOf({ ...cancelAnswer, ...waitFields, result: nullable(resultSchema), resultProblem: string(), ...lastPoll, ...digestFields }),
    ]),
    /** `doctor --json`: every check in order; a failure adds the error of the first failed check's kind. */
    doctor: union([object({ ok: literal(true), checks: array(check) }), failureOf({ checks: array(check) })]),
    /** `runs --json`: the newest runs first, and how many run directories the host holds. */
    runs: union([
      object({
        ok: literal(true),
        runs: array(object({
          runId: string(),
          status: union([zenum(["running", "corrupt"]), zenum(RUN_STATUSES)]),
          manifestCommit: nullable(string()),
          startedAt: string(),
          finishedAt: nullable(string()),
          durationMs: nullable(count()),
          pipelineRun: nullable(string()),
          reason: nullable(string()),
          /** The services changed against the run before it (`since`: that run, `commits` null); null when unknown. */
          changes: nullable(changesSchema),
        })),
        total: count(),
      }),
      failureOf({}),
    ]),
    /** `report <runId> --json`: the run's status and each file written (`bytes` of UTF-8). */
    report: union([
      object({
        ok: literal(true),
        runId: string(),
        reference: nullable(string()),
        status: union([zenum(["running", "corrupt", "mismatch"]), zenum(RUN_STATUSES)]),
        written: array(object({ format: zenum(["junit", "markdown", "html"]), path: string(), bytes: count() })),
      }),
      failureOf({}),
    ]),
    /** `validate --json`: the report, ok or with every issue. */
    validate: union([object({ ok: literal(true), source: string(), issues: array(issue), ci: ciSchema, services: array(string()) }), failureOf({ source: string(), issues: array(issue) })]),
    /** `schema --list --json`: the names `schema <name>` accepts. */
    schema: union([object({ ok: literal(true), schemas: array(object({ name: string(), title: string() })) }), failureOf({})]),
    /** `--version --json`. */
    version: object({ ok: literal(true), version: string(), line: string() }),
    /** `completions <shell> --json`. */
    completions: union([object({ ok: literal(true), shell: zenum(["bash", "zsh", "fish"]), script: string() }), failureOf({})]),
    /** `--help --json` (any command's help): the help text as `--help` prints it, no color. */
    help: union([object({ ok: literal(true), command: nullable(string()), help: string() }), failureOf({})]),
  };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;

/** The zod schemas of the documents, by name (built on first use). */
export function documentSchemas(): Schemas {
  return (built ??= buildSchemas());
}

/** A document printed for a failure: `ok: false`, `error`, and the command's context fields. */
export type ErrorDocument = Infer<Schemas["error"]>;
/** A run-dev-e2e document. */
export type RunDevE2eDocument = Infer<Schemas["run-dev-e2e"]>;
/** A logs document: the report (`ok: true`) or a failure. */
export type LogsDocument = Infer<Schemas["logs"]>;
/** The logs report. */
export type LogsReport = Extract<LogsDocument, { ok: true }>;
/** One line of `--follow --json`. */
export type FollowDocument = Infer<Schemas["follow"]>;
/** A cancel document. */
export type CancelDocument = Infer<Schemas["cancel"]>;
/** A validate document. */
export type ValidateDocument = Infer<Schemas["validate"]>;

/** Every document the CLI prints with `--json` (the writer accepts nothing else). */
export type JsonDocument = { [K in Exclude<keyof Schemas, "errorBody">]: Infer<Schemas[K]> }[Exclude<keyof Schemas, "errorBody">];

/** The title of each name `unidesk-ci schema <name>` takes besides `deploy`, in the order `--list` shows them. */
export const DOCUMENT_TITLES: Record<Exclude<keyof Schemas, "errorBody"> | "result", string> = {
  result: "result.json, written last by the runner (or the launcher) in a run's result directory",
  error: "any command's --json failure: { ok: false, error: { code, message, hint?, exitCode }, …context }",
  "run-dev-e2e": "run-dev-e2e --json (dry run, submitted, waited, or failed)",
  logs: "logs <runId> --json",
  follow: "logs <runId> --follow --json and run-dev-e2e --follow --json: NDJSON, one event per line, the result (or failure) last",
  cancel: "cancel <runId> --json (with or without --wait-ms)",
  doctor: "doctor --json",
  runs: "runs --json (newest first)",
  report: "report <runId> --json (the files written; the reports themselves go to files)",
  validate: "validate --json",
  schema: "schema --list --json",
  version: "--version --json",
  completions: "completions <shell> --json",
  help: "--help --json (of the overview or of one command)",
};

/** Base of the `$id` of every generated schema. */
const ID_BASE = "https://github.com/pikasTech/unidesk/unidesk-ci";

/** Drops what says nothing: the safe-integer bounds of every integer, the regex zod spells out beside `format: date-time`. */
function compact(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compact);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if ((key === "maximum" && value === Number.MAX_SAFE_INTEGER) || (key === "minimum" && value === Number.MIN_SAFE_INTEGER)) continue;
    if (key === "pattern" && (node as { format?: unknown }).format === "date-time") continue;
    out[key] = compact(value);
  }
  return out;
}

/** The JSON Schema of every name `unidesk-ci schema <name>` takes, `deploy` first (run once by the build). */
export function generateJsonSchemas(): Record<string, Record<string, unknown>> {
  const schemas = documentSchemas();
  // Parts used by several documents, written once under `$defs` in each JSON Schema.
  const shared = registry<{ id: string }>().add(resultSchema, { id: "result" }).add(schemas.errorBody, { id: "error" });
  const out: Record<string, Record<string, unknown>> = { deploy: generateManifestJsonSchema() };
  for (const [name, title] of Object.entries(DOCUMENT_TITLES)) {
    const schema = name === "result" ? resultSchema : schemas[name as keyof typeof DOCUMENT_TITLES & keyof Schemas];
    // io "input": objects stay open (no additionalProperties: false), so a field added later breaks no caller.
    const generated = toJSONSchema(schema, { io: "input", unrepresentable: "any", metadata: shared });
    out[name] = { $id: `${ID_BASE}/${name}.schema.json`, title, ...(compact(generated) as Record<string, unknown>) };
  }
  return out;
}
