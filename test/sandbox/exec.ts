/** Small helpers to run real programs from the sandbox (git, openssl, ssh-keygen). */
import { runProcess } from "../support/spawn.ts";

/** Output of a finished program. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link execFile}. */
export interface ExecOptions {
  /** Working directory. @default the current directory */
  cwd?: string;
  /** The whole environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Text written to stdin. @default none (stdin closed) */
  input?: string;
  /** Throw when the exit code is not 0. @default true */
  check?: boolean;
}

/** Runs a program to completion without a shell; throws on a non-zero exit unless `check: false`. */
export async function execFile(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const { code, stdout, stderr } = await runProcess(cmd, args, { cwd: options.cwd, env: options.env, input: options.input ?? "" });
  if (code !== 0 && options.check !== false) throw new Error(`${cmd} ${args.join(" ")} exited ${code}: ${stderr.trim()}`);
  return { code, stdout, stderr };
}

/** Environment for sandbox git commands: no proxy variables, no user or system config, fixed identity. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A proxy inherited from the test runner would hide whether the sandbox proxy was used.
    if (/^(https?|all|no)_proxy$/i.test(k)) continue;
    if (k.startsWith("GIT_")) continue;
    env[k] = v;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Sandbox Operator",
    GIT_AUTHOR_EMAIL: "operator@sandbox.invalid",
    GIT_COMMITTER_NAME: "Sandbox Operator",
    GIT_COMMITTER_EMAIL: "operator@sandbox.invalid",
    ...extra,
  };
}
