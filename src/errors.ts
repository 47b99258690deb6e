/** Expected failures and the exit-code contract (SPEC §7, docs/exit-codes.md). */

/** Exit codes, the contract with calling scripts. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  waitTimeout: 3,
  auth: 4,
  unreachable: 5,
  interrupted: 130,
} as const;

/** Options every CliError accepts. */
export interface CliErrorOptions {
  /** A line telling the operator how to fix it. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
  /** The command already printed everything (its report or JSON document): main only sets the exit code. */
  silent?: boolean;
}

/** Base of every expected failure: carries its exit code and a machine-readable code. */
export abstract class CliError extends Error {
  abstract readonly exitCode: number;
  /** Stable machine-readable error code for `--json` output. */
  abstract readonly code: string;
  readonly hint?: string;
  readonly silent: boolean;
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
    this.silent = options.silent ?? false;
    this.name = new.target.name;
  }
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
