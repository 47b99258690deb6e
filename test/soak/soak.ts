/**
 * The seeded fault soak (issue 16, docs/soak.md): runs of the built bundle against one sandbox of real parts,
 * each with a drawn pipeline outcome, command mix and fault, every invariant checked after each run and in a
 * final sweep. `npm run soak -- --runs N --seed S [--parallel P] [--faults LIST] [--only K] [--plan]`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptedTasks, type Outcome } from "../kube/fake-api.ts";
import { checkJsonRun } from "../io/json-check.ts";
import { startSandbox, type Sandbox } from "../sandbox/sandbox.ts";
import { applyFault, clearAll, mountRunsTmpfs, unmountRunsTmpfs, type FaultRecord } from "./faults.ts";
import { ownVerdictProblems } from "./own-verdict.ts";
import { describeRun, drawPlan, FAULT_KINDS, type FaultKind, type RunPlan } from "./plan.ts";

const BUNDLE = fileURLToPath(new URL("../../dist/unidesk-ci.mjs", import.meta.url));
/** Finished runs the runner keeps (UNIDESK_CI_KEEP_RUNS on the sandbox's D601): small, so retention prunes often. */
export const SOAK_KEEP_RUNS = 6;
/** The sandbox run timeout: the minimum the CLI accepts, so a hang ends in a minute. */
const RUN_TIMEOUT_MS = 60_000;
const WAIT_MS = 100_000;
/** Faults that strike one run's own processes or objects; every other kind hits the whole host. */
const TARGETED = new Set<FaultKind>(["kill-launcher", "kill-runner", "kill-cli", "pod-deleted", "pr-cancelled"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Options of {@link soak}. */
export interface SoakOptions {
  runs: number;
  seed: number;
  parallel?: number;
  faults?: readonly FaultKind[];
  only?: number;
  /** Where kept run directories go. @default a new dir under os.tmpdir() */
  outDir?: string;
  /** Keep every run's files, not only a violating run's. */
  keepAll?: boolean;
  /** One line per event (stderr by default). */
  log?: (line: string) => void;
}

/** One CLI process of a run. */
export interface CliRecord {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** When it was spawned (ms). */
  startedAt: number;
  jsonProblem?: string;
}

/** One invariant's verdict on one run. */
export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

/** What one run did and what held. */
export interface RunReport {
  plan: RunPlan;
  runIds: string[];
  faults: FaultRecord[];
  clis: CliRecord[];
  checks: Check[];
  keptDir?: string;
  status: Record<string, string>;
  /** No fault of its own and none of the host's overlapped it. */
  clean: boolean;
  endedAt: number;
}

/** What the whole soak found. */
export interface SoakReport {
  seed: number;
  runs: RunReport[];
  final: Check[];
  wallMs: number;
  violations: { index: number; check: Check; keptDir?: string }[];
}

/** The run id of run `index` (a DNS label ≤ 40 chars). */
export const runIdFor = (seed: number, index: number, suffix = "") => `soak-${(seed >>> 0).toString(36)}-${index}${suffix}`;

function fakeOutcome(p: RunPlan): Outcome {
  const o = p.outcome;
  if (o.kind === "succeed") return { kind: "succeed", delayMs: o.delayMs };
  if (o.kind === "fail") return { kind: "fail", task: o.task, message: "soak: scripted failure" };
  if (o.kind === "hang") return { kind: "hang" };
  return { kind: "tasks", tasks: scriptedTasks({ lines: o.lines, intervalMs: o.intervalMs, failTask: o.failTask ?? undefined }) };
}

/** The status a clean run must end in. */
function scriptedStatus(p: RunPlan): string {
  const o = p.outcome;
  if (o.kind === "succeed") return "succeeded";
  if (o.kind === "fail") return "failed";
  if (o.kind === "hang") return "timeout";
  return o.failTask ? "failed" : "succeeded";
}

/** Extra exit codes a fault may cause, by kind, beside the code the run's end calls for (docs/soak.md says why). */
function extraCodes(kind: FaultKind): number[] {
  switch (kind) {
    case "backend-401":
      return [4];
    case "backend-down":
    case "backend-5xx":
    case "backend-garbage":
    case "backend-drop":
      return [5];
    case "backend-slow":
      return [3, 5];
    case "kill-reader":
    case "kill-launcher":
    case "reboot":
    case "disk-full":
      return [5];
    case "kill-cli":
      return [130];
    case "git-5xx":
      // The operator's own `git fetch origin master` fails too: a git ref error, exit 2, nothing dispatched.
      return [2];
    default:
      return [];
  }
}

interface Ctx {
  sb: Sandbox;
  seed: number;
  commit: string;
  production: Record<string, string>;
  liveRuns: Set<string>;
  runsTmpfs: boolean;
  log: (line: string) => void;
  /** Every fault so far (`to` is Infinity while one is on): a fault of the whole host touches every run it overlaps. */
  faultLog: FaultRecord[];
  /** Runs found with no result.json and nothing alive: only the sweep may write their verdict now. */
  judgedLost: Set<string>;
  /** Runs the soak saw end `succeeded` (a failure digest's changes.since must name one of them). */
  succeeded: Set<string>;
  /** Runs whose cluster leftovers and lost verdicts the next clean run's sweep must settle. */
  pending: { index: number; runIds: string[]; endedAt: number }[];
}

function spawnCli(ctx: Ctx, args: string[], clis: CliRecord[], children: ChildProcess[]): Promise<CliRecord> {
  const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ctx.sb.operatorRepoDir, env: { NO_COLOR: "1", ...ctx.sb.cliEnv() }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const rec: CliRecord = { args, code: null, signal: null, stdout: "", stderr: "", startedAt: Date.now() };
  clis.push(rec);
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (rec.stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (rec.stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS + 60_000);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // What the run's result.json says as the command ends, before retention can prune it.
      for (const a of args) if (a.startsWith("soak-")) resultOf(ctx.sb, a);
      rec.code = code;
      rec.signal = signal;
      try {
        checkJsonRun(args, { code, stdout: rec.stdout });
      } catch (err) {
        rec.jsonProblem = err instanceof Error ? err.message.split("\n")[0] : String(err);
      }
      resolve(rec);
    });
  });
}

/** The commands of a run (its plan's command mix). */
async function commands(ctx: Ctx, p: RunPlan, ids: string[], clis: CliRecord[], children: ChildProcess[]): Promise<void> {
  const cli = (args: string[]) => spawnCli(ctx, args, clis, children);
  const [id] = ids as [string];
  const submit = (rid: string) => cli(["run-dev-e2e", "--run-id", rid, "--json"]);
  const wait = (rid: string) => cli(["run-dev-e2e", "--run-id", rid, "--wait-ms", String(WAIT_MS), "--json"]);
  switch (p.command) {
    case "submit":
      await submit(id);
      return;
    case "wait":
      await wait(id);
      return;
    case "follow":
      if ((await submit(id)).code === 0) await cli(["logs", id, "--follow", "--wait-ms", String(WAIT_MS)]);
      return;
    case "logs":
      if ((await submit(id)).code === 0) {
        await cli(["runs", "--json"]);
        await cli(["logs", id]);
      }
      return;
    case "cancel":
      if ((await submit(id)).code === 0) {
        await sleep(300 + (p.fault?.atMs ?? 700) / 3);
        await cli(["cancel", id, "--wait-ms", String(WAIT_MS), "--json"]);
      }
      return;
    case "twice":
      await submit(id);
      await submit(id);
      return;
    case "pair":
      await Promise.all(ids.map(wait));
      return;
  }
}

/** Every result.json read so far, by path: retention (6 kept) may prune a run's dir before its judge looks. */
const seenResults = new Map<string, Record<string, unknown>>();

export const resultOf = (sb: Sandbox, id: string): Record<string, unknown> | undefined => {
  const path = join(sb.runsRoot, id, "result.json");
  try {
    const res = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    seenResults.set(path, res);
    return res;
  } catch {
    return undefined;
  }
};

/**
 * result.json, or the one read earlier when the run's whole dir is gone since: only retention removes a dir that
 * held a result (seed 4242 runs 95 and 244: pruned by the runs beside it before the judge looked).
 */
export const lastResultOf = (sb: Sandbox, id: string): Record<string, unknown> | undefined =>
  resultOf(sb, id) ?? (existsSync(join(sb.runsRoot, id)) ? undefined : seenResults.get(join(sb.runsRoot, id, "result.json")));

/** D601 processes belonging to a run (its id on their command line). */
async function processesOf(sb: Sandbox, id: string) {
  return (await sb.d601.processes()).filter((p) => p.cmdline.includes(id));
}

/** The runner's liveness rule: a pid file names a live process whose command line names the run's dir. */
function pidAlive(sb: Sandbox, id: string): boolean {
  const dir = join(sb.runsRoot, id);
  for (const f of ["launcher.pid", "runner.pid"]) {
    try {
      const pid = readFileSync(join(dir, f), "utf8").trim();
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2))) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(dir)) return true;
    } catch {
      // no pid file, or the process is gone
    }
  }
  return false;
}

/** Waits until each run has a result.json, or nothing of it lives (lost, or never started); returns the ids still lost. */
async function settle(ctx: Ctx, ids: string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open: string[] = [];
    for (const id of ids) {
      if (resultOf(ctx.sb, id)) continue;
      if (!existsSync(join(ctx.sb.runsRoot, id))) continue;
      open.push(id);
    }
    if (open.length === 0) return [];
    let alive = false;
    for (const id of open) if (pidAlive(ctx.sb, id) || (await processesOf(ctx.sb, id)).length > 0) alive = true;
    if (!alive) {
      await sleep(1000); // a process between two pid files (launcher → runner) is not gone: look once more
      let still = false;
      for (const id of open) if (pidAlive(ctx.sb, id) || (await processesOf(ctx.sb, id)).length > 0 || resultOf(ctx.sb, id)) still = true;
      if (!still) {
        for (const id of open) ctx.judgedLost.add(id);
        return open;
      }
    }
    if (Date.now() > deadline) return open;
    await sleep(250);
  }
}

/** The exit code a CLI command must end with, given the run's end (`status`) and no fault. */
export function documentedCode(cmd: CliRecord, status: string | undefined, dir: "exists" | "pruned" | "never"): number[] {
  const [verb] = cmd.args;
  const waits = cmd.args.includes("--wait-ms");
  if (verb === "run-dev-e2e" && !waits) return [0];
  if (verb === "runs") return [0];
  // A dir retention pruned after a result was seen: found or not, depending on when the command ran.
  if (verb === "logs" && !cmd.args.includes("--follow")) return dir === "exists" ? [0] : dir === "pruned" ? [0, 2] : [2];
  if (verb === "cancel") {
    // 0: ended cancelled, or already finished before the cancel; 1: any other end, or a lost run.
    if (cmd.stdout.includes('"outcome":"finished"') && status !== "lost") return [0];
    return status === "cancelled" ? [0] : [1];
  }
  // run-dev-e2e --wait-ms, logs --follow --wait-ms
  if (status === undefined) return [3];
  return status === "succeeded" ? [0] : [1];
}

/**
 * What sent run `id` a SIGTERM that must end it `cancelled` (docs/soak.md, `cancel-ends-cancelled`), or undefined:
 * its `cancel` signalled its runner or launcher in a run with no fault, or a kill-runner/kill-launcher SIGTERM hit the
 * process in its pid file (a launcher still inside the dispatch call is no run yet) and no other fault touched it.
 */
function termsOf(p: RunPlan, ids: string[], id: string, clis: CliRecord[], touching: FaultRecord[]): string | undefined {
  if (touching.length === 0 && p.fault === null) {
    const cancel = clis.find((c) => c.args[0] === "cancel" && c.args[1] === id && c.stdout.includes('"outcome":"signalled"'));
    return cancel ? "its cancel signalled it" : undefined;
  }
  const [f] = touching;
  const kill = touching.length === 1 && f && (f.kind === "kill-runner" || f.kind === "kill-launcher") && f.hit && f.detail.startsWith("SIGTERM") && f.detail.includes(` of ${id} (`) && f.fromPidFile;
  return kill && ids.includes(id) ? f.detail : undefined;
}

/** Runs one planned run and checks every per-run invariant. */
async function runOne(ctx: Ctx, p: RunPlan): Promise<RunReport> {
  const { sb } = ctx;
  const ids = p.command === "pair" ? [runIdFor(ctx.seed, p.index), runIdFor(ctx.seed, p.index, "b")] : [runIdFor(ctx.seed, p.index)];
  for (const id of ids) sb.kube!.setOutcome(id, fakeOutcome(p));
  for (const id of ids) ctx.liveRuns.add(id);
  const clis: CliRecord[] = [];
  const children: ChildProcess[] = [];
  const faults: FaultRecord[] = [];
  const started = Date.now();
  const writesBefore = sb.kube!.writes().length;

  let faultDone: Promise<void> = Promise.resolve();
  if (p.fault) {
    const f = p.fault;
    faultDone = sleep(f.atMs).then(async () => {
      const entry: FaultRecord = { kind: f.kind, runIndex: p.index, hit: true, spoiled: [], from: Date.now(), to: Number.POSITIVE_INFINITY, detail: "on" };
      ctx.faultLog.push(entry);
      Object.assign(entry, await applyFault(f, p.index, { sb, runIds: ids, liveClis: () => children, liveRunIds: () => [...ctx.liveRuns], runsTmpfs: ctx.runsTmpfs }));
      faults.push(entry);
    });
  }
  await commands(ctx, p, ids, clis, children);
  await faultDone;
  await clearAll(sb);
  // A killed CLI's dispatch may still be running in backend-core (the launcher not yet started): let it land.
  const inFlight = () => sb.backend.requests.some((r) => r.status === 0 && ids.some((id) => JSON.stringify(r.body ?? "").includes(id)));
  for (const until = Date.now() + 60_000; inFlight() && Date.now() < until; ) await sleep(100);
  const lost = await settle(ctx, ids, RUN_TIMEOUT_MS + 60_000);
  await sleep(300);
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail?: string) => checks.push({ name, ok, ...(ok ? {} : { detail }) });
  // This run's own faults, and every fault of the whole host (drawn by runs alongside) that overlapped it.
  const now = Date.now();
  const touching = ctx.faultLog.filter((e) => e.runIndex === p.index || (!TARGETED.has(e.kind) && e.from <= now && e.to >= started));
  const spoiled = new Set(ctx.faultLog.flatMap((f) => f.spoiled));
  const anyFault = touching.length > 0 || p.fault !== null;
  const status: Record<string, string> = {};

  for (const id of ids) {
    const res = lastResultOf(sb, id);
    const dir = existsSync(join(sb.runsRoot, id));
    status[id] = res ? String(res["status"]) : dir ? "lost" : "none";
    // 1. the run ends definitely: result.json, or lost (nothing alive) for the next sweep
    check("ends-definitely", res !== undefined || lost.includes(id) || !dir, `${id}: no result.json and processes still alive`);
    if (!dir && !res) {
      // Never started: only a fault on the way there may explain it.
      check("started-unless-faulted", anyFault, `${id}: no run directory, and no fault`);
    }
    if (res) {
      // 2. succeeded only when the script succeeded and no fault spoiled it
      const ok = res["status"] !== "succeeded" || (scriptedStatus(p) === "succeeded" && !spoiled.has(id));
      check("honest-verdict", ok, `${id}: succeeded, but the script says ${scriptedStatus(p)}${spoiled.has(id) ? " and a fault spoiled it" : ""}`);
      if (!anyFault && p.command !== "cancel") {
        check("clean-run-verdict", res["status"] === scriptedStatus(p), `${id}: clean run ended ${String(res["status"])}, script says ${scriptedStatus(p)}`);
      }
      // 3. never a verdict for another run or commit
      check("own-verdict", res["runId"] === id && res["manifestCommit"] === ctx.commit, `${id}: result.json names ${String(res["runId"])} @ ${String(res["manifestCommit"])}`);
    }
    // A SIGTERM to the run's runner or launcher (a cancel that signalled it, or a kill-*/SIGTERM that hit it) and
    // nothing else: the run ends cancelled, or as scripted when the runner was already finishing; never error/lost.
    const termedBy = dir ? termsOf(p, ids, id, clis, touching) : undefined;
    if (termedBy) {
      const end = res ? String(res["status"]) : "without result.json";
      check("cancel-ends-cancelled", end === "cancelled" || end === scriptedStatus(p), `${id}: ${termedBy}, then ended ${end}${res ? `: ${String(res["reason"] ?? "")}` : ""}`);
    }
  }
  // The CLI's documents name only this run and commit (a digest's changes.since: a run that succeeded, not this one).
  for (const id of ids) if (status[id] === "succeeded") ctx.succeeded.add(id);
  const succeeded = (id: string) => ctx.succeeded.has(id) || resultOf(sb, id)?.["status"] === "succeeded";
  for (const c of clis) {
    for (const problem of ownVerdictProblems(c.args, c.stdout, { ids, commit: ctx.commit, succeeded })) check("own-verdict", false, problem);
    // --json documents valid under their schema, error.exitCode = exit code
    check("json-documents", c.jsonProblem === undefined, `${c.args.join(" ")}: ${c.jsonProblem}`);
  }
  // 4. exit codes: the documented one for what happened, or one the run's faults explain
  const extra = new Set(touching.filter((f) => f.hit).flatMap((f) => extraCodes(f.kind)));
  for (const c of clis) {
    const idOf = c.args[1] === "--run-id" ? c.args[2]! : c.args[1] ?? "";
    const st = status[idOf];
    const finalStatus = st === "none" ? undefined : st;
    const waitRanOut = c.code === 3;
    const dirNow = existsSync(join(sb.runsRoot, idOf)) ? "exists" : lastResultOf(sb, idOf) ? "pruned" : "never";
    const documented = documentedCode(c, waitRanOut ? undefined : finalStatus, dirNow);
    // SIGKILL has no exit code. A SIGTERM in the CLI's first moments (node still starting, before any handler
    // can exist) is a death by signal too, acceptable only if it did nothing yet: no output, nothing dispatched.
    const silent = c.stdout === "" && c.stderr === "" && !sb.backend.requests.some((r) => Date.parse(r.at) >= c.startedAt && JSON.stringify(r.body ?? "").includes(idOf));
    const killed = c.code === null && touching.some((f) => f.kind === "kill-cli" && f.hit && (f.detail.startsWith("SIGKILL") || (c.signal === "SIGTERM" && silent)));
    // A wait that ran out is documented only for a run still going at the deadline: a hang, or a slowed chain.
    const ranOutOk = waitRanOut && (p.outcome.kind === "hang" || touching.some((f) => f.hit && ["backend-slow", "kube-slow", "backend-down", "backend-5xx"].includes(f.kind)));
    const ok = killed || (c.code !== null && (documented.includes(c.code) || extra.has(c.code))) || ranOutOk;
    check("exit-code", ok, `${c.args.join(" ")} exited ${c.code ?? c.signal}; documented ${documented.join("/")} for ${finalStatus ?? "no end"}${extra.size ? `, faults allow ${[...extra].join("/")}` : ""}\n${c.stdout.slice(0, 600)}${c.stderr.slice(0, 600)}`);
  }
  // 6. no write to a protected namespace
  const allowed = new Set(["unidesk-ci", ...ids.map((i) => `unidesk-ci-${i}`)]);
  const writes = sb.kube!.writes().slice(writesBefore);
  const outside = writes.filter((w) => w.namespace === undefined || (!allowed.has(w.namespace) && !/^unidesk-ci-soak-/.test(w.namespace)));
  check("no-protected-write", outside.length === 0, JSON.stringify(outside.slice(0, 3)));
  check("production-unchanged", JSON.stringify(sb.kube!.snapshot()) === JSON.stringify(ctx.production), "a production object changed");
  // 7. no process left on D601 (after the end + grace)
  for (const id of ids) {
    if (!resultOf(sb, id)) continue;
    let left = await processesOf(sb, id);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await sleep(250);
      left = await processesOf(sb, id);
    }
    check("no-process-left", left.length === 0, `${id}: ${left.map((x) => `${x.pid} ${x.cmdline.slice(0, 120)}`).join("; ")}`);
  }
  // 8. no token in any output
  for (const c of clis) check("no-token", !(c.stdout + c.stderr).includes(sb.token), `token in the output of ${c.args.join(" ")}`);

  for (const id of ids) ctx.liveRuns.delete(id);
  ctx.pending.push({ index: p.index, runIds: ids, endedAt: Date.now() });
  void started;
  return { plan: p, runIds: ids, faults, clis, checks, status, clean: !anyFault, endedAt: Date.now() };
}

/** The checks a clean run's sweep makes possible for every earlier run: lost runs recorded, cluster clean. */
function sweepChecks(ctx: Ctx, before: number): { index: number; check: Check }[] {
  const out: { index: number; check: Check }[] = [];
  const kube = ctx.sb.kube!;
  ctx.pending = ctx.pending.filter((item) => {
    if (item.endedAt >= before) return true;
    // A dir without pid files is swept only once it is 60 s old (the runner's young-dir grace): not yet.
    const pidless = (id: string) => !["launcher.pid", "runner.pid"].some((f) => existsSync(join(ctx.sb.runsRoot, id, f)));
    if (item.runIds.some((id) => existsSync(join(ctx.sb.runsRoot, id)) && !resultOf(ctx.sb, id) && pidless(id)) && Date.now() - item.endedAt < 62_000) return true;
    for (const id of item.runIds) {
      const problems: string[] = [];
      // Retention may have pruned a finished run's dir: that is an end too.
      const res = resultOf(ctx.sb, id);
      if (existsSync(join(ctx.sb.runsRoot, id)) && !res) problems.push(`${id}: still no result.json after the next sweep`);
      // A run that was dead (nothing alive, no result) cannot come back with a runner's or launcher's verdict.
      if (ctx.judgedLost.has(id) && res && res["writer"] !== "sweep") problems.push(`${id}: judged lost (no live process), then ${String(res["writer"])} wrote ${String(res["status"])}`);
      if (kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${id}`)) problems.push(`namespace unidesk-ci-${id} left after the next sweep`);
      const pr = kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${id}`);
      if ((pr?.status?.["conditions"] as { status?: string }[] | undefined)?.[0]?.status === "Unknown") problems.push(`PipelineRun e2e-${id} still running after the next sweep`);
      out.push({ index: item.index, check: { name: "settled-by-sweep", ok: problems.length === 0, ...(problems.length ? { detail: problems.join("; ") } : {}) } });
    }
    return false;
  });
  return out;
}

/** Finished run directories within retention (after a clean run's runner pruned). */
async function retentionCheck(ctx: Ctx, extra: number): Promise<Check> {
  const names = (await readdir(ctx.sb.runsRoot).catch(() => [] as string[])).filter((n) => !n.startsWith("."));
  const finished = names.filter((n) => resultOf(ctx.sb, n));
  const ok = finished.length <= SOAK_KEEP_RUNS + extra;
  return { name: "retention", ok, detail: `${finished.length} finished run dirs, keep ${SOAK_KEEP_RUNS} (+${extra} ended since)` };
}

/** Token in a D601 file (home and work root). */
async function tokenFiles(sb: Sandbox): Promise<string[]> {
  const token = Buffer.from(sb.token);
  const hits: string[] = [];
  const walk = async (d: string) => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const p = join(d, name);
      const st = await lstat(p).catch(() => undefined);
      if (st?.isDirectory()) await walk(p);
      else if (st?.isFile() && st.size < 64 << 20 && (await readFile(p).catch(() => Buffer.alloc(0))).includes(token)) hits.push(p);
    }
  };
  await walk(join(sb.root, "d601"));
  return hits;
}

/** A clean run (no fault, succeeds): its runner sweeps what earlier runs left. */
async function sweepRun(ctx: Ctx, label: string): Promise<{ ok: boolean; id: string }> {
  const id = `soak-${(ctx.seed >>> 0).toString(36)}-${label}`;
  ctx.sb.kube!.setOutcome(id, { kind: "succeed", delayMs: 200 });
  const rec = await spawnCli(ctx, ["run-dev-e2e", "--run-id", id, "--wait-ms", String(WAIT_MS), "--json"], [], []);
  if (rec.code === 0) ctx.succeeded.add(id);
  return { ok: rec.code === 0, id };
}

/** Copies what a violation needs for diagnosis: the run dirs, the CLI outputs, the cluster's view. */
async function keep(ctx: Ctx, outDir: string, r: RunReport): Promise<string> {
  const dir = join(outDir, `run-${r.plan.index}`);
  await mkdir(dir, { recursive: true });
  for (const id of r.runIds) await cp(join(ctx.sb.runsRoot, id), join(dir, id), { recursive: true }).catch(() => undefined);
  await writeFile(join(dir, "report.json"), `${JSON.stringify({ plan: r.plan, faults: r.faults, checks: r.checks, clis: r.clis, status: r.status }, null, 2).split(ctx.sb.token).join("<token>")}\n`);
  await writeFile(join(dir, "kube-writes.json"), `${JSON.stringify(ctx.sb.kube!.writes().filter((w) => r.runIds.some((id) => `${w.namespace}/${w.name}`.includes(id))), null, 2)}\n`);
  return dir;
}

/** The whole soak: plan, sandbox, runs (P at a time), final sweep, report. */
export async function soak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((l: string) => process.stderr.write(`soak: ${l}\n`));
  const plan = drawPlan(options.seed, options.runs, options.faults ?? FAULT_KINDS, options.only);
  const t0 = Date.now();
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), `unidesk-soak-${options.seed}-`)));
  const sb = await startSandbox({ timeoutMs: RUN_TIMEOUT_MS, d601Env: { UNIDESK_CI_KEEP_RUNS: String(SOAK_KEEP_RUNS) } });
  const runsTmpfs = await mountRunsTmpfs(sb.runsRoot, 24);
  const ctx: Ctx = { sb, seed: options.seed, commit: sb.initialCommit, production: sb.kube!.snapshot(), liveRuns: new Set(), runsTmpfs, log, pending: [], faultLog: [], judgedLost: new Set(), succeeded: new Set() };
  const reports: RunReport[] = [];
  const violations: SoakReport["violations"] = [];
  const final: Check[] = [];
  try {
    log(`kept runs go to ${outDir}`);
    log(`sandbox ${sb.root}; runs root on ${runsTmpfs ? "a 24 MiB tmpfs" : "the disk (mount failed: disk-full misses)"}; ${plan.length} runs, seed ${options.seed}`);
    /** Sweep verdicts go to the runs they judge; a late violation keeps that run's files now. */
    const addSweepChecks = async (began: number, fallback: Check[]) => {
      for (const v of sweepChecks(ctx, began)) {
        const target = reports.find((x) => x.plan.index === v.index);
        (target?.checks ?? fallback).push(v.check);
        if (target && !v.check.ok) target.keptDir = await keep(ctx, outDir, target);
      }
    };
    const queue = [...plan];
    // SIGINT/SIGTERM: take no new run, finish the ones in flight, sweep and report (a long soak cut short still reports).
    const drain = (sig: string) => {
      log(`${sig}: no new runs; finishing the ${ctx.liveRuns.size} in flight, then the final sweep and the report`);
      queue.length = 0;
    };
    process.once("SIGINT", drain).once("SIGTERM", drain);
    const parallel = Math.max(1, options.parallel ?? 1);
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const began = Date.now();
        const r = await runOne(ctx, p);
        // A clean run's runner swept what runs ended before it began.
        if (r.clean && Object.values(r.status).every((s) => s === "succeeded" || s === "failed" || s === "timeout" || s === "cancelled")) {
          await addSweepChecks(began, r.checks);
          // Runs that ended after this run's runner pruned are not pruned yet.
          const endedSince = ctx.pending.length + reports.filter((x) => x.endedAt >= began).reduce((n, x) => n + x.runIds.length, 0);
          r.checks.push(await retentionCheck(ctx, r.runIds.length + endedSince + ctx.liveRuns.size * 2));
        }
        if (options.keepAll || r.checks.some((c) => !c.ok)) r.keptDir = await keep(ctx, outDir, r);
        reports.push(r);
        const bad = r.checks.filter((c) => !c.ok);
        log(`${describeRun(p)} → ${Object.values(r.status).join("/")}; ${r.faults.map((f) => `${f.kind}: ${f.hit ? f.detail : `missed (${f.detail})`}`).join("; ") || "-"}${bad.length ? `; VIOLATED ${bad.map((c) => c.name).join(", ")}` : ""} (${Math.round((Date.now() - began) / 1000)} s)`);
      }
    };
    await Promise.all([...Array(parallel)].map(worker));
    process.off("SIGINT", drain).off("SIGTERM", drain);

    // Final sweep: clean runs until every dead run is recorded (a dir without pid files waits out the 60 s grace).
    for (let i = 0; i < 3 && (i === 0 || ctx.pending.length > 0); i++) {
      const youngest = Math.max(0, ...ctx.pending.map((x) => x.endedAt));
      if (i > 0) await sleep(Math.max(0, youngest + 62_000 - Date.now()));
      const began = Date.now();
      const s = await sweepRun(ctx, `sweep${i}`);
      final.push({ name: "final-sweep-run", ok: s.ok, detail: `${s.id} did not succeed` });
      await addSweepChecks(began, final);
    }
    final.push(await retentionCheck(ctx, 3));
    const procs = await sb.d601.processes();
    final.push({ name: "no-process-left", ok: procs.length === 0, detail: procs.map((x) => `${x.pid} ${x.cmdline.slice(0, 100)}`).join("; ") });
    const leftNs = sb.kube!.listObjects("v1", "namespaces").map((n) => n.metadata.name).filter((n) => n.startsWith("unidesk-ci-"));
    final.push({ name: "no-cluster-leftover", ok: leftNs.length === 0, detail: leftNs.join(", ") });
    const running = sb.kube!.listObjects("tekton.dev/v1", "pipelineruns", "unidesk-ci").filter((pr) => (pr.status?.["conditions"] as { status?: string }[] | undefined)?.[0]?.status === "Unknown");
    final.push({ name: "no-cluster-leftover", ok: running.length === 0, detail: running.map((x) => x.metadata.name).join(", ") });
    const leaks = await tokenFiles(sb);
    final.push({ name: "no-token", ok: leaks.length === 0, detail: `token in ${leaks.join(", ")}` });
    const tokenSent = sb.d601.execs.some((x) => x.command.includes(sb.token)) || sb.backend.requests.some((r) => r.tokenInBody) || JSON.stringify(sb.backend.requests).includes(sb.token);
    final.push({ name: "no-token", ok: !tokenSent, detail: "token in a dispatched command or backend record" });
    final.push({ name: "production-unchanged", ok: JSON.stringify(sb.kube!.snapshot()) === JSON.stringify(ctx.production), detail: "a production object changed" });
  } finally {
    await clearAll(sb).catch(() => undefined);
    await sb.d601.killProcesses().catch(() => undefined);
    if (runsTmpfs) await unmountRunsTmpfs(sb.runsRoot);
    await sb.stop().catch((err) => log(`sandbox stop: ${String(err)}`));
  }
  for (const r of reports) {
    if (r.keptDir === undefined && r.checks.some((c) => !c.ok)) r.keptDir = join(outDir, `run-${r.plan.index}`);
    for (const c of r.checks) if (!c.ok) violations.push({ index: r.plan.index, check: c, keptDir: r.keptDir });
  }
  for (const c of final) if (!c.ok) violations.push({ index: -1, check: c });
  reports.sort((a, b) => a.plan.index - b.plan.index);
  return { seed: options.seed, runs: reports, final, wallMs: Date.now() - t0, violations };
}

/** The closing report: per fault kind, runs it hit and invariants held; every violation with its replay line. */
export function formatReport(rep: SoakReport): string {
  const lines: string[] = [];
  const total = rep.runs.flatMap((r) => r.checks).length + rep.final.length;
  const held = rep.runs.flatMap((r) => r.checks).filter((c) => c.ok).length + rep.final.filter((c) => c.ok).length;
  lines.push(`soak seed ${rep.seed}: ${rep.runs.length} runs in ${(rep.wallMs / 1000).toFixed(0)} s; invariants held ${held}/${total}`);
  lines.push("fault kind          drawn  hit  invariants held");
  const kinds = new Map<string, { drawn: number; hit: number; held: number; total: number }>();
  for (const r of rep.runs) {
    const kind = r.plan.fault?.kind ?? "(none)";
    const k = kinds.get(kind) ?? { drawn: 0, hit: 0, held: 0, total: 0 };
    k.drawn++;
    if (r.faults.some((f) => f.hit)) k.hit++;
    k.held += r.checks.filter((c) => c.ok).length;
    k.total += r.checks.length;
    kinds.set(kind, k);
  }
  for (const [kind, k] of [...kinds].sort()) lines.push(`${kind.padEnd(18)} ${String(k.drawn).padStart(6)} ${String(k.hit).padStart(4)}  ${k.held}/${k.total}`);
  const statuses = new Map<string, number>();
  for (const r of rep.runs) for (const s of Object.values(r.status)) statuses.set(s, (statuses.get(s) ?? 0) + 1);
  lines.push(`run ends: ${[...statuses].map(([s, n]) => `${s} ${n}`).join(", ")}`);
  if (rep.violations.length === 0) lines.push("no violation");
  for (const v of rep.violations) {
    lines.push(v.index < 0 ? `VIOLATION (final sweep) ${v.check.name}: ${v.check.detail}` : `VIOLATION run ${v.index} ${v.check.name}: ${v.check.detail}\n  replay: npm run soak -- --seed ${rep.seed} --only ${v.index}\n  kept: ${v.keptDir}`);
  }
  return `${lines.join("\n")}\n`;
}

function parseArgs(argv: string[]): SoakOptions & { plan: boolean; json?: string } {
  const o: SoakOptions & { plan: boolean; json?: string } = { runs: 10, seed: Date.now() % 2 ** 31, plan: false };
  let seedGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const int = (name: string, x: string, min: number) => {
      if (!/^\d+$/.test(x) || Number(x) < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${x}'`);
      return Number(x);
    };
    if (a === "--runs") o.runs = int("--runs", v(), 1);
    else if (a === "--seed") {
      o.seed = int("--seed", v(), 0);
      seedGiven = true;
    } else if (a === "--parallel") o.parallel = int("--parallel", v(), 1);
    else if (a === "--only") o.only = int("--only", v(), 0);
    else if (a === "--faults") {
      const list = v().split(",").filter(Boolean);
      const bad = list.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
      if (bad.length) throw new Error(`unknown fault kind ${bad.join(", ")}; known: ${FAULT_KINDS.join(", ")}`);
      o.faults = list as FaultKind[];
    } else if (a === "--plan") o.plan = true;
    else if (a === "--keep-all") o.keepAll = true;
    else if (a === "--out") o.outDir = v();
    else if (a === "--json") o.json = v();
    else throw new Error(`unknown option ${a}; usage: npm run soak -- --runs N --seed S [--parallel P] [--faults LIST] [--only K] [--plan] [--keep-all] [--out DIR] [--json FILE]`);
  }
  if (!seedGiven) process.stderr.write(`soak: no --seed given, using ${o.seed}\n`);
  return o;
}

async function main(): Promise<void> {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (o.plan) {
    for (const p of drawPlan(o.seed, o.runs, o.faults ?? FAULT_KINDS, o.only)) process.stdout.write(`${describeRun(p)}\n`);
    return;
  }
  if (!existsSync(BUNDLE)) {
    process.stderr.write("soak: dist/unidesk-ci.mjs is missing: npm run build first (npm run soak builds it)\n");
    process.exitCode = 2;
    return;
  }
  const rep = await soak(o);
  process.stdout.write(formatReport(rep));
  if (o.json) await writeFile(o.json, `${JSON.stringify({ seed: rep.seed, wallMs: rep.wallMs, runs: rep.runs.map((r) => ({ plan: r.plan, status: r.status, faults: r.faults, checks: r.checks })), final: rep.final, violations: rep.violations }, null, 1)}\n`);
  process.exitCode = rep.violations.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
