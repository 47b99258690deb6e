/** The real Env.readFile (main.ts wires it): regular files only, never blocking on a FIFO, bounded, interruptible. */
import { decodeText, FileReadError, isStdinPath, toFileReadError, tooLargeError, untrustedFile, type Env, type FileGuard } from "./env.ts";

/** What the real readFile needs from the process (main.ts passes it, so this module touches no globals). */
export interface ReadFileContext {
  /** Ends every read: the read rejects with its reason. */
  signal: AbortSignal;
  /** Standard input as a byte stream, asked for only when it is read. */
  stdin: () => AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
  /** The user's uid, for `ReadFileOptions.guard` (env.ts); undefined where the platform has none (nothing is checked). */
  uid?: number;
}

const CHUNK_BYTES = 65_536;

/** What a non-regular file is, for "<path> is …, not a regular file". */
function kindOf(stats: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a file";
}

const notRegular = (path: string, stats: Parameters<typeof kindOf>[0]) =>
  new FileReadError(path, stats.isDirectory() ? "EISDIR" : "ENOTREG", `is ${kindOf(stats)}, not a regular file`);

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts (the listener is removed either way). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** `work`, its failure turned into a FileReadError naming `path`. */
const fsCall = <T>(path: string, work: Promise<T>): Promise<T> =>
  work.catch((error: unknown) => {
    throw toFileReadError(path, error);
  });

async function readRegular(path: string, maxBytes: number, signal: AbortSignal, guard: FileGuard | undefined, uid: number | undefined): Promise<Uint8Array> {
  const fs = await import("node:fs/promises");
  const { constants } = await import("node:fs");
  // stat first: open() on a FIFO blocks until a writer appears, and nothing could interrupt it.
  const stats = await fsCall(path, fs.stat(path));
  if (!stats.isFile()) throw notRegular(path, stats);
  if (stats.size > maxBytes) throw tooLargeError(path, maxBytes);
  // O_NONBLOCK too: should the path become a FIFO after the stat, open() still returns at once.
  const handle = await fsCall(path, fs.open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)));
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw notRegular(path, opened);
    // On the opened file, not the path: what is judged is what is read.
    const untrusted = guard && untrustedFile(path, opened, guard, uid);
    if (untrusted) throw untrusted;
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      signal.throwIfAborted();
      const chunk = new Uint8Array(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await fsCall(path, handle.read(chunk, 0, chunk.length, null));
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      // The file grew since the stat.
      if (total > maxBytes) throw tooLargeError(path, maxBytes);
    }
    return concat(chunks, total);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function readStream(stream: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, path: string, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const part of stream) {
      const chunk = typeof part === "string" ? new TextEncoder().encode(part) : part;
      chunks.push(chunk);
      total += chunk.length;
      if (total > maxBytes) throw tooLargeError(path, maxBytes);
    }
  } catch (error) {
    throw toFileReadError(path, error);
  }
  return concat(chunks, total);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Builds the real {@link Env.readFile} over the process's signal and standard input. */
export function makeReadFile(context: ReadFileContext): Env["readFile"] {
  return async (path, { maxBytes, stdin, guard }) => {
    context.signal.throwIfAborted();
    const bytes = stdin && isStdinPath(path) ? readStream(context.stdin(), path, maxBytes) : readRegular(path, maxBytes, context.signal, guard, context.uid);
    return decodeText(await abortable(bytes, context.signal), path);
  };
}
