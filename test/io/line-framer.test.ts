// The line framer (src/io/line-framer.ts) alone: bytes in, lines out, no dispatch, no clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineFramer, type FramedLine } from "../../src/io/line-framer.ts";
import { FOLLOW_LINE_MAX_BYTES } from "../../src/rules.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const show = (lines: FramedLine[]) => lines.map((l) => `${l.path}|${Buffer.from(l.bytes).toString("latin1")}|${l.eol}`);

describe("LineFramer", () => {
  it("holds a partial line until its newline arrives, per file", () => {
    const f = new LineFramer();
    assert.deepEqual(show(f.push("a.log", bytes("one\ntw"))), ["a.log|one|true"]);
    assert.deepEqual(show(f.push("b.log", bytes("other"))), []);
    assert.deepEqual(show(f.push("a.log", bytes("o\n\nthree"))), ["a.log|two|true", "a.log||true"]);
    assert.deepEqual(show(f.push("b.log", bytes(" file\n"))), ["b.log|other file|true"]);
    assert.deepEqual(show(f.flush()), ["a.log|three|false"]);
    assert.deepEqual(f.flush(), [], "nothing is held after a flush");
  });

  it("ends lines at LF only: a CR stays in the line's bytes (CRLF, bare CR, a progress bar's redraws)", () => {
    const f = new LineFramer();
    assert.deepEqual(show(f.push("p", bytes("crlf\r\n10%\r50%\r100%\nlast\r"))), ["p|crlf\r|true", "p|10%\r50%\r100%|true"]);
    assert.deepEqual(show(f.flush()), ["p|last\r|false"]);
  });

  it("joins a multibyte character split across chunks", () => {
    const whole = bytes("π→✓ 日本\n");
    const f = new LineFramer();
    const out: FramedLine[] = [];
    for (let i = 0; i < whole.length; i++) out.push(...f.push("u", whole.subarray(i, i + 1)));
    assert.equal(out.length, 1);
    assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(out[0]!.bytes), "π→✓ 日本");
  });

  it("lets out a partial line longer than the bound without its newline, and keeps the bytes after the last newline", () => {
    const f = new LineFramer(8);
    assert.deepEqual(show(f.push("x", bytes("12345678"))), [], "at the bound it is still held");
    assert.deepEqual(show(f.push("x", bytes("9"))), ["x|123456789|false"]);
    assert.deepEqual(show(f.push("x", bytes("ok\n0123456789abc"))), ["x|ok|true", "x|0123456789abc|false"]);
    assert.deepEqual(show(f.push("x", bytes("tail"))), []);
    assert.deepEqual(show(f.flush()), ["x|tail|false"]);
  });

  it("frames a huge stream at the default bound (FOLLOW_LINE_MAX_BYTES) without losing a byte", () => {
    const f = new LineFramer();
    const chunk = new Uint8Array(256 * 1024).fill(0x61);
    const out: FramedLine[] = [];
    for (let i = 0; i < 5; i++) out.push(...f.push("big", chunk));
    out.push(...f.push("big", bytes("\n")), ...f.flush());
    assert.deepEqual(out.map((l) => [l.bytes.length, l.eol]), [[FOLLOW_LINE_MAX_BYTES + 256 * 1024, false], [0, true]]);
    assert.equal(out.reduce((n, l) => n + l.bytes.length, 0), 5 * 256 * 1024);
  });

  it("keeps binary bytes exact (NUL, invalid UTF-8)", () => {
    const f = new LineFramer();
    const raw = Uint8Array.of(0, 0xff, 0xfe, 0x1b, 0x0a, 0x80);
    const [line] = f.push("bin", raw);
    assert.deepEqual([...line!.bytes], [0, 0xff, 0xfe, 0x1b]);
    assert.deepEqual([...f.flush()[0]!.bytes], [0x80]);
  });
});
