/** One command over SSH with the ssh2 client (key auth): what backend-core's host.ssh does. */
import ssh2 from "ssh2";

/** Where and as whom to connect. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** OpenSSH private key text. */
  privateKey: string;
  /** When set, the server's host key (OpenSSH public key line) must match it. */
  hostKey?: string;
}

/** Result of one exec. */
export interface SshExecResult {
  /** Exit status; null when the command died by a signal or never reported one. */
  exitCode: number | null;
  /** Signal name as ssh2 reports it (e.g. `SIGKILL`) when the command died by a signal. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Why an exec failed before producing a result. */
export class SshExecError extends Error {
  /** `connect`: no SSH session (refused, auth, handshake); `disconnected`: lost mid-command; `timeout`: budget ran out. */
  readonly kind: "connect" | "disconnected" | "timeout";
  constructor(kind: "connect" | "disconnected" | "timeout", message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = "SshExecError";
  }
}

/** Options for {@link sshExec}. */
export interface SshExecOptions {
  /** Whole budget (connect + run); on expiry the connection is dropped. @default 60000 */
  timeoutMs?: number;
  /** Budget for the TCP + SSH handshake alone. @default 10000 */
  readyTimeoutMs?: number;
  /** Drops the connection when aborted (rejects with kind `disconnected`). */
  signal?: AbortSignal;
}

/** Connects, runs `command`, closes; stdin is closed at once. Throws {@link SshExecError}. */
export function sshExec(target: SshTarget, command: string, options: SshExecOptions = {}): Promise<SshExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    let settled = false;
    let ready = false;
    const onAbort = () => finish(() => reject(new SshExecError("disconnected", "aborted")));
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      conn.end();
      // A half-open TCP connection must not outlive the request.
      setImmediate(() => conn.destroy());
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new SshExecError("timeout", `command did not finish within ${timeoutMs} ms`))),
      timeoutMs,
    );
    conn.on("error", (err) =>
      finish(() => reject(new SshExecError(ready ? "disconnected" : "connect", `ssh ${target.host}:${target.port}: ${err.message}`, { cause: err }))),
    );
    conn.on("close", () => finish(() => reject(new SshExecError(ready ? "disconnected" : "connect", "ssh connection closed before the command finished"))));
    conn.on("ready", () => {
      ready = true;
      conn.exec(command, (err, stream) => {
        if (err) {
          finish(() => reject(new SshExecError("connect", `exec refused: ${err.message}`, { cause: err })));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let exitCode: number | null = null;
        let signal: string | null = null;
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => errOut.push(d));
        stream.on("exit", (code: number | null, sig?: string) => {
          exitCode = typeof code === "number" ? code : null;
          signal = sig ?? null;
        });
        stream.on("close", () =>
          finish(() =>
            resolve({ exitCode, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errOut).toString("utf8") }),
          ),
        );
        stream.end();
      });
    });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort);
    conn.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      readyTimeout: options.readyTimeoutMs ?? 10_000,
      hostVerifier: target.hostKey === undefined ? undefined : (key: Buffer) => key.equals(publicBlob(target.hostKey!)),
    });
    // Each SSH message goes out at once: with Nagle's algorithm on both ends, every round trip of the auth and
    // channel setup waited for a delayed ACK (≈ 90 ms each, ≈ 0.5 s a dispatch on loopback).
    conn.setNoDelay(true);
  });
}

/** The wire blob of an OpenSSH public key line. */
function publicBlob(line: string): Buffer {
  const parsed = ssh2.utils.parseKey(line);
  if (parsed instanceof Error) throw parsed;
  return parsed.getPublicSSH();
}

/** Generates an ed25519 key pair in OpenSSH format (client keys and host keys). */
export function generateKeyPair(comment = "unidesk-ci-sandbox"): { privateKey: string; publicKey: string } {
  // ssh2 1.17 drops a leading zero byte of the 32-byte public key (about 1 key in 256), writing a key that
  // ssh2 itself then refuses as malformed: draw again until the pair parses back whole.
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment });
    const priv = ssh2.utils.parseKey(pair.private);
    const pub = ssh2.utils.parseKey(pair.public);
    if (priv instanceof Error || pub instanceof Error) continue;
    const blob = pub.getPublicSSH();
    // string "ssh-ed25519" (4 + 11) + string key (4 + 32)
    if (blob.length === 51 && priv.getPublicSSH().equals(blob)) return { privateKey: pair.private, publicKey: pair.public };
  }
}
