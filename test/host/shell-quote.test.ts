import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { shellQuote } from "../../src/host/shell-quote.ts";
import { fillTemplate } from "../../src/host/template.ts";
import { tempDir } from "./helpers.ts";

const scratch = await tempDir("uci-quote-");
after(scratch.cleanup);
const canary = join(scratch.dir, "pwned");

const hostile: Array<[string, string]> = [
  ["empty", ""],
  ["single quote", "'"],
  ["quotes mixed", `it's "quoted" '' ""`],
  ["command substitution", `$(touch ${canary})`],
  ["backticks", "`touch " + canary + "`"],
  ["variables", "$HOME ${PATH} $1 $@ $$ $!"],
  ["newlines", "line1\nline2\n\n"],
  ["carriage return and tab", "a\rb\tc"],
  ["unicode", "ü 日本語 🎉 \u202e rtl"],
  ["double dash", "--"],
  ["leading dash", "-n"],
  ["leading dash e", "-e \\n"],
  ["backslashes", "\\ \\\\ \\'"],
  ["globs and history", "* ? [a] ! ~ {a,b}"],
  ["statement breakers", "'; touch " + canary + "; echo '"],
  ["redirections and pipes", "> /dev/null | cat & ; && ||"],
  ["control characters", "\x01\x07\x1b[31m\x7f"],
  ["printf format", "%s %d %%"],
];

function echoThroughBash(quoted: string): string {
  const r = spawnSync("bash", ["-c", `printf '%s' ${quoted}`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("shellQuote", () => {
  for (const [name, value] of hostile) {
    it(`round-trips ${name} through real bash`, () => {
      assert.equal(echoThroughBash(shellQuote(value)), value);
      assert.equal(existsSync(canary), false, "nothing inside a quoted value may run");
    });
  }

  it("round-trips every hostile string at once, as one word", () => {
    const all = hostile.map(([, v]) => v).join("|");
    const r = spawnSync("bash", ["-c", `set -- ${shellQuote(all)}; printf '%s:%s' "$#" "$1"`], { encoding: "utf8" });
    assert.equal(r.stdout, `1:${all}`);
  });

  it("uses single-quote style", () => {
    assert.equal(shellQuote("abc"), "'abc'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });

  it("refuses NUL, which no bash word can hold", () => {
    assert.throws(() => shellQuote("a\0b"), /NUL/);
  });
});

describe("fillTemplate", () => {
  const template = "#!/usr/bin/env bash\nA=@@A@@\nB=@@B@@\nprintf '%s\\0%s' \"$A\" \"$B\"\n";

  for (const [name, value] of hostile) {
    it(`substitutes ${name} as data, never as code`, () => {
      const script = fillTemplate(template, { A: value, B: "@@a@@" }, "test");
      const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${value}\0@@a@@`);
      assert.equal(existsSync(canary), false);
    });
  }

  it("asserts that no placeholder is left in the output", () => {
    assert.throws(() => fillTemplate(template, { A: "x", B: "@@A@@" }, "test"), /unreplaced placeholder/);
  });

  it("rejects a placeholder without a value", () => {
    assert.throws(() => fillTemplate(template, { A: "x" }, "test"), /@@B@@ has no value/);
  });

  it("rejects a value whose placeholder is missing or repeated", () => {
    assert.throws(() => fillTemplate(template, { A: "x", B: "y", C: "z" }, "test"), /@@C@@ occurs 0 times/);
    assert.throws(() => fillTemplate("@@A@@ @@A@@", { A: "x" }, "test"), /@@A@@ occurs 2 times/);
  });
});
