import { guardTerminalText } from "../src/io/terminal.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decideColor, fakeEnv, FileReadError } from "../src/env.ts";
import { makeReadFile } from "../src/read-file.ts";
import { palette } from "../src/io/color.ts";

describe("color is decided once, from the environment and the terminal", () => {
  const cases: { vars: Record<string, string>; tty: boolean; color: boolean }[] = [
    { vars: {}, tty: true, color: true },
    { vars: {}, tty: false, color: false },
    { vars: { NO_COLOR: "1" }, tty: true, color: false },
    { vars: { NO_COLOR: "" }, tty: true, color: true },
    { vars: { TERM: "dumb" }, tty: true, color: false },
    { vars: { CLICOLOR_FORCE: "1" }, tty: false, color: true },
    { vars: { CLICOLOR_FORCE: "0" }, tty: false, color: false },
    { vars: { CLICOLOR_FORCE: "1", NO_COLOR: "1" }, tty: true, color: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.vars)} on ${c.tty ? "a TTY" : "a pipe"} → ${c.color ? "color" : "plain"}`, () => {
      assert.equal(decideColor(c.vars, c.tty), c.color);
    });
  }

  it("palette helpers return text unchanged when color is off", () => {
    assert.equal(palette(false).red("failed"), "failed");
    assert.equal(guardTerminalText(palette(true).red("failed")), "\x1b[31mfailed\x1b[39m");
  });
});

describe("readFile: regular files only, bounded, UTF-8, interruptible", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-env-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const real = (signal = new AbortController().signal, stdin: () => Iterable<string> | AsyncIterable<Uint8Array> = () => []) => makeReadFile({ signal, stdin });

  /** The FileReadError a read fails with. */
  async function failure(read: Promise<string>): Promise<FileReadError> {
    const error = await read.then(
      () => assert.fail("expected a FileReadError"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FileReadError, String(error));
    return error;
  }

  it("reads a regular file (through a symlink too) as UTF-8 text without a leading BOM", async () => {
    writeFileSync(join(dir, "a.txt"), "\uFEFFhé\n");
    symlinkSync(join(dir, "a.txt"), join(dir, "link.txt"));
    assert.equal(await real()(join(dir, "a.txt"), { maxBytes: 100 }), "hé\n");
    assert.equal(await real()(join(dir, "link.txt"), { maxBytes: 100 }), "hé\n");
  });

  it("a read that never ends: a FIFO is refused without opening it (open() would block with no writer)", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const error = await failure(real()(fifo, { maxBytes: 100 }));
    assert.equal(error.code, "ENOTREG");
    assert.equal(error.message, `${fifo}: is a FIFO (named pipe), not a regular file`);
    // Even when the reader accepts standard input, a FIFO by its own name is not it.
    assert.equal((await failure(real()(fifo, { maxBytes: 100, stdin: true }))).code, "ENOTREG");
  });

  it("a device or a directory is refused; a missing file is ENOENT", async () => {
    assert.equal((await failure(real()("/dev/zero", { maxBytes: 100 }))).reason, "is a device, not a regular file");
    assert.equal((await failure(real()(dir, { maxBytes: 100 }))).code, "EISDIR");
    assert.equal((await failure(real()(join(dir, "missing"), { maxBytes: 100 }))).reason, "does not exist");
  });

  it("a file over maxBytes is EFBIG; exactly maxBytes is fine", async () => {
    writeFileSync(join(dir, "ten"), "0123456789");
    assert.equal(await real()(join(dir, "ten"), { maxBytes: 10 }), "0123456789");
    const error = await failure(real()(join(dir, "ten"), { maxBytes: 9 }));
    assert.equal(error.code, "EFBIG");
    assert.equal(error.reason, "is larger than 9 bytes, the most that is read");
  });

  it("UTF-16 or Latin-1 bytes are EILSEQ, and the reason never quotes them", async () => {
    writeFileSync(join(dir, "utf16"), Buffer.from("\uFEFFsecret-value", "utf16le"));
    writeFileSync(join(dir, "latin1"), Buffer.from("caf\xe9 secret-value", "latin1"));
    const utf16 = await failure(real()(join(dir, "utf16"), { maxBytes: 100 }));
    assert.equal(utf16.reason, "is not UTF-8 text (it looks like UTF-16)");
    const latin1 = await failure(real()(join(dir, "latin1"), { maxBytes: 100 }));
    assert.equal(latin1.reason, "is not UTF-8 text");
    assert.ok(!`${utf16.message}${latin1.message}`.includes("secret"));
  });

  it("- and /dev/stdin read standard input when allowed, bounded; without `stdin` they are paths", async () => {
    const stdin = () => ["\uFEFF{", "}"];
    assert.equal(await real(undefined, stdin)("-", { maxBytes: 10, stdin: true }), "{}");
    assert.equal(await real(undefined, stdin)("/dev/stdin", { maxBytes: 10, stdin: true }), "{}");
    assert.equal((await failure(real(undefined, stdin)("-", { maxBytes: 2, stdin: true }))).code, "EFBIG");
    assert.equal((await failure(real(undefined, stdin)("-", { maxBytes: 10 }))).code, "ENOENT");
  });

  it("an abort ends a read of standard input that would never end, with the signal's reason", async () => {
    const controller = new AbortController();
    const never: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) }) };
    const reading = real(controller.signal, () => never)("-", { maxBytes: 10, stdin: true });
    controller.abort(new Error("interrupted by SIGTERM"));
    await assert.rejects(reading, /interrupted by SIGTERM/);
    await assert.rejects(real(controller.signal)(join(dir, "ten"), { maxBytes: 10 }), /interrupted by SIGTERM/, "an aborted signal reads nothing");
  });

  it("fakeEnv's readFile applies the same bound, BOM and UTF-8 rules", async () => {
    const env = fakeEnv({ files: { "/a": "\uFEFFok", "/big": "x".repeat(11), "/bin": new Uint8Array([0xff, 0xfe, 0x41, 0]) }, stdin: "in" });
    assert.equal(await env.readFile("/a", { maxBytes: 10 }), "ok");
    assert.equal(await env.readFile("-", { maxBytes: 10, stdin: true }), "in");
    assert.equal((await failure(env.readFile("/big", { maxBytes: 10 }))).code, "EFBIG");
    assert.equal((await failure(env.readFile("/bin", { maxBytes: 10 }))).code, "EILSEQ");
    assert.equal((await failure(env.readFile("/none", { maxBytes: 10 }))).code, "ENOENT");
  });
});
