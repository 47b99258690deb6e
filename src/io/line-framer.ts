/**
 * Log bytes of several files, arriving in chunks, framed into lines (docs/commands.md, `logs --follow`): a
 * line split across chunks is joined (one partial-line buffer per file), so a multibyte character cut between
 * two answers is whole again; only `\n` ends a line (a CR stays in the line's bytes, for the terminal boundary
 * to show); a partial line over `maxLineBytes` is let out as it is, without its newline, so one endless line
 * cannot use up memory. Bytes in, bytes out: no decoding, no clock.
 */
import { FOLLOW_LINE_MAX_BYTES } from "../rules.ts";

/** One framed line: its bytes without the newline; `eol` false when it did not end with one (cut, or flushed). */
export interface FramedLine {
  path: string;
  bytes: Uint8Array;
  eol: boolean;
}

const NEWLINE = 10;

export class LineFramer {
  /** The bytes after each file's last newline, in the order the files were first seen. */
  readonly #held = new Map<string, Uint8Array>();

  constructor(readonly maxLineBytes: number = FOLLOW_LINE_MAX_BYTES) {}

  /** The lines `bytes` completes for `path`; the rest is held for the next chunk of that file. */
  push(path: string, bytes: Uint8Array): FramedLine[] {
    const out: FramedLine[] = [];
    let held = concat(this.#held.get(path), bytes);
    for (let nl = held.indexOf(NEWLINE); nl >= 0; nl = held.indexOf(NEWLINE)) {
      out.push({ path, bytes: held.subarray(0, nl), eol: true });
      held = held.subarray(nl + 1);
    }
    if (held.length > this.maxLineBytes) {
      out.push({ path, bytes: held, eol: false });
      held = new Uint8Array();
    }
    this.#held.set(path, held);
    return out;
  }

  /** Every held partial line, without its newline (the follow ends); nothing is held afterwards. */
  flush(): FramedLine[] {
    const out: FramedLine[] = [];
    for (const [path, rest] of this.#held) if (rest.length) out.push({ path, bytes: rest, eol: false });
    this.#held.clear();
    return out;
  }
}

function concat(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  if (!a?.length) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
