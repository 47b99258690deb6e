/**
 * The one way tests run a program: spawned without a shell, its stdout and stderr collected, resolved when it
 * exited and every holder of its pipes closed them. `startProcess` hands back the live child too (to signal it
 * or read its output so far); `runProcess` just waits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { StringDecoder } from "node:string_decoder";

/** What a finished program left. */
export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as the bytes received. */
  stdoutBytes: Buffer;
  stderr: string;
  /** Until it exited and its pipes closed (for messages and reports only: never assert on it). */
  durationMs: number;
}

/** Options of {@link startProcess}. */
export interface ProcessOptions {
  cwd?: string;
  /** The whole environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Text written to stdin; without it stdin is /dev/null. */
  input?: string;
  /** SIGKILL after this long (a sanity bound against a hang). @default none */
  timeoutMs?: number;
  /** Aborting it kills the child (as `spawn`'s own signal option). */
  signal?: AbortSignal;
  /** In its own process group (kill it and its children with `process.kill(-pid)`). @default false */
  detached?: boolean;
}

/** A program still running: its child, its output so far, and its end. */
export interface LiveProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<ProcessRun>;
}

/** Starts `cmd args`; `done` resolves once it exited and its pipes closed (rejects only when it could not start). */
export function startProcess(cmd: string, args: readonly string[], options: ProcessOptions = {}): LiveProcess {
  const started = performance.now();
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    signal: options.signal,
    detached: options.detached,
  });
  const out: Buffer[] = [];
  const decoder = new StringDecoder("utf8");
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    out.push(d);
    stdout += decoder.write(d);
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => void (stderr += d));
  if (options.input !== undefined) {
    child.stdin!.on("error", () => {}); // the child may exit before reading its input
    child.stdin!.end(options.input);
  }
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
  const done = new Promise<ProcessRun>((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr, durationMs: performance.now() - started });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs `cmd args` to its end. */
export function runProcess(cmd: string, args: readonly string[], options: ProcessOptions = {}): Promise<ProcessRun> {
  return startProcess(cmd, args, options).done;
}
