// Imported by every test file's process when `UNIDESK_TEST_TIMES=FILE` (test/run.mjs sets NODE_OPTIONS): appends
// `{"file":…,"ms":…}`, the process's wall time from its start to its exit, to FILE.times.ndjson. Anything else
// that imports it (a node started by a test) is not a test file and records nothing.
import { appendFileSync } from "node:fs";
import { relative } from "node:path";

const file = process.argv[1] ?? "";
const out = process.env.UNIDESK_TEST_TIMES;
if (out && file.endsWith(".test.ts")) {
  process.on("exit", () => {
    appendFileSync(`${out}.times.ndjson`, `${JSON.stringify({ file: relative(process.cwd(), file), ms: Math.round(Date.now() - performance.timeOrigin) })}\n`);
  });
}
