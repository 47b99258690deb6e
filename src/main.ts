/** Entry point: the only file touching process globals. Builds the real Env, runs the CLI, maps errors to exit codes. */
import { decideColor, type Env } from "./env.ts";
import { makeSpawn } from "./spawn.ts";
import { DispatchError, ExitCode, InterruptedError } from "./errors.ts";
import { guardedEnv, reportError, runMain, wantsJson } from "./cli/program.ts";
import { makeReadFile } from "./read-file.ts";
import { checkOutputPath, writeFileAtomic } from "./write-file.ts";

// `process` is the runtime's global (Node, Deno and Bun all have it): `import process from "node:process"` made
// Node build an ES module facade that reads every property of process, opening stdin and more (~1 ms per start).
// node:fs is loaded on first use: --help and --version never pay for it. The spawn is src/spawn.ts.
/** Whether an error is a closed pipe or terminal on the other end (Node `EPIPE`, Deno/Bun `BrokenPipe`). */
const isClosedOutput = (error: unknown): boolean => {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || name === "BrokenPipe" || /EPIPE|broken pipe/i.test(String(message));
};

/**
 * A closed stdout or stderr (`unidesk-ci logs --follow | head -1`) ends the command at once and quietly, with
 * exit 141 (128 + SIGPIPE) like any Unix tool killed by a closed pipe: no stack trace (docs/exit-codes.md).
 */
const quitOnClosedOutput = (error: unknown): void => {
  if (!isClosedOutput(error)) throw error;
  process.exit(ExitCode.closedOutput);
};

function writeOrQuit(stream: NodeJS.WriteStream, text: string): void {
  try {
    stream.write(text);
  } catch (error) {
    quitOnClosedOutput(error);
  }
}

function realEnv(controller: AbortController): Env {
  const vars = process.env;
  const secrets = new Set<string>();
  const secretReads: Promise<unknown>[] = [];
  return {
    stdout: { write: (t) => writeOrQuit(process.stdout, t) },
    stderr: { write: (t) => writeOrQuit(process.stderr, t) },
    isStdoutTTY: Boolean(process.stdout.isTTY),
    isStderrTTY: Boolean(process.stderr.isTTY),
    color: decideColor(vars, Boolean(process.stdout.isTTY)),
    vars,
    cwd: process.cwd(),
    now: () => new Date(),
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => (clearTimeout(timer), reject(signal?.reason));
        // The listener goes with the timer: one left per poll would pile up on the interrupt signal.
        const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    fetch: (...args) => fetch(...args),
    spawn: makeSpawn(vars, secrets, secretReads),
    readFile: makeReadFile({ signal: controller.signal, stdin: () => process.stdin, uid: process.getuid?.() }),
    checkOutputPath,
    writeFileAtomic,
    signal: controller.signal,
    secrets,
    secretReads,
  };
}

async function main(): Promise<void> {
  const controller = new AbortController();
  const args = process.argv.slice(2);
  const json = wantsJson(args);
  let printed = false;
  let closed = false; // after a second Ctrl-C's document nothing more may reach stdout
  const env = realEnv(controller);
  const stdout = env.stdout;
  env.stdout = { write: (t) => void (closed || ((printed = true), stdout.write(t))) };
  let interrupts = 0;
  const onSignal = (signal: string) => {
    interrupts += 1;
    controller.abort(new Error(`interrupted by ${signal}`));
    if (interrupts === 1) return;
    // A second Ctrl-C does not wait for the command to unwind; --json still gets its one document.
    const code = reportError(new InterruptedError(`interrupted by a second ${signal}`), guardedEnv({ ...env, stdout: printed ? { write: () => undefined } : stdout }, json), json);
    closed = true;
    process.stdout.write("", () => process.exit(code));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.stdout.on("error", quitOnClosedOutput);
  process.stderr.on("error", quitOnClosedOutput);
  // The process never ends while the command is unsettled: an event loop that empties first (a runtime that
  // dropped a reset connection without settling its fetch) is a clear dispatch error, never a silent exit 0.
  let settled = false;
  process.on("beforeExit", () => {
    if (settled) return;
    settled = true;
    const error = new DispatchError("the command ended before it had an answer: a connection closed without the runtime reporting it; nothing more is known", {
      hint: "try again; if it repeats, check the backend URL and the network (unidesk-ci doctor)",
    });
    const code = reportError(error, guardedEnv({ ...env, stdout: printed ? { write: () => undefined } : env.stdout }, json), json);
    process.stdout.write("", () => process.exit(code));
  });
  const code = await runMain(args, env);
  settled = true;
  // Let stdout drain before exiting (pipes are asynchronous on Node); output cut by its reader is exit 141 all the same.
  process.stdout.write("", (error) => process.exit(error && isClosedOutput(error) ? ExitCode.closedOutput : code));
}

void main();
