/** The fixed read-only watch reader (watch-reader.sh): its renderer and the parser of its answer (docs/readers.md). */
import { UsageError } from "../errors.ts";
import {
  checkCapSetting,
  MANIFEST_MAX_BYTES,
  RESULT_MAX_BYTES,
  WATCH_ANSWER_CAP_BYTES,
  WATCH_ANSWER_CAP_MAX_BYTES,
  WATCH_BURST_MS,
  WATCH_FILES_MAX,
  WATCH_PATH,
  WATCH_POLL_MS,
  WATCH_PROGRESS_CAP_BYTES,
  WATCH_PROGRESS_VERSION,
  WATCH_WAIT_MS,
  WATCH_WAIT_MS_MAX,
} from "../rules.ts";
import { checkProgressJson, type RunProgress } from "./progress.ts";
import { decodeChangesRecord, decodeCount, decodeField, decodeLiveness, decodeReference, decodeResultRecord, lenientText, malformed, readerRecords } from "./records.ts";
import type { RunChanges } from "../runs/changes.ts";
import { judgeResult, type Liveness, type ResultExpectation, type ResultFile, type ResultVerdict } from "./result.ts";
import template from "./watch-reader.sh";
import { fillRunTemplate } from "./template.ts";

/** Byte offsets the caller holds: watched path (e.g. `runner.log`, `pods/<pod>_<container>.log`) → bytes already read. */
export type WatchOffsets = ReadonlyMap<string, number>;

/** What the watch reader is rendered from. */
export interface WatchReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to watch: a run id, or `@latest` / `@latest-failed` (resolved on the host, src/host/run-ref.sh). */
  runId: string;
  /** Bytes already held per file; files not named start at 0. @default empty */
  offsets?: WatchOffsets;
  /** `progress.version` of the last answer: progress.json is only sent again when it changed. @default null */
  progressVersion?: string | null;
  /** How long to wait on the host when nothing is new; 0 answers at once. @default WATCH_WAIT_MS */
  answerWaitMs?: number;
  /** New bytes per answer, over all files. @default WATCH_ANSWER_CAP_BYTES */
  capBytes?: number;
  /** Watch the logs too; false: only the status, progress.json and result.json count as news, no file is sent. @default true */
  logs?: boolean;
}

/** The watch reader script for one request; throws a UsageError naming a bad field. */
export function renderWatchReader(settings: WatchReaderSettings): string {
  const answerWaitMs = settings.answerWaitMs ?? WATCH_WAIT_MS;
  const cap = settings.capBytes ?? WATCH_ANSWER_CAP_BYTES;
  if (!Number.isInteger(answerWaitMs) || answerWaitMs < 0 || answerWaitMs > WATCH_WAIT_MS_MAX) {
    throw new UsageError(`answerWaitMs ${JSON.stringify(answerWaitMs)} must be an integer number of milliseconds from 0 to ${WATCH_WAIT_MS_MAX}`);
  }
  checkCapSetting("capBytes", cap, 1, WATCH_ANSWER_CAP_MAX_BYTES);
  const version = settings.progressVersion ?? "";
  if (version !== "" && !WATCH_PROGRESS_VERSION.test(version)) {
    throw new UsageError(`progressVersion ${JSON.stringify(version)} must be the version a watch answer gave (<inode>:<size>:<mtime>)`);
  }
  return fillRunTemplate(template, "watch-reader.sh", settings, {
    OFFSETS: formatOffsets(settings.offsets ?? new Map()),
    PROGRESS_VERSION: version,
    WAIT_MS: String(answerWaitMs),
    POLL_MS: String(WATCH_POLL_MS),
    BURST_MS: String(WATCH_BURST_MS),
    CAP_BYTES: String(cap),
    PROGRESS_CAP_BYTES: String(WATCH_PROGRESS_CAP_BYTES),
    RESULT_CAP_BYTES: String(RESULT_MAX_BYTES),
    FILES_MAX: String(WATCH_FILES_MAX),
    // A bash ERE: the same pattern without the escaped slash a JS literal needs.
    PATH_RE: WATCH_PATH.source.replaceAll("\\/", "/"),
    LOGS: settings.logs === false ? "0" : "1",
    DEPLOY_CAP_BYTES: String(MANIFEST_MAX_BYTES),
  });
}

/** `path=offset` lines, each path a WATCH_PATH and at most WATCH_FILES_MAX of them; throws a UsageError otherwise. */
export function formatOffsets(offsets: WatchOffsets): string {
  if (offsets.size > WATCH_FILES_MAX) throw new UsageError(`offsets hold ${offsets.size} files; at most ${WATCH_FILES_MAX} are allowed`);
  const lines: string[] = [];
  for (const [path, offset] of offsets) {
    if (!WATCH_PATH.test(path)) throw new UsageError(`offsets: ${JSON.stringify(path)} is not a watched file (launcher.log, runner.log or pods/<name>)`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new UsageError(`offsets: ${path}=${JSON.stringify(offset)} must be a non-negative integer`);
    lines.push(`${path}=${offset}`);
  }
  return lines.join("\n");
}

const READER = "watch reader";

/** New bytes of one file. */
export interface WatchChunk {
  path: string;
  /** Where the bytes start: the offset the request held. */
  offset: number;
  /** The file's size when the reader looked. */
  sizeBytes: number;
  /** The bytes from `offset` (within the answer cap), or null when the file is shorter than `offset` (replaced). */
  bytes: Uint8Array | null;
}

/** progress.json in a watch answer. */
export type WatchProgress =
  | { state: "absent" }
  /** Same version as the request named: not sent again. */
  | { state: "same"; version: string }
  | { state: "changed"; version: string; progress: RunProgress | null; progressProblem: string | null };

/** A launcher or runner process as seen through its pid file; alive as the liveness rule counts it (its cmdline names the run's result dir, or cannot be read). */
export interface ProcessState {
  /** From the pid file; null when there is none yet. */
  pid: number | null;
  alive: boolean;
}

/** What a reader's answer says about a run: does it exist, is it finished (result.json judged as every reader's), what is running. */
export type RunStatus = ResultVerdict & {
  /** The run read: the id asked for, or the one `reference` resolved to. */
  runId: string;
  /** The result dir exists (the launcher accepted the run). */
  exists: boolean;
  /** From launcher.pid. */
  launcher: ProcessState;
  /** From runner.pid. */
  runner: ProcessState;
  /** The runner's liveness rule over both pid files and the dir's age (before result.json was read). */
  liveness: Liveness;
  /** pipelinerun.txt, trimmed, when present. */
  pipelineRun: string | null;
};

/** One watch answer: the run's status, progress.json if it changed, and the new bytes of each log. */
export type WatchAnswer = RunStatus & {
  /** `@latest` / `@latest-failed` when the request named the run by one, else null. */
  reference: string | null;
  /** A run that ended without succeeding: what changed since the last green run (commits null); else null. */
  changes: RunChanges | null;
  progress: WatchProgress;
  chunks: WatchChunk[];
  /** Bytes in `chunks`. */
  keptBytes: number;
  /** Some new bytes did not fit (cap or file count): ask again at once. */
  more: boolean;
  /** How long the reader waited on the host. */
  waitedMs: number;
};

const NO_PROCESS: ProcessState = { pid: null, alive: false };
const NO_RUN: Liveness = { live: false, why: "no run directory" };

/**
 * Parses the watch reader's stdout, judging result.json against `expected` (by default: the run id the answer
 * names); throws DispatchError (exit 5) on a malformed answer or one about another run.
 */
export function parseWatchOutput(stdout: string, expected?: ResultExpectation): WatchAnswer {
  const answer: WatchAnswer = {
    runId: "",
    reference: null,
    changes: null,
    exists: false,
    launcher: NO_PROCESS,
    runner: NO_PROCESS,
    liveness: NO_RUN,
    pipelineRun: null,
    resultState: "none",
    result: null,
    resultProblem: null,
    progress: { state: "absent" },
    chunks: [],
    keptBytes: 0,
    more: false,
    waitedMs: 0,
  };
  let ended = false;
  let resultFile: ResultFile | null = null;
  let liveness: Liveness | undefined;
  for (const [key, ...f] of readerRecords(stdout, "unidesk-ci-watch", READER)) {
    if (key === "runid") answer.runId = f[0] ?? "";
    else if (key === "ref") answer.reference = decodeReference(f, READER);
    else if (key === "changes") answer.changes = decodeChangesRecord(f, READER);
    else if (key === "run") {
      if (f[0] !== "present" && f[0] !== "absent") throw malformed(READER, `run is ${JSON.stringify(f[0])}`);
      answer.exists = f[0] === "present";
    } else if (key === "launcher") answer.launcher = parseProcess(f);
    else if (key === "runner") answer.runner = parseProcess(f);
    else if (key === "liveness") liveness = decodeLiveness(f, READER);
    else if (key === "pipelinerun") answer.pipelineRun = textOf(decodeField(f[0], READER))?.trim() || null;
    else if (key === "result") resultFile = decodeResultRecord(f, READER);
    else if (key === "progress") answer.progress = parseProgress(f);
    else if (key === "file") answer.chunks.push(parseChunk(f));
    else if (key === "waited") answer.waitedMs = decodeCount(f[0], READER);
    else if (key === "end") {
      if (decodeCount(f[0], READER) !== answer.chunks.length) throw malformed(READER, "the file count does not match (the answer was cut short)");
      answer.more = f[2] === "1";
      ended = true;
    } else throw malformed(READER, `unknown line ${JSON.stringify(key)}`);
  }
  if (!ended || answer.runId === "") throw malformed(READER, "no 'runid' or 'end' line");
  // Asked by reference, the answer names the run it resolved to: that is the run whose verdict counts.
  const asked = expected && answer.reference !== null && answer.reference === expected.runId ? { ...expected, runId: answer.runId } : expected;
  if (asked && answer.runId !== asked.runId) throw malformed(READER, `it answered for run ${JSON.stringify(answer.runId)}, not ${asked.runId}`);
  if (answer.exists) {
    if (!liveness) throw malformed(READER, "no 'liveness' line");
    answer.liveness = liveness;
  }
  Object.assign(answer, judgeResult(resultFile, asked ?? { runId: answer.runId }, answer.exists ? liveness : undefined));
  answer.keptBytes = answer.chunks.reduce((n, c) => n + (c.bytes?.length ?? 0), 0);
  return answer;
}

/** The offsets after an answer: each file advanced by exactly the bytes it returned (so nothing is lost or repeated). */
export function advanceOffsets(offsets: WatchOffsets, answer: WatchAnswer): Map<string, number> {
  const next = new Map(offsets);
  for (const c of answer.chunks) if (c.bytes) next.set(c.path, c.offset + c.bytes.length);
  return next;
}

/** The progress version to send with the next request. */
export function nextProgressVersion(previous: string | null, answer: WatchAnswer): string | null {
  return answer.progress.state === "absent" ? previous : answer.progress.version;
}

function textOf(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : lenientText(bytes);
}

function parseProcess([pid, state]: string[]): ProcessState {
  if (state === "none") return NO_PROCESS;
  if (state !== "alive" && state !== "dead") throw malformed(READER, `process state ${JSON.stringify(state)}`);
  return { pid: decodeCount(pid, READER), alive: state === "alive" };
}

function parseProgress([version, size, content]: string[]): WatchProgress {
  if (version === "-") return { state: "absent" };
  if (version === undefined || !WATCH_PROGRESS_VERSION.test(version)) throw malformed(READER, `progress version ${JSON.stringify(version)}`);
  if (content === "same") return { state: "same", version };
  const bytes = decodeField(content, READER);
  const sizeBytes = decodeCount(size, READER);
  if (bytes === null) return { state: "changed", version, progress: null, progressProblem: "progress.json could not be read" };
  if (sizeBytes > bytes.length) return { state: "changed", version, progress: null, progressProblem: `progress.json is ${sizeBytes} bytes, more than the ${bytes.length} the watch reader returns` };
  return { state: "changed", version, ...checkProgressJson(lenientText(bytes)) };
}

function parseChunk([path, offset, size, content]: string[]): WatchChunk {
  if (path === undefined || !WATCH_PATH.test(path)) throw malformed(READER, `bad file path ${JSON.stringify(path)}`);
  return { path, offset: decodeCount(offset, READER), sizeBytes: decodeCount(size, READER), bytes: decodeField(content, READER) };
}
