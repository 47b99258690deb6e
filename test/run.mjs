// Runs one set of test files (test/files.mjs: unit, e2e or all) in the order files.mjs gives, N at a time:
//   node --import tsx --import ./test/text-loader.mjs test/run.mjs all [concurrency]   (or: test/run.mjs FILE.test.ts…)
// `node --test a b c` sorts its files by name (Node 20's createTestFileList), so the slowest-first order that keeps a
// long file from starting last was lost; run({ files }) keeps it. Each file still runs in a node process of its own
// with this process's --import flags. Exit 1 when any test failed, like `node --test`. With UNIDESK_TEST_TIMES=FILE,
// each file's wall time (first event to last, ms) is written there as JSON, slowest first, to re-rank SLOWEST.
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { testFiles } from "./files.mjs";

// A set name and a concurrency, or test files to run in the given order (two at a time).
const args = process.argv.slice(2);
const named = args.length > 0 && args.every((a) => a.endsWith(".ts"));
const files = named ? args : testFiles(args[0] ?? "all");
const concurrency = named ? 2 : Number(args[1] ?? 4);
let failed = 0;
const seen = new Map();
const stream = run({ files, concurrency });
const mark = (data) => {
  if (!data?.file) return;
  const now = Date.now();
  const span = seen.get(data.file) ?? { first: now, last: now };
  span.last = now;
  seen.set(data.file, span);
};
for (const event of ["test:enqueue", "test:dequeue", "test:start", "test:pass", "test:fail", "test:stdout", "test:stderr", "test:diagnostic"]) {
  stream.on(event, (data) => {
    mark(data);
    if (event === "test:fail" && !data.todo && !data.skip) failed += 1;
  });
}
stream.compose(new spec()).pipe(process.stdout);
stream.once("end", () => {
  if (process.env.UNIDESK_TEST_TIMES) {
    const times = Object.fromEntries([...seen].map(([f, s]) => [relative(process.cwd(), f), s.last - s.first]).sort((a, b) => b[1] - a[1]));
    writeFileSync(process.env.UNIDESK_TEST_TIMES, `${JSON.stringify(times, null, 2)}\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
});
