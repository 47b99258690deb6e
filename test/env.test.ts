import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideColor } from "../src/env.ts";
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
    assert.equal(palette(true).red("failed"), "\x1b[31mfailed\x1b[39m");
  });
});
