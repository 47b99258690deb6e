/** The Env context: every access to the outside world goes through it (docs/building.md#conventions). */
import { holdsSecret } from "./redact.ts";

/** Something text can be written to. */
export interface Writer {
  write(text: string): void;
}

/** Result of a finished child process. */
export interface SpawnResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  /** stdout decoded as UTF-8 (invalid bytes become U+FFFD). */
  stdout: string;
  /** stdout as received, for callers that must refuse what is not UTF-8 (the real spawn sets it; fakes may not). */
  stdoutBytes?: Uint8Array;
  stderr: string;
}

/** Options for {@link Spawn}. */
export interface SpawnOptions {
  /** Working directory. @default the current directory */
  cwd?: string;
  /** Extra environment variables merged over the process environment. */
  env?: Record<string, string>;
  /** Aborts the child. */
  signal?: AbortSignal;
  /** Written to the child's standard input, which is then closed; absent: standard input is empty. */
  stdin?: string;
  /** Variables of the CLI's environment the child must not inherit (beside `UNIDESK_*` and secrets; `env` may set them again). */
  dropEnv?: RegExp;
  /** More stdout than this kills the child: the spawn rejects with a {@link SpawnOutputError}. @default SPAWN_STDOUT_MAX_BYTES */
  maxStdoutBytes?: number;
}

/** A child answered more stdout than its bound (SpawnOptions.maxStdoutBytes); it was killed. */
export class SpawnOutputError extends Error {
  constructor(readonly maxBytes: number) {
    super(`answered more than ${maxBytes} bytes`);
  }
}

/** Runs a program to completion, capturing its output (no shell). */
export type Spawn = (cmd: string, args: readonly string[], options?: SpawnOptions) => Promise<SpawnResult>;

/** Everything a command may touch. */
export interface Env {
  stdout: Writer;
  stderr: Writer;
  isStdoutTTY: boolean;
  isStderrTTY: boolean;
  /** Decided once: NO_COLOR, CLICOLOR_FORCE, TTY and TERM. */
  color: boolean;
  vars: Readonly<Record<string, string | undefined>>;
  /** Current working directory. */
  cwd: string;
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  fetch: typeof fetch;
  spawn: Spawn;
  /**
   * Reads a regular file of at most `maxBytes` (or standard input, when allowed) as UTF-8 text without a
   * leading BOM. A FIFO, socket or device is refused without opening it, so nothing blocks; the read ends
   * when `signal` aborts (rejecting with its reason). Other failures are {@link FileReadError}s.
   */
  readFile(path: string, options: ReadFileOptions): Promise<string>;
  /** Why a file cannot be written at `path` (no such directory, not a regular file), else null; writes nothing. */
  checkOutputPath(path: string): Promise<string | null>;
  /** Writes a whole file atomically (a temporary file beside it, renamed over it); rejects with the fs error. */
  writeFileAtomic(path: string, text: string): Promise<void>;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /**
   * Values never printed (the token, added by resolveConfig): every message about outside text redacts them, and
   * the output writers of runMain replace them with `***` once more (docs/security.md).
   */
  secrets: Set<string>;
  /**
   * Reads under way that may add to `secrets` (resolveConfig reading a token file): the real spawn starts a child
   * only once they settled, so no copy of such a token reaches a child started beside the read.
   */
  secretReads: Promise<unknown>[];
}

/** Options of {@link Env.readFile}. */
export interface ReadFileOptions {
  /** Largest accepted size in bytes; a larger file fails with `EFBIG`. */
  maxBytes: number;
  /** Read standard input (pipe, terminal or file alike) for `-` and `/dev/stdin`. @default false */
  stdin?: boolean;
  /**
   * Refuse a file another local user could have written or could read (docs/security.md#files-on-the-laptop):
   * `owned` — owned by someone else than the user or root (`EFOREIGN`), or writable by group or others
   * (`EWRITABLE`); `secret` — that, or readable by group or others (`EREADABLE`). Checked on the opened file.
   */
  guard?: FileGuard;
}

/** See {@link ReadFileOptions.guard}. */
export type FileGuard = "owned" | "secret";

/**
 * Why a file with this owner and mode cannot be trusted under `guard`, as a FileReadError, else null. `uid` is
 * the user's (undefined where the platform has none: nothing is checked). Root's files are trusted: root could
 * change anything the user runs anyway.
 */
export function untrustedFile(path: string, stats: { uid: number; mode: number }, guard: FileGuard, uid: number | undefined): FileReadError | null {
  if (uid === undefined) return null;
  const mode = `mode ${(stats.mode & 0o777).toString(8).padStart(4, "0")}`;
  if (stats.uid !== uid && stats.uid !== 0) return new FileReadError(path, "EFOREIGN", `is owned by uid ${stats.uid}, not by you (uid ${uid}): another user could have written it`);
  if (stats.mode & 0o022) return new FileReadError(path, "EWRITABLE", `is writable by group or others (${mode}): another user could change it`);
  if (guard === "secret" && stats.mode & 0o044) return new FileReadError(path, "EREADABLE", `holds the token and is readable by group or others (${mode})`);
  return null;
}

/** True when `path` names standard input for a reader that accepts it (`-` or `/dev/stdin`). */
export const isStdinPath = (path: string): boolean => path === "-" || path === "/dev/stdin";

/**
 * Why a file could not be read. `reason` completes "<path> …" ("is a FIFO (named pipe), not a regular file")
 * and never quotes the file's content, so it is safe for token and config files.
 */
export class FileReadError extends Error {
  /**
   * `ENOENT`, `EISDIR`, `EACCES`…, `ENOTREG` (not a regular file), `EFBIG` (too large), `EILSEQ` (not UTF-8), or
   * `EFOREIGN`/`EWRITABLE`/`EREADABLE` (refused by {@link ReadFileOptions.guard}).
   */
  readonly code: string;
  /** What is wrong, e.g. "does not exist". */
  readonly reason: string;
  constructor(path: string, code: string, reason: string, options?: { cause?: unknown }) {
    super(`${path}: ${reason}`, options);
    this.name = "FileReadError";
    this.code = code;
    this.reason = reason;
  }
}

/** Turns an fs error into a {@link FileReadError} (its message names the path, never the content). */
export function toFileReadError(path: string, error: unknown): FileReadError {
  if (error instanceof FileReadError) return error;
  const code = typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string" ? (error as { code: string }).code : "EIO";
  const reasons: Record<string, string> = { ENOENT: "does not exist", ENOTDIR: "does not exist", EISDIR: "is a directory, not a regular file", EACCES: "cannot be read (permission denied)", EPERM: "cannot be read (permission denied)" };
  return new FileReadError(path, code, reasons[code] ?? `cannot be read (${code})`, { cause: error });
}

/** A {@link FileReadError} for a file larger than `maxBytes`. */
export const tooLargeError = (path: string, maxBytes: number): FileReadError => new FileReadError(path, "EFBIG", `is larger than ${maxBytes} bytes, the most that is read`);

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes file bytes as UTF-8, dropping one leading BOM; anything else (UTF-16, Latin-1, binary) is a FileReadError `EILSEQ`. */
export function decodeText(bytes: Uint8Array, path: string): string {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    throw new FileReadError(path, "EILSEQ", `is not UTF-8 text${utf16 ? " (it looks like UTF-16)" : ""}`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The environment a child process gets (git, and everything git starts: hooks, credential helpers, ssh):
 * the CLI's own, minus every `UNIDESK_*` variable (the token, its file, the backend URL) and every variable whose
 * value holds one of `secrets` or whose name `drop` matches, plus `extra` (docs/security.md).
 */
export function childEnvironment(vars: Readonly<Record<string, string | undefined>>, secrets: Iterable<string>, extra: Record<string, string> = {}, drop?: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined || /^UNIDESK_/i.test(name) || drop?.test(name) || holdsSecret(value, secrets)) continue;
    out[name] = value;
  }
  return { ...out, ...extra };
}

/** Decides whether to color output, from the environment and the terminal. */
export function decideColor(vars: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (vars.NO_COLOR) return false;
  if (vars.CLICOLOR_FORCE && vars.CLICOLOR_FORCE !== "0") return true;
  return isTTY && vars.TERM !== "dumb";
}

/** Options for {@link fakeEnv}. */
export interface FakeEnvOptions {
  /** Pretend stdout and stderr are terminals. @default false */
  tty?: boolean;
  vars?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  spawn?: Spawn;
  /** Files readable through readFile, by path (bytes or text); writeFileAtomic adds to it (a path under /missing/ fails). */
  files?: Record<string, string | Uint8Array>;
  /** What readFile returns for `-` and `/dev/stdin` when allowed; absent: standard input is empty. */
  stdin?: string;
  /** Working directory. @default "/work" */
  cwd?: string;
  /** Start of the virtual clock. @default 2026-01-01T00:00:00Z */
  start?: Date;
  signal?: AbortSignal;
}

/** A test Env with captured output and a virtual clock that `sleep` advances instantly. */
export function fakeEnv(options: FakeEnvOptions = {}): Env & { out(): string; err(): string; clockMs(): number } {
  let out = "";
  let err = "";
  let clock = (options.start ?? new Date("2026-01-01T00:00:00Z")).getTime();
  const vars = options.vars ?? {};
  const tty = options.tty ?? false;
  const files = options.files ?? {};
  return {
    stdout: { write: (t) => void (out += t) },
    stderr: { write: (t) => void (err += t) },
    isStdoutTTY: tty,
    isStderrTTY: tty,
    color: decideColor(vars, tty),
    vars,
    cwd: options.cwd ?? "/work",
    now: () => new Date(clock),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      clock += ms;
    },
    fetch: options.fetch ?? (async () => {
      throw new Error("fakeEnv: no fetch configured");
    }),
    spawn: options.spawn ?? (async (cmd) => {
      throw new Error(`fakeEnv: no spawn configured (${cmd})`);
    }),
    readFile: async (path, { maxBytes, stdin }) => {
      const content = stdin && isStdinPath(path) ? (options.stdin ?? "") : files[path];
      if (content === undefined) throw new FileReadError(path, "ENOENT", "does not exist");
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
      if (bytes.length > maxBytes) throw tooLargeError(path, maxBytes);
      return decodeText(bytes, path);
    },
    checkOutputPath: async (path) => (path.startsWith("/missing/") ? `its directory ${path.slice(0, path.lastIndexOf("/"))} does not exist` : null),
    writeFileAtomic: async (path, text) => {
      if (path.startsWith("/missing/")) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
      files[path] = text;
    },
    signal: options.signal ?? new AbortController().signal,
    secrets: new Set(),
    secretReads: [],
    out: () => out,
    err: () => err,
    clockMs: () => clock,
  };
}

/**
 * AbortSignal.any, with a fallback for Node 20.0–20.2 which lack it. `dispose` removes the fallback's
 * listeners, so a long wait does not pile one per request onto the interrupt signal.
 */
export function anySignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  if (typeof AbortSignal.any === "function") return { signal: AbortSignal.any([a, b]), dispose: () => undefined };
  const controller = new AbortController();
  const listeners: [AbortSignal, () => void][] = [];
  for (const s of [a, b]) {
    if (s.aborted) controller.abort(s.reason);
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener("abort", onAbort, { once: true });
    listeners.push([s, onAbort]);
  }
  return { signal: controller.signal, dispose: () => listeners.forEach(([s, onAbort]) => s.removeEventListener("abort", onAbort)) };
}
