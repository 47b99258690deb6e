/**
 * The soak's plan: what each run does, drawn from a seed with a small PRNG of our own (mulberry32), so the
 * same seed always draws the same outcomes, commands and faults. Each run draws from its own stream (seeded
 * by the soak's seed and the run index), so `--only K` replays run K exactly as it ran inside the whole soak.
 * Pure: no I/O, no clock. See docs/soak.md.
 */

/** mulberry32: a 32-bit state PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The stream of run `index` of soak `seed` (a 32-bit mix of both, so neighbouring runs are unrelated). */
export function runStream(seed: number, index: number): () => number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (index + 1) ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return mulberry32(h ^ (h >>> 16));
}

/** What the fake Tekton does with the run's PipelineRun. */
export type PlannedOutcome =
  | { kind: "succeed"; delayMs: number }
  | { kind: "fail"; task: string }
  /** Tasks that never finish: the run ends by its own timeout (or a cancel). */
  | { kind: "hang" }
  /** Several tasks in sequence with growing logs. */
  | { kind: "tasks"; lines: number; intervalMs: number; failTask: string | null };

/** What the operator does. */
export type PlannedCommand =
  /** `run-dev-e2e` alone, then `logs` once the run ended. */
  | "submit"
  /** `run-dev-e2e --wait-ms`. */
  | "wait"
  /** `run-dev-e2e`, then `logs --follow`. */
  | "follow"
  /** `run-dev-e2e`, `runs`, and `logs` while it runs. */
  | "logs"
  /** `run-dev-e2e`, then `cancel --wait-ms` while it runs. */
  | "cancel"
  /** `run-dev-e2e --run-id R` twice (the second is a duplicate). */
  | "twice"
  /** Two runs at once, both `--wait-ms`. */
  | "pair";

/** Every fault kind the soak can inject (docs/soak.md says what each does). */
export const FAULT_KINDS = [
  "kill-launcher",
  "kill-runner",
  "kill-reader",
  "kill-cli",
  "backend-down",
  "backend-5xx",
  "backend-401",
  "backend-slow",
  "backend-garbage",
  "backend-drop",
  "proxy-down",
  "proxy-refusing",
  "git-5xx",
  "kube-5xx",
  "kube-409",
  "kube-slow",
  "kube-drop-watch",
  "pod-deleted",
  "pr-cancelled",
  "disk-full",
  "clock-jump",
  "reboot",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One fault of one run. */
export interface PlannedFault {
  kind: FaultKind;
  /** When it strikes, after the run's first command started. */
  atMs: number;
  /** How long a switch stays on (switch faults); signal faults ignore it. */
  forMs: number;
  /** The signal of a kill-* fault. */
  signal: "SIGKILL" | "SIGTERM";
  /** kube-5xx's status (500 or 503), clock-jump's direction (+1 forward, -1 back). */
  variant: number;
}

/** One run of the soak. */
export interface RunPlan {
  index: number;
  outcome: PlannedOutcome;
  command: PlannedCommand;
  /** null: a clean run (the control group; also what sweeps after a faulty one). */
  fault: PlannedFault | null;
}

const TASKS = ["check-inputs", "smoke-namespace", "report"];
const COMMANDS: PlannedCommand[] = ["submit", "wait", "wait", "follow", "logs", "cancel", "twice", "pair"];

/** An integer in [lo, hi]. */
const between = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/**
 * Run `index` of soak `seed`, faults drawn from `faults` (default all). Every run draws the same number of values
 * whatever it picks, so a change to one field's range does not shift the others.
 */
export function drawRun(seed: number, index: number, faults: readonly FaultKind[] = FAULT_KINDS): RunPlan {
  const r = runStream(seed, index);
  const o = r();
  const task = pick(r, TASKS);
  const lines = between(r, 2, 8);
  const intervalMs = between(r, 40, 250);
  const failInTasks = r() < 0.3;
  const delayMs = between(r, 200, 1500);
  // hang is rare: a hang past the timeout costs the run's whole timeout (60 s, the minimum).
  const outcome: PlannedOutcome =
    o < 0.4 ? { kind: "succeed", delayMs }
    : o < 0.62 ? { kind: "fail", task }
    : o < 0.68 ? { kind: "hang" }
    : { kind: "tasks", lines, intervalMs, failTask: failInTasks ? task : null };
  const command = pick(r, COMMANDS);
  const faulty = r() < 0.8 && faults.length > 0;
  const kind = pick(r, faults.length > 0 ? faults : FAULT_KINDS);
  const fault: PlannedFault = {
    kind,
    atMs: between(r, 0, 3500),
    forMs: between(r, 300, 4000),
    signal: r() < 0.5 ? "SIGKILL" : "SIGTERM",
    variant: r() < 0.5 ? 1 : -1,
  };
  if (kind === "kube-5xx") fault.variant = fault.variant > 0 ? 500 : 503;
  return { index, outcome, command, fault: faulty ? fault : null };
}

/** The plan of a whole soak (or of the runs in `only`). */
export function drawPlan(seed: number, runs: number, faults: readonly FaultKind[] = FAULT_KINDS, only?: number): RunPlan[] {
  const indexes = only === undefined ? [...Array(runs).keys()] : [only];
  return indexes.map((i) => drawRun(seed, i, faults));
}

/** One line per run, for `--plan` and reports. */
export function describeRun(p: RunPlan): string {
  const o = p.outcome;
  const outcome = o.kind === "succeed" ? `succeed(${o.delayMs}ms)` : o.kind === "fail" ? `fail(${o.task})` : o.kind === "hang" ? "hang" : `tasks(${o.lines} lines/${o.intervalMs}ms${o.failTask ? `, fail ${o.failTask}` : ""})`;
  const f = p.fault;
  const fault = f ? `${f.kind}${f.kind.startsWith("kill-") ? `/${f.signal}` : ""} at ${f.atMs}ms for ${f.forMs}ms` : "no fault";
  return `#${p.index} ${outcome} ${p.command} ${fault}`;
}
