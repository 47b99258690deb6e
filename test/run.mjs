// Runs one set of test files (test/files.mjs: unit, e2e or all) in the order files.mjs gives, N at a time:
//   node --import tsx --import ./test/text-loader.mjs test/run.mjs all [concurrency]   (or: test/run.mjs FILE.test.ts…)
// `node --test a b c` sorts its files by name (Node 20's createTestFileList), so the slowest-first order that keeps a
// long file from starting last was lost; run({ files }) keeps it. Each file still runs in a node process of its own
// with this process's --import flags. Exit 1 when any test failed, like `node --test`. With UNIDESK_TEST_TIMES=FILE,
// each file's wall time (its process's start to exit, ms) is written there as JSON, slowest first, to re-rank SLOWEST.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { testFiles } from "./files.mjs";

// A set name and a concurrency, or test files to run in the given order (two at a time).
const args = process.argv.slice(2);
const named = args.length > 0 && args.every((a) => a.endsWith(".ts"));
const files = named ? args : testFiles(args[0] ?? "all");
const concurrency = named ? 2 : Number(args[1] ?? 4);
let failed = 0;
const timesFile = process.env.UNIDESK_TEST_TIMES;
if (timesFile) {
  rmSync(`${timesFile}.times.ndjson`, { force: true });
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --import ${new URL("./file-times.mjs", import.meta.url).href}`.trim();
}
const stream = run({ files, concurrency });
stream.on("test:fail", (data) => {
  if (!data.todo && !data.skip) failed += 1;
});
stream.compose(new spec()).pipe(process.stdout);
stream.once("end", () => {
  if (timesFile) {
    // Each file's process wrote its own wall time (test/file-times.mjs): node --test reports a file's tests only
    // once the files before it are done, so the reports tell nothing of when a file ran.
    const lines = readFileSync(`${timesFile}.times.ndjson`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    rmSync(`${timesFile}.times.ndjson`, { force: true });
    writeFileSync(timesFile, `${JSON.stringify(Object.fromEntries(lines.sort((a, b) => b.ms - a.ms).map((l) => [l.file, l.ms])), null, 2)}\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
});
