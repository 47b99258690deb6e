/**
 * Shared plumbing of the sandbox end-to-end tests (test/e2e/sandbox-*.test.ts): a sandbox with its
 * production snapshot, the built bundle spawned against it (every output kept for the token check),
 * and the checks every file ends with (cluster untouched outside the run's namespaces, no token anywhere).
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/sandbox.ts";
import { RUNTIMES, type CliRun } from "./helpers.ts";
import { checkJsonRun } from "../io/json-check.ts";
import { startProcess } from "../support/spawn.ts";
import { CLI_KILL_MS } from "../support/until.ts";

/** A sandbox plus what the checks at the end need. */
export interface E2e {
  sb: Sandbox;
  /** Production objects (unidesk, unidesk-dev) → resourceVersion, taken right after start. */
  production: Record<string, string>;
  /** Every CLI run so far, with its argv (for the token check). */
  outputs: (CliRun & { args: string[] })[];
}

/** A CLI process still running: its child, its output so far, and its end. */
export interface LiveCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** Options for one CLI run. */
export interface CliOptions {
  /** node (default), deno or bun. */
  runtime?: string;
  /** Variables over `sb.cliEnv()`. */
  env?: Record<string, string>;
  /** SIGKILL after this long. @default {@link CLI_KILL_MS} */
  timeoutMs?: number;
}

/** Starts a sandbox and takes the production snapshot. */
export async function openE2e(options: SandboxOptions = {}): Promise<E2e> {
  const sb = await startSandbox(options);
  return { sb, production: sb.kube!.snapshot(), outputs: [] };
}

/**
 * Spawns the built bundle in the operator clone with the sandbox's CLI environment (no TTY, NO_COLOR). A `--json`
 * run's end rejects unless stdout is one document valid under its command's schema (test/io/json-check.ts).
 */
export function startCli(e2e: E2e, args: string[], options: CliOptions = {}): LiveCli {
  const argv = [...RUNTIMES[options.runtime ?? "node"]!, ...args];
  const env = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...e2e.sb.cliEnv(options.env) };
  const live = startProcess(argv[0]!, argv.slice(1), { cwd: e2e.sb.operatorRepoDir, env, timeoutMs: options.timeoutMs ?? CLI_KILL_MS });
  const done = live.done.then(({ code, signal, stdout, stderr }) => {
    const run = { code, signal, stdout, stderr };
    e2e.outputs.push({ ...run, args });
    checkJsonRun(args, run);
    return run;
  });
  return { child: live.child, stdout: live.stdout, stderr: live.stderr, done };
}

/** Runs the built bundle to its end. */
export const cli = (e2e: E2e, args: string[], options: CliOptions = {}) => startCli(e2e, args, options).done;

/** Runs the CLI and returns its exit code, output and the number of dispatch calls it made. */
export async function cliCounted(e2e: E2e, args: string[], options: CliOptions = {}): Promise<CliRun & { calls: number }> {
  const before = e2e.sb.backend.callCount();
  const r = await cli(e2e, args, options);
  await e2e.sb.backend.idle();
  return { ...r, calls: e2e.sb.backend.callCount() - before };
}

/** Parses the single JSON document a `--json` command printed. */
export function jsonOf(r: CliRun): Record<string, any> {
  try {
    return JSON.parse(r.stdout) as Record<string, any>;
  } catch {
    assert.fail(`stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** A compact dump of a CLI run for assertion messages. */
export const show = (r: CliRun) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** The runId a text-mode `run-dev-e2e` printed (stdout without --wait-ms, stderr with it). */
export function runIdOf(r: CliRun): string {
  const m = /^runId:\s+(\S+)$/m.exec(`${r.stdout}\n${r.stderr}`);
  assert.ok(m, `no runId line:\n${show(r)}`);
  return m[1]!;
}

/** Run ids with a directory under the runs root: every run the launcher accepted. */
export async function runDirs(sb: Sandbox): Promise<string[]> {
  return existsSync(sb.runsRoot) ? (await readdir(sb.runsRoot)).sort() : [];
}

/** Commands dispatched to D601 in a slice of backend requests, classified by what they are. */
export function dispatchKinds(sb: Sandbox, from: number): string[] {
  return sb.backend.requests.slice(from).map((r) => {
    const command = (r.body as { command?: unknown } | null)?.command;
    if (typeof command !== "string") return "other";
    if (command.includes("unidesk-ci-watch")) return "watch";
    if (command.includes("unidesk-ci-logs")) return "logs";
    if (command.includes("unidesk-ci-cancel")) return "cancel";
    if (command.includes("unidesk-ci-runs")) return "runs";
    if (command.includes("UCI_RUN_ID=")) return "launcher";
    return "other";
  });
}

/** Every regular file below `dir` (symlinks not followed). */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return; // removed while walking (a run's work dir)
    }
    for (const name of names) {
      const path = join(d, name);
      const st = await lstat(path).catch(() => undefined);
      if (st?.isDirectory()) await walk(path);
      else if (st?.isFile()) out.push(path);
    }
  };
  await walk(dir);
  return out;
}

/**
 * The end-of-file checks: every accepted run finished (result.json), production objects unchanged, every
 * kube write inside `unidesk-ci` or a run's own namespace, no temporary namespace left, and the token in no
 * CLI output, no dispatched command, no backend record and no file of D601 (home and work root).
 */
export async function assertSandboxClean(e2e: E2e): Promise<void> {
  const { sb } = e2e;
  const runs = await runDirs(sb);
  for (const runId of runs) await sb.waitForResult(runId);
  await sb.backend.idle();
  await sb.d601.idle();

  const kube = sb.kube!;
  assert.deepEqual(kube.snapshot(), e2e.production, "production objects changed");
  const allowed = new Set(["unidesk-ci", ...runs.map((r) => `unidesk-ci-${r}`)]);
  const outside = kube.writes().filter((w) => w.namespace === undefined || !allowed.has(w.namespace));
  assert.deepEqual(outside, [], "kube writes outside unidesk-ci and the runs' namespaces");
  const leftover = kube.listObjects("v1", "namespaces").map((n) => n.metadata.name).filter((n) => n.startsWith("unidesk-ci-"));
  assert.deepEqual(leftover, [], "temporary namespaces left behind");

  assertNoToken(e2e);
  const token = Buffer.from(sb.token);
  const d601Root = join(sb.root, "d601"); // D601's home (runs root) and its work root
  const leaks: string[] = [];
  for (const file of await walkFiles(d601Root)) {
    const bytes = await readFile(file).catch(() => Buffer.alloc(0));
    if (bytes.includes(token)) leaks.push(file);
  }
  assert.deepEqual(leaks, [], "token found in files on D601");
}

/** The token in no CLI output, no command D601 ran, no backend record or forwarded command. */
export function assertNoToken(e2e: E2e): void {
  const { sb } = e2e;
  for (const t of [sb.token, sb.forbiddenToken]) {
    for (const o of e2e.outputs) {
      assert.ok(!o.stdout.includes(t) && !o.stderr.includes(t), `token in the output of ${o.args.join(" ")}`);
    }
    assert.ok(!sb.d601.execs.some((x) => x.command.includes(t)), "token in a command D601 ran");
    assert.ok(!sb.backend.commands.some((c) => c.includes(t)), "token in a launcher/reader sent by backend-core");
    assert.ok(!JSON.stringify(sb.backend.requests).includes(t), "token in a backend record");
  }
  assert.deepEqual(sb.backend.requests.filter((r) => r.tokenInBody), [], "a dispatch body carried the token");
}

/** One sandbox for a whole describe block: started before its tests, checked clean and stopped after them. */
export function sharedE2e(options: SandboxOptions = {}): () => E2e {
  let e2e: E2e | undefined;
  before(async () => {
    e2e = await openE2e(options);
  });
  after(async () => {
    if (!e2e) return;
    try {
      await assertSandboxClean(e2e);
    } finally {
      await e2e.sb.stop();
    }
  });
  return () => {
    if (!e2e) throw new Error("the shared sandbox did not start");
    return e2e;
  };
}

/** Runs `fn` against a fresh sandbox, then the end-of-file checks, and always stops the sandbox. */
export async function withE2e(fn: (e2e: E2e) => Promise<void>, options: SandboxOptions = {}): Promise<void> {
  const e2e = await openE2e(options);
  try {
    await fn(e2e);
    await assertSandboxClean(e2e);
  } finally {
    await e2e.sb.stop();
  }
}
