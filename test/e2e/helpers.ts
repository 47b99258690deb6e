/** Spawning the built bundle under Node, Deno and Bun. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { checkJsonRun } from "../io/json-check.ts";
import { runProcess as spawnProcess } from "../support/spawn.ts";
import { SANITY_MS } from "../support/until.ts";

/** The built bundle (npm test builds it first). */
export const BUNDLE = resolve("dist/unidesk-ci.mjs");
/** The extensionless link operators put on PATH. */
export const LINK = resolve("dist/unidesk-ci");

/** How to start the bundle under each runtime; deno and bun come from node_modules/.bin. */
export const RUNTIMES: Record<string, string[]> = {
  node: [process.execPath, BUNDLE],
  deno: [resolve("node_modules/.bin/deno"), "run", "-A", "--no-check", BUNDLE],
  bun: [resolve("node_modules/.bin/bun"), BUNDLE],
};

/** Runtimes installed here (all three after npm ci). */
export const availableRuntimes = (): string[] => Object.keys(RUNTIMES).filter((r) => r === "node" || existsSync(RUNTIMES[r]![0]!));

/** What a finished CLI process left. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv (a runtime prefix + CLI args) with a clean, explicit environment. */
export async function runProcess(argv: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    ...options.env,
  };
  const { code, stdout, stderr } = await spawnProcess(argv[0]!, argv.slice(1), { cwd: options.cwd, env, timeoutMs: options.timeoutMs ?? SANITY_MS });
  return { code, stdout, stderr };
}

/** Runs the bundle under one runtime; a `--json` run must print one document valid under its schema (test/io/json-check.ts). */
export async function runCli(runtime: string, args: string[], options: Parameters<typeof runProcess>[1] = {}): Promise<CliRun> {
  const run = await runProcess([...RUNTIMES[runtime]!, ...args], options);
  checkJsonRun(args, run);
  return run;
}
