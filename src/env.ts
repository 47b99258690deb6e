/** The Env context: every access to the outside world goes through it (STYLE.md). */

/** Something text can be written to. */
export interface Writer {
  write(text: string): void;
}

/** Result of a finished child process. */
export interface SpawnResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  stdout: string;
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
  readFile(path: string): Promise<string>;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
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
  /** Files readable through readFile, by path. */
  files?: Record<string, string>;
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
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file '${path}'`), { code: "ENOENT" });
      return text;
    },
    signal: options.signal ?? new AbortController().signal,
    out: () => out,
    err: () => err,
    clockMs: () => clock,
  };
}
