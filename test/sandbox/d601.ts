/**
 * The sandbox D601: an ssh2 SSH server on 127.0.0.1 (public-key auth only) that runs each exec
 * request like OpenSSH does, as `bash -c <command>`, in a sandbox home with a controlled
 * environment, and kills everything it started (detached launchers included) on stop().
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Server as NetServer, Socket } from "node:net";
import { delimiter, dirname, join } from "node:path";
import ssh2 from "ssh2";
import { listenOnLoopback, SocketTracker } from "./listen.ts";
import { generateKeyPair } from "./ssh-exec.ts";

/** Name of the variable every process started by a D601 instance inherits (value: its marker). */
export const MARKER_VAR = "UNIDESK_SANDBOX_D601";

/** One exec request D601 ran. */
export interface D601ExecRecord {
  /** When it started (ISO). */
  at: string;
  username: string;
  command: string;
  /** pid of the `bash -c` process. */
  pid: number;
  /** Exit code, null while running or when killed by a signal. */
  exitCode: number | null;
  /** Signal that killed it, if any. */
  signal: string | null;
  /** Wall time until the channel closed; null while running. */
  durationMs: number | null;
}

/** One authentication attempt. */
export interface D601AuthRecord {
  username: string;
  method: string;
  accepted: boolean;
}

/** A process carrying a D601 marker (from /proc). */
export interface SandboxProcess {
  pid: number;
  pgid: number;
  sid: number;
  /** Single-letter state from /proc/<pid>/stat (R, S, Z, …). */
  state: string;
  /** Start time in clock ticks since boot (tells a reused pid apart). */
  startTime: string;
  cmdline: string;
}

/** Options for {@link startD601}. */
export interface D601Options {
  /** The sandbox home: HOME and working directory of every command (created if missing). */
  home: string;
  /** OpenSSH public key lines allowed to log in. */
  authorizedKeys: string[];
  /** The only user name accepted. @default "ubuntu" */
  username?: string;
  /** KUBECONFIG for commands; when absent, one pointing at a closed port (kubectl fails fast). */
  kubeconfig?: string;
  /** GIT_SSL_CAINFO for commands: the sandbox CA. */
  caCertPath?: string;
  /** Directories put first on PATH (e.g. where a kubectl lives). @default [] */
  pathDirs?: string[];
  /** More variables for commands (set last; proxy variables are refused). */
  env?: Record<string, string>;
  /** Host private key (OpenSSH). @default a fresh ed25519 key */
  hostKey?: string;
}

/** A running D601. */
export interface D601 {
  host: "127.0.0.1";
  port: number;
  username: string;
  home: string;
  /** The host's public key line, for clients that verify it. */
  hostPublicKey: string;
  /** Value of {@link MARKER_VAR} in every process this instance started. */
  marker: string;
  /** Exact environment every command starts with. */
  commandEnv: Readonly<Record<string, string>>;
  /** Every exec request so far (live array). */
  readonly execs: D601ExecRecord[];
  /** Every authentication attempt so far (live array). */
  readonly authAttempts: D601AuthRecord[];
  /** Live (non-zombie) processes started by this instance, detached ones included. */
  processes(): Promise<SandboxProcess[]>;
  /** Waits until every exec channel so far has closed. */
  idle(): Promise<void>;
  /**
   * Makes `tools` missing for later commands: PATH becomes one directory of links to every other
   * program on it (bash cannot be hidden: it runs the commands). `[]` restores the PATH.
   */
  hideTools(tools: string[]): Promise<void>;
  /** Stops the SSH server and kills every process group/session it started (TERM, then KILL). */
  stop(): Promise<void>;
  /** A host reboot's first half: SIGKILLs every process this instance started (detached ones included); the server keeps listening. */
  killProcesses(): Promise<void>;
}

/** Finds an executable on the current PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Builds the environment D601 commands run with: no proxy variables, no inherited secrets. */
export function buildCommandEnv(options: D601Options, marker: string, defaultKubeconfig: string): Record<string, string> {
  const username = options.username ?? "ubuntu";
  const dirs: string[] = [...(options.pathDirs ?? [])];
  for (const tool of ["bash", "git", "jq", "kubectl", "setsid"]) {
    const found = findOnPath(tool);
    if (found) dirs.push(dirname(found));
  }
  dirs.push("/usr/local/bin", "/usr/bin", "/bin");
  const env: Record<string, string> = {
    HOME: options.home,
    USER: username,
    LOGNAME: username,
    SHELL: "/bin/bash",
    LANG: "C.UTF-8",
    PATH: [...new Set(dirs)].join(delimiter),
    // Keeps mktemp & co inside the sandbox.
    TMPDIR: join(options.home, "tmp"),
    KUBECONFIG: options.kubeconfig ?? defaultKubeconfig,
    [MARKER_VAR]: marker,
  };
  if (options.caCertPath) env.GIT_SSL_CAINFO = options.caCertPath;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (/^(https?|all|no)_proxy$/i.test(k)) throw new Error(`D601 commands must not get a proxy variable (${k})`);
    env[k] = v;
  }
  return env;
}

/** Starts D601 on 127.0.0.1:0. */
export async function startD601(options: D601Options): Promise<D601> {
  const username = options.username ?? "ubuntu";
  const marker = `d601-${randomBytes(6).toString("hex")}`;
  const home = options.home;
  await mkdir(join(home, "tmp"), { recursive: true });
  const defaultKubeconfig = join(home, ".kube-unreachable.yaml");
  if (!options.kubeconfig) {
    await writeFile(defaultKubeconfig, unreachableKubeconfig());
  }
  const commandEnv = buildCommandEnv(options, marker, defaultKubeconfig);
  const fullPath = commandEnv.PATH!;
  let shimDir: string | undefined;
  const dropShim = async () => {
    if (shimDir) await rm(shimDir, { recursive: true, force: true });
    shimDir = undefined;
  };
  const allowed = options.authorizedKeys.map((line) => {
    const k = ssh2.utils.parseKey(line);
    if (k instanceof Error) throw k;
    return k;
  });
  let hostPrivate = options.hostKey;
  let hostPublicKey: string;
  if (hostPrivate === undefined) {
    const pair = generateKeyPair("d601-host");
    hostPrivate = pair.privateKey;
    hostPublicKey = pair.publicKey;
  } else {
    const parsed = ssh2.utils.parseKey(hostPrivate);
    if (parsed instanceof Error) throw parsed;
    hostPublicKey = `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
  }

  const execs: D601ExecRecord[] = [];
  const authAttempts: D601AuthRecord[] = [];
  const children = new Set<ChildProcess>();
  const running = new Set<Promise<void>>();
  const connections = new Set<ssh2.Connection>();
  // Only live, unreaped children: a reaped pid may already belong to someone else.
  const ownPids = () => [...children].map((c) => c.pid).filter((p): p is number => p !== undefined);

  const server = new ssh2.Server({ hostKeys: [hostPrivate] }, (client) => {
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", () => {});
    let user = "";
    client.on("authentication", (ctx) => {
      user = ctx.username;
      const reject = () => {
        authAttempts.push({ username: ctx.username, method: ctx.method, accepted: false });
        ctx.reject(["publickey"]);
      };
      if (ctx.method !== "publickey" || ctx.username !== username) return reject();
      const match = allowed.find((k) => k.getPublicSSH().equals(ctx.key.data));
      if (!match) return reject();
      // Without a signature the client only asks whether this key would do.
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      if (match.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return reject();
      authAttempts.push({ username: ctx.username, method: ctx.method, accepted: true });
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("pty", (_a, rejectPty) => rejectPty?.());
        session.on("shell", (_a, rejectShell) => rejectShell?.());
        session.on("env", (_a, rejectEnv) => rejectEnv?.());
        session.on("exec", (acceptExec, _reject, info) => {
          const channel = acceptExec();
          const done = runExec(channel, info.command, user);
          running.add(done);
          void done.finally(() => running.delete(done));
        });
      });
    });
  });

  /** Runs one command with bash -c in its own session; the channel ends when bash exits and its pipes close (like sshd). */
  function runExec(channel: ssh2.ServerChannel, command: string, user: string): Promise<void> {
    const started = Date.now();
    const child = spawn("bash", ["-c", command], {
      cwd: home,
      env: commandEnv,
      // Its own session and process group, so stop() can kill the whole tree.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const record: D601ExecRecord = {
      at: new Date(started).toISOString(),
      username: user,
      command,
      pid: child.pid ?? 0,
      exitCode: null,
      signal: null,
      durationMs: null,
    };
    execs.push(record);
    children.add(child);
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr, { end: false });
    child.stdin.on("error", () => {});
    channel.pipe(child.stdin);
    channel.on("error", () => {});
    channel.on("close", () => {
      // The client hung up: like sshd, close the pipes; the command sees EPIPE/EOF but is not killed.
      child.stdout.unpipe(channel);
      child.stderr.unpipe(channel.stderr);
      child.stdout.resume();
      child.stderr.resume();
    });
    return new Promise<void>((resolve) => {
      child.on("error", (err) => {
        channel.stderr.write(`d601: cannot run bash: ${err.message}\n`);
        record.exitCode = 127;
        channel.exit(127);
        channel.end();
        children.delete(child);
        resolve();
      });
      child.on("close", (code, signal) => {
        children.delete(child);
        record.exitCode = code;
        record.signal = signal ? signal.replace(/^SIG/, "") : null;
        record.durationMs = Date.now() - started;
        if (channel.writable) {
          if (signal) channel.exit(signal.replace(/^SIG/, ""), false, "");
          else channel.exit(code ?? 255);
          channel.end();
        }
        resolve();
      });
    });
  }

  // ssh2 reports a connection only after the handshake; raw sockets come from its net.Server. No Nagle on them: its
  // delayed-ACK waits made each SSH round trip ≈ 90 ms (test/sandbox/ssh-exec.ts sets the client's side).
  const sockets = new SocketTracker();
  const raw = (server as unknown as { _srv: NetServer })._srv;
  raw.on("connection", sockets.track);
  raw.on("connection", (socket: Socket) => socket.setNoDelay(true));
  const port = await listenOnLoopback(server);

  const processes = async () => (await findMarkedProcesses(marker, ownPids())).filter((p) => !isDead(p.state));

  return {
    host: "127.0.0.1",
    port,
    username,
    home,
    hostPublicKey,
    marker,
    commandEnv,
    execs,
    authAttempts,
    processes,
    idle: async () => {
      while (running.size > 0) await Promise.all([...running]);
    },
    hideTools: async (tools) => {
      if (tools.includes("bash")) throw new Error("D601 hideTools: bash runs every command and cannot be hidden");
      commandEnv.PATH = fullPath;
      await dropShim();
      if (tools.length === 0) return;
      const dir = await mkdtemp(join(tmpdir(), "d601-path-"));
      shimDir = dir;
      const linked = new Set(tools);
      for (const from of fullPath.split(delimiter)) {
        for (const name of await readdir(from).catch(() => [] as string[])) {
          if (linked.has(name)) continue;
          const info = await stat(join(from, name)).catch(() => undefined);
          if (!info?.isFile() || (info.mode & 0o111) === 0) continue;
          linked.add(name);
          await symlink(join(from, name), join(dir, name));
        }
      }
      commandEnv.PATH = dir;
    },
    killProcesses: async () => {
      for (let i = 0; i < 20 && (await processes()).length > 0; i++) {
        for (const p of await processes()) tryKill(p.pid, "SIGKILL");
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      await dropShim();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.end();
      await killAll(marker, ownPids);
      for (const c of connections) c.end();
      const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 1000).unref())]);
      if (timedOut) {
        // A client stuck before or in the handshake has no ssh2 Connection to end: drop its socket.
        sockets.destroyAll();
        await closed;
      }
    },
  };
}

function unreachableKubeconfig(): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: none",
    "  cluster:",
    "    server: https://127.0.0.1:1",
    "    insecure-skip-tls-verify: true",
    "contexts:",
    "- name: none",
    "  context:",
    "    cluster: none",
    "    user: none",
    "current-context: none",
    "users:",
    "- name: none",
    "  user:",
    "    token: none",
    "",
  ].join("\n");
}

/** Processes whose environment holds `MARKER_VAR=marker`, plus the given pids and everything in their sessions. */
export async function findMarkedProcesses(marker: string, pids: Iterable<number> = []): Promise<SandboxProcess[]> {
  const needle = `${MARKER_VAR}=${marker}`;
  const all: SandboxProcess[] = [];
  const marked = new Set<number>(pids);
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const info = await readProc(pid);
    if (!info) continue;
    all.push(info);
    try {
      const environ = await readFile(`/proc/${pid}/environ`, "latin1");
      if (environ.split("\0").includes(needle)) marked.add(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  const self = await readProc(process.pid);
  const sessions = new Set<number>();
  for (const p of all) if (marked.has(p.pid) && p.sid !== self?.sid && p.sid > 1) sessions.add(p.sid);
  return all.filter((p) => p.pid !== process.pid && (marked.has(p.pid) || sessions.has(p.sid)));
}

async function readProc(pid: number): Promise<SandboxProcess | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "latin1");
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "latin1").catch(() => "")).split("\0").join(" ").trim();
    return { pid, state: fields[0] ?? "?", pgid: Number(fields[2]), sid: Number(fields[3]), startTime: fields[19] ?? "", cmdline };
  } catch {
    return undefined;
  }
}

/** Sends TERM to every marked process group and process, then KILL to what is left after a grace period. */
async function killAll(marker: string, ownPids: () => number[]): Promise<void> {
  const self = await readProc(process.pid);
  // pid → start time of every process signalled: an exiting process loses its environ before it
  // becomes a zombie, so "no marked process" alone would return while it still shows in ps.
  const signalled = new Map<number, string>();
  const signalAll = async (signal: NodeJS.Signals) => {
    const procs = (await findMarkedProcesses(marker, ownPids())).filter((p) => !isDead(p.state));
    for (const p of procs) {
      signalled.set(p.pid, p.startTime);
      if (p.pgid > 1 && p.pgid !== self?.pgid) tryKill(-p.pgid, signal);
      tryKill(p.pid, signal);
    }
    return procs.length;
  };
  const anyAlive = async () => {
    if ((await signalAll("SIGKILL")) > 0) return true;
    for (const [pid, startTime] of signalled) {
      const p = await readProc(pid);
      if (p && p.startTime === startTime && !isDead(p.state)) return true;
    }
    return false;
  };
  if ((await signalAll("SIGTERM")) === 0) return;
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if ((await signalAll("SIGTERM")) === 0) break;
  }
  for (let i = 0; i < 60; i++) {
    if (!(await anyAlive())) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`D601 stop: processes still alive: ${(await findMarkedProcesses(marker, ownPids())).map((p) => `${p.pid} ${p.cmdline}`).join("; ")}`);
}

/** Zombie or dead: nothing left to kill. */
function isDead(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
