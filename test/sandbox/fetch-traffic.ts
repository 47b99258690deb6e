/**
 * What a D601 fetch moves through the sandbox's egress proxy: a manifest repo padded with bulk random
 * blobs, the proxy's traffic since a mark, and the old and the launcher's fetch run by hand through the
 * same proxy (for the e2e test and `npm run bench`).
 */
import { execFile as execFileCb } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Sandbox } from "./sandbox.ts";

const execFile = promisify(execFileCb);

/** Options for {@link commitBulkBlobs}. */
export interface BulkBlobsOptions {
  /** Total size of the random blobs. @default 20 MiB */
  totalBytes?: number;
  /** How many files they are split into (the first half goes in one commit, the rest in the next). @default 5 */
  files?: number;
}

/** The commits {@link commitBulkBlobs} pushed. */
export interface BulkBlobs {
  /** The new origin master, holding every bulk file in its tree: the next run's manifest commit. */
  commit: string;
  /** Its parent, holding the first half (so the blobs are in the history too). */
  parent: string;
  /** Repo paths of the bulk files. */
  paths: string[];
  totalBytes: number;
}

/** Pushes random, incompressible files (`bulk/blob-N.bin`) to origin master in two commits. */
export async function commitBulkBlobs(sb: Sandbox, options: BulkBlobsOptions = {}): Promise<BulkBlobs> {
  const totalBytes = options.totalBytes ?? 20 * 1024 * 1024;
  const count = options.files ?? 5;
  const files = Array.from({ length: count }, (_, i) => [`bulk/blob-${i}.bin`, randomBytes(Math.ceil(totalBytes / count))] as const);
  const half = Math.ceil(count / 2);
  const parent = await sb.commit({ files: Object.fromEntries(files.slice(0, half)), message: "Bulk blobs, first half" });
  const commit = await sb.commit({ files: Object.fromEntries(files.slice(half)), message: "Bulk blobs, second half" });
  return { commit, parent, paths: files.map(([p]) => p), totalBytes: files.reduce((n, [, b]) => n + b.length, 0) };
}

/** Where the proxy's and the git server's request lists stood. */
export interface TrafficMark {
  proxyRequests: number;
  gitRequests: number;
}

/** What crossed the egress proxy since a mark. */
export interface Traffic {
  /** Both directions. */
  bytes: number;
  bytesToTarget: number;
  bytesFromTarget: number;
  /** Requests the proxy received (CONNECT and plain), whatever it did with them. */
  proxyRequests: number;
  /** CONNECT tunnels it opened. */
  tunnels: number;
  /** HTTP requests the git server received through those tunnels. */
  gitRequests: number;
}

/** Marks the current end of the proxy's and the git server's records. */
export function markTraffic(sb: Sandbox): TrafficMark {
  return { proxyRequests: sb.proxy.requests.length, gitRequests: sb.git.requests.length };
}

/** Sums the proxy's records after `mark`. */
export function trafficSince(sb: Sandbox, mark: TrafficMark): Traffic {
  const records = sb.proxy.requests.slice(mark.proxyRequests);
  const tunnels = records.filter((r) => r.outcome === "tunnel");
  const ports = new Set(tunnels.map((r) => r.outboundPort));
  const bytesToTarget = records.reduce((n, r) => n + r.bytesToTarget, 0);
  const bytesFromTarget = records.reduce((n, r) => n + r.bytesFromTarget, 0);
  return {
    bytes: bytesToTarget + bytesFromTarget,
    bytesToTarget,
    bytesFromTarget,
    proxyRequests: records.length,
    tunnels: tunnels.length,
    gitRequests: sb.git.requests.slice(mark.gitRequests).filter((r) => ports.has(r.remotePort)).length,
  };
}

/** Which fetch {@link fetchByHand} runs. */
export type FetchKind = "old" | "launcher";

/**
 * Fetches `commit` into a fresh repo at `dir` as D601 would (its environment, `-c http.proxy=` the egress
 * proxy): `old` is the former launcher's full-blob shallow fetch; `launcher` is today's pair from
 * src/host/launcher.sh, the commit's trees without blobs, then only deploy.json's and the runner's blobs.
 */
export async function fetchByHand(sb: Sandbox, kind: FetchKind, commit: string, dir: string): Promise<void> {
  const env = { ...sb.d601.commandEnv };
  const git = (...args: string[]) => execFile("git", ["-c", `http.proxy=${sb.proxyUrl}`, "-C", dir, ...args], { env, maxBuffer: 1 << 20 });
  await mkdir(dir, { recursive: true });
  await execFile("git", ["init", "-q", dir], { env });
  await git("remote", "add", "origin", sb.originUrl);
  if (kind === "old") {
    await git("fetch", "--no-tags", "--depth=1", "origin", commit);
    return;
  }
  await git("fetch", "--no-tags", "--depth=1", "--filter=blob:none", "origin", commit);
  const tree = (await git("ls-tree", commit, "deploy.json", "scripts/ci/dev-e2e.sh")).stdout;
  const blobs = tree.split("\n").filter(Boolean).map((line) => line.split(/\s+/)[2]!);
  if (blobs.length !== 2) throw new Error(`fetchByHand: expected 2 blobs at ${commit}, got:\n${tree}`);
  await git("fetch", "-q", "--no-tags", "origin", ...blobs);
}

/** Milliseconds of the launcher's fetch phase in a launcher.log: from `fetching …` to `extracted … clone removed`. */
export function fetchPhaseMs(launcherLog: string): number | undefined {
  const at = (re: RegExp) => {
    const m = new RegExp(`^(\\S+) ${re.source}`, "m").exec(launcherLog);
    return m ? Date.parse(m[1]!) : NaN;
  };
  const ms = at(/extracted runner\.sh and deploy\.json; clone removed$/) - at(/fetching [0-9a-f]{40} /);
  return Number.isFinite(ms) ? ms : undefined;
}
