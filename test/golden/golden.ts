/** Golden files for long human output: compare, or rewrite them with UPDATE_GOLDEN=1. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";

/** Asserts `actual` equals test/golden/<name> (rewriting it first when UPDATE_GOLDEN=1). */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const file = new URL(`./${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === "1") await writeFile(file, actual);
  assert.equal(actual, await readFile(file, "utf8"));
}
