/** Shared set-up for the runner tests: a fake cluster, temp dirs, spawning the real script, invariants. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { resultSchema, type RunResult } from "../../src/host/result.ts";
import { startFakeKube, type FakeKube, type FakeKubeOptions } from "../kube/fake-api.ts";
import { startProcess } from "../support/spawn.ts";
import { SANITY_MS, until as untilValue } from "../support/until.ts";

/** The runner under test. */
export const RUNNER = resolve(import.meta.dirname, "../../scripts/ci/dev-e2e.sh");
/** A full manifest commit used by the tests. */
export const SHA = "0123456789abcdef0123456789abcdef01234567";
/** Dev services of the default test manifest. */
export const SERVICES = [
  { id: "backend-core", repo: "https://github.com/pikasTech/unidesk", commitId: "a".repeat(40) },
  { id: "frontend", repo: "https://github.com/pikasTech/unidesk-frontend", commitId: "b".repeat(40) },
];

/** A valid deploy.json for the tests. */
export function testManifest(services: object[] = SERVICES): object {
  return {
    schemaVersion: 2,
    environments: {
      dev: { ci: { repo: "https://github.com/pikasTech/unidesk", scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1_800_000 }, services },
    },
  };
}

/** One test's world: a fake cluster and a temp dir with a kubeconfig and a runs root. */
export interface World {
  kube: FakeKube;
  dir: string;
  kubeconfig: string;
  /** The kubeconfig's client name, for `kube.writes({ client })`. */
  client: string;
  /** Production snapshot taken at start. */
  before: Record<string, string>;
  close(): Promise<void>;
}

let counter = 0;
/** A run id unique within this process. */
export function newTestRunId(tag: string): string {
  counter++;
  return `t-${tag}-${process.pid.toString(36)}-${counter}`.slice(0, 40).replace(/-+$/, "");
}

/** Starts a fake cluster and a temp dir; `close()` stops and removes both. */
export async function startWorld(options: FakeKubeOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), "runner-test-"));
  const kube = await startFakeKube(options);
  const client = `w${++counter}`;
  const kubeconfig = await kube.writeKubeconfig(join(dir, "kubeconfig"), client);
  return {
    kube,
    dir,
    kubeconfig,
    client,
    before: kube.snapshot(),
    async close() {
      await kube.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Arguments and files of one runner invocation. */
export interface Invocation {
  runId: string;
  resultDir: string;
  manifestFile: string;
  args: string[];
}

/** Writes deploy.json and builds the contract's argument list. */
export async function prepareRun(world: World, runId: string, opts: { timeoutMs?: number; keep?: boolean; manifest?: string | object } = {}): Promise<Invocation> {
  const workDir = join(world.dir, "work", runId);
  await mkdir(workDir, { recursive: true });
  const manifestFile = join(workDir, "deploy.json");
  const manifest = opts.manifest ?? testManifest();
  await writeFile(manifestFile, typeof manifest === "string" ? manifest : JSON.stringify(manifest, null, 2));
  const resultDir = join(world.dir, "runs", runId);
  await mkdir(resultDir, { recursive: true });
  const args = [
    "--run-id", runId,
    "--repo-url", "https://github.com/pikasTech/unidesk",
    "--desired-ref", "master",
    "--manifest-commit", SHA,
    "--manifest-file", manifestFile,
    "--environment", "dev",
    "--result-dir", resultDir,
    "--timeout-ms", String(opts.timeoutMs ?? 60_000),
    ...(opts.keep ? ["--keep-namespace"] : []),
  ];
  return { runId, resultDir, manifestFile, args };
}

/** What a finished runner process left. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for the runner: KUBECONFIG, a per-test kubectl cache and HOME, fast polling (4 a second: more spent
 * the CPU that tests beside it need). */
export function runnerEnv(world: World, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env["RUNNER_TEST_PATH"] ?? process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: world.dir,
    KUBECONFIG: world.kubeconfig,
    KUBECACHEDIR: join(world.dir, "kube-cache"),
    TMPDIR: world.dir,
    UNIDESK_CI_RUNNER_POLL_MS: "250",
    ...extra,
  };
}

/**
 * Environment whose `date` runs `rate` times faster (test/runner/fast-date.sh first on PATH), so the
 * runner's own deadline (--timeout-ms is at least 60000) passes in seconds of real time.
 */
export async function fastClockEnv(world: World, rate: number, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const base = runnerEnv(world, extra);
  const bin = join(world.dir, "fast-clock-bin");
  await mkdir(bin, { recursive: true });
  if (!existsSync(join(bin, "date"))) await symlink(resolve(import.meta.dirname, "fast-date.sh"), join(bin, "date"));
  const realDate = base["PATH"]!.split(":").map((d) => join(d, "date")).find((f) => existsSync(f));
  assert.ok(realDate, "no date on the runner's PATH");
  return { ...base, PATH: `${bin}:${base["PATH"]}`, FAST_CLOCK_REAL_DATE: realDate, FAST_CLOCK_ORIGIN_S: String(Math.floor(Date.now() / 1000)), FAST_CLOCK_RATE: String(rate) };
}

/** Spawns the real runner with bash; `onStart` may signal the child. Resolves when it exits. */
export async function runRunner(args: string[], env: Record<string, string>, onStart?: (pid: number) => void): Promise<Exit> {
  const live = startProcess("bash", [RUNNER, ...args], { env });
  if (onStart && live.child.pid) onStart(live.child.pid);
  const { code, signal, stdout, stderr } = await live.done;
  return { code, signal, stdout, stderr };
}

/** A runner started under a stand-in for the launcher (a parent bash that wrote launcher.pid). */
export interface Launched {
  /** The stand-in launcher's pid (in launcher.pid; its command line names the result dir). */
  launcherPid: number;
  /** Resolves when the stand-in launcher exits. */
  exited: Promise<Exit>;
}

/**
 * Starts the runner the way the launcher does: a parent bash whose command line names the result dir
 * writes launcher.pid, runs the runner and waits for it.
 */
export function launchRunner(inv: Invocation, env: Record<string, string>): Launched {
  const script = 'printf \'%s\\n\' "$$" >"$1/launcher.pid"; bash "$2" "${@:3}"; exit $?';
  const live = startProcess("bash", ["-c", script, "launcher-stand-in", inv.resultDir, RUNNER, ...inv.args], { env });
  const exited = live.done.then(({ code, signal, stdout, stderr }): Exit => ({ code, signal, stdout, stderr }));
  return { launcherPid: live.child.pid!, exited };
}

/** Resolves once runner.log shows the runner polling its PipelineRun (it is then mid-run). */
export async function untilWaiting(inv: Invocation): Promise<void> {
  await until(async () => /PipelineRun Unknown\/Running/.test(await readFile(join(inv.resultDir, "runner.log"), "utf8").catch(() => "")), `run ${inv.runId} in its wait loop`);
}

/** The pid in `<resultDir>/<file>`. */
export async function readPid(resultDir: string, file: "runner.pid" | "launcher.pid"): Promise<number> {
  return Number((await readFile(join(resultDir, file), "utf8")).trim());
}

/** Reads and validates result.json against the CLI's zod schema. */
export async function readResult(resultDir: string): Promise<RunResult & Record<string, unknown>> {
  const raw = JSON.parse(await readFile(join(resultDir, "result.json"), "utf8"));
  const parsed = resultSchema.safeParse(raw);
  assert.ok(parsed.success, `result.json must match resultSchema: ${parsed.success ? "" : parsed.error.message}\n${JSON.stringify(raw)}`);
  return parsed.data as RunResult & Record<string, unknown>;
}

/** Polls until `check` is true: test/support/until.ts with this file's argument order (a sanity bound, not a timing claim). */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = SANITY_MS): Promise<void> {
  await untilValue(what, check, { limitMs });
}

/**
 * The invariants every runner test ends with: production unchanged, writes only in unidesk-ci
 * (PipelineRuns) and the run's own namespace(s), temp namespaces gone unless kept.
 */
export function assertClusterInvariants(world: World, runIds: string[], opts: { kept?: string[] } = {}): void {
  assert.deepEqual(world.kube.snapshot(), world.before, "production objects must be unchanged");
  const own = new Set(runIds.map((r) => `unidesk-ci-${r}`));
  for (const w of world.kube.writes({ client: world.client })) {
    const allowed = own.has(w.namespace ?? "") || (w.namespace === "unidesk-ci" && w.resource === "pipelineruns");
    assert.ok(allowed, `write outside the run's namespaces: ${JSON.stringify(w)}`);
  }
  for (const r of runIds) {
    const ns = world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${r}`);
    if (opts.kept?.includes(r)) assert.ok(ns, `namespace unidesk-ci-${r} must be kept`);
    else assert.equal(ns, undefined, `namespace unidesk-ci-${r} must be gone`);
  }
}

/** Does a file exist in the result directory? */
export function hasFile(resultDir: string, name: string): boolean {
  return existsSync(join(resultDir, name));
}
