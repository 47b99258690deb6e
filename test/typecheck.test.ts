/**
 * The TypeScript sources, tests and build scripts typecheck (`tsc --noEmit`, tsconfig.json): a test of its own so that
 * `npm test` checks types beside the other files instead of before them (docs/building.md#tests).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { describe, it } from "node:test";

describe("typecheck", () => {
  it("tsc --noEmit finds no error", () => {
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "--pretty", "false"], { encoding: "utf8", maxBuffer: 64 << 20 });
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.status, 0, `tsc --noEmit exited ${r.status}:\n${r.stdout}${r.stderr}`);
  });
});
