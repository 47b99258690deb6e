/** Expected failures and the exit-code contract (docs/exit-codes.md). */

/** Exit codes, the contract with calling scripts. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  waitTimeout: 3,
  auth: 4,
  unreachable: 5,
  interrupted: 130,
  /** stdout or stderr was closed by the reader (`| head`): 128 + SIGPIPE, as a Unix tool killed by it. */
  closedOutput: 141,
} as const;

/** Every `error.code` of a `--json` error document (docs/json.md). */
export const ERROR_CODES = ["usage", "manifest", "run_failed", "check_failed", "wait_timeout", "auth", "config", "dispatch", "interrupted", "internal"] as const;

/** A machine-readable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Fields an error adds to its `--json` document beside `ok` and `error` (docs/json.md), e.g. the run it is
 * about: `{ runId, resultDir, runMayHaveStarted }`. The reporter in cli/program.ts spreads them in.
 */
export type ErrorContext = Readonly<Record<string, unknown>>;

/** Options every CliError accepts. */
export interface CliErrorOptions {
  /** A line telling the operator how to fix it. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
  /** The command already printed its human report (stderr stays quiet); with `--json` the error document is printed all the same. */
  silent?: boolean;
  /** Fields for the `--json` error document. */
  context?: ErrorContext;
}

/** Base of every expected failure: carries its exit code and a machine-readable code. */
export abstract class CliError extends Error {
  abstract readonly exitCode: number;
  /** Stable machine-readable error code for `--json` output. */
  abstract readonly code: ErrorCode;
  readonly hint?: string;
  readonly silent: boolean;
  /** Fields for the `--json` error document; {@link withContext} adds more on the way up. */
  context: ErrorContext;
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
    this.silent = options.silent ?? false;
    this.context = options.context ?? {};
    this.name = new.target.name;
  }
}

/**
 * Adds `context` under what `error` already carries (its own fields win) and returns it: how a caller that knows
 * more (the run id, the result directory) tells the reporter. Works on unexpected errors too, so a bug's
 * document still names the run.
 */
export function withContext<E>(error: E, context: ErrorContext): E {
  if (typeof error === "object" && error !== null) {
    const own = (error as { context?: ErrorContext }).context;
    Object.assign(error, { context: { ...context, ...own } });
  }
  return error;
}

/** An error reduced to what the reporter prints: human lines or the `--json` error document, and the exit code. */
export interface Failure {
  code: ErrorCode;
  message: string;
  hint?: string;
  exitCode: number;
  context: ErrorContext;
  /** The human report was already printed. */
  silent: boolean;
  /** The human message when it says more than `message` (a bug: with its stack). */
  detail?: string;
}

/** Maps any thrown value to its code, message and exit code (the table in docs/exit-codes.md). */
export function toFailure(error: unknown, interrupted: boolean): Failure {
  const context = (typeof error === "object" && error !== null ? (error as { context?: ErrorContext }).context : undefined) ?? {};
  if (error instanceof CliError) {
    return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode, context, silent: error.silent };
  }
  if (interrupted) return { code: "interrupted", message: "interrupted", exitCode: ExitCode.interrupted, context, silent: false };
  const bug = "unexpected failure (a bug in unidesk-ci)";
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: "internal", message: `${bug}: ${message}`, detail: `${bug}: ${stack}`, hint: "please report it with the command you ran", exitCode: ExitCode.runFailed, context, silent: false };
}

/** Bad flags or arguments; nothing dispatched (exit 2). */
export class UsageError extends CliError {
  readonly exitCode = ExitCode.usage;
  readonly code = "usage";
}

/** One problem in a manifest: a dotted field path (or `(root)`) and what is wrong with it. */
export interface ManifestIssue {
  path: string;
  message: string;
}

/** A manifest or git-ref problem; nothing dispatched (exit 2). */
export class ManifestError extends CliError {
  readonly exitCode = ExitCode.usage;
  readonly code = "manifest";
  /** Every problem found, for `validate` (absent for git-ref problems). */
  readonly issues?: ManifestIssue[];
  /** Where the manifest came from, e.g. a file or `origin/master:deploy.json`. */
  readonly source?: string;
  constructor(message: string, options: CliErrorOptions & { issues?: ManifestIssue[]; source?: string } = {}) {
    super(message, options);
    this.issues = options.issues;
    this.source = options.source;
  }
}

/** The awaited run failed; the summary is already printed (exit 1). */
export class RunFailedError extends CliError {
  readonly exitCode = ExitCode.runFailed;
  readonly code = "run_failed";
}

/** `--wait-ms` ran out; the run goes on (exit 3). */
export class WaitTimeoutError extends CliError {
  readonly exitCode = ExitCode.waitTimeout;
  readonly code = "wait_timeout";
}

/** Missing or rejected credentials (exit 4). */
export class AuthError extends CliError {
  readonly exitCode = ExitCode.auth;
  readonly code = "auth";
}

/** No backend configured, unreadable config (exit 4). */
export class ConfigError extends CliError {
  readonly exitCode = ExitCode.auth;
  readonly code = "config";
}

/** Backend or host unreachable, timeout, 5xx, malformed answer (exit 5). */
export class DispatchError extends CliError {
  readonly exitCode = ExitCode.unreachable;
  readonly code = "dispatch";
  /**
   * Whether the dispatched command may have run on the host. False only when that is ruled out: no attempt
   * reached backend-core (connection refused, DNS), or it answered that the host is unreachable.
   * @default true
   */
  mayHaveRun: boolean;
  constructor(message: string, options: CliErrorOptions & { mayHaveRun?: boolean } = {}) {
    super(message, options);
    this.mayHaveRun = options.mayHaveRun ?? true;
  }
}

/** Ctrl-C / SIGTERM while the CLI was working (exit 130). */
export class InterruptedError extends CliError {
  readonly exitCode = ExitCode.interrupted;
  readonly code = "interrupted";
}

/** `doctor` found a failing check on the laptop or on the host; its report is already printed (exit 1). */
export class CheckFailedError extends CliError {
  readonly exitCode = ExitCode.runFailed;
  readonly code = "check_failed";
}
