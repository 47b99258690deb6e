/** Entry point: the only file touching process globals. Builds the real Env, runs the CLI, maps errors to exit codes. */
import process from "node:process";
import { decideColor, type Env, type Spawn } from "./env.ts";
import { CliError, ExitCode } from "./errors.ts";
import { runCli } from "./cli/program.ts";
import { makeReadFile } from "./read-file.ts";

// node:child_process and node:fs are loaded on first use: --help and --version never pay for them.
const spawn: Spawn = async (cmd, args, options = {}) => {
  const { spawn: spawnChild } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawnChild(cmd, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr: Buffer.concat(err).toString("utf8") });
    });
  });
};

function realEnv(controller: AbortController): Env {
  const vars = process.env;
  return {
    stdout: { write: (t) => void process.stdout.write(t) },
    stderr: { write: (t) => void process.stderr.write(t) },
    isStdoutTTY: Boolean(process.stdout.isTTY),
    isStderrTTY: Boolean(process.stderr.isTTY),
    color: decideColor(vars, Boolean(process.stdout.isTTY)),
    vars,
    cwd: process.cwd(),
    now: () => new Date(),
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
      }),
    fetch: (...args) => fetch(...args),
    spawn,
    readFile: makeReadFile({ signal: controller.signal, stdin: () => process.stdin }),
    signal: controller.signal,
  };
}

/** Prints an error the way the exit-code contract says, and returns the code. */
function report(error: unknown, env: Env, json: boolean): number {
  if (error instanceof CliError) {
    if (!error.silent) {
      if (json) env.stdout.write(JSON.stringify({ ok: false, error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), exitCode: error.exitCode } }) + "\n");
      else env.stderr.write(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}`);
    }
    return error.exitCode;
  }
  if (env.signal.aborted) {
    if (json) env.stdout.write(JSON.stringify({ ok: false, error: { code: "interrupted", message: "interrupted", exitCode: ExitCode.interrupted } }) + "\n");
    else env.stderr.write("error: interrupted\n");
    return ExitCode.interrupted;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (json) env.stdout.write(JSON.stringify({ ok: false, error: { code: "internal", message: String((error as Error)?.message ?? error), exitCode: ExitCode.runFailed } }) + "\n");
  env.stderr.write(`error: unexpected failure (a bug in unidesk-ci): ${message}\nhint: please report it with the command you ran\n`);
  return ExitCode.runFailed;
}

async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: string) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  const env = realEnv(controller);
  const args = process.argv.slice(2);
  let code: number = ExitCode.ok;
  try {
    await runCli(args, env);
  } catch (error) {
    code = report(error, env, args.includes("--json"));
  }
  // Let stdout drain before exiting (pipes are asynchronous on Node).
  process.stdout.write("", () => process.exit(code));
}

void main();
