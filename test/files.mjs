// The test files of one npm script, printed one per line (package.json: test, test:unit, test:e2e).
//   unit: no sandbox, no built bundle, no real runner: the CLI in process against fakes, the host scripts in bash.
//   e2e:  the rest: the CI soak (test/soak), the sandbox (test/e2e/sandbox-*, test/sandbox), the built bundle under node/deno/bun
//         (test/e2e, completions), the real runner against the fake cluster (test/runner).
//   all:  both, the slowest files first so the long ones do not start last (test/run.mjs starts them in this order;
//         `node --test` would sort them by name).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const E2E_DIRS = ["test/e2e/", "test/sandbox/", "test/runner/", "test/soak/"];
const E2E_FILES = ["test/cli/completions.test.ts", "test/typecheck.test.ts"];

const files = readdirSync("test", { recursive: true })
  .map((f) => join("test", String(f)))
  .filter((f) => f.endsWith(".test.ts"))
  .sort();
const isE2e = (f) => E2E_DIRS.some((d) => f.startsWith(d)) || E2E_FILES.includes(f);
// The files that take longest start first, so no long file starts last and holds the suite's end alone (node --test
// starts them in this order as slots free up): the slowest measured (per-file wall time of one whole `npm test`,
// longest first; re-rank when the order drifts), then the other sandbox files, the other e2e files, the unit files.
const SLOWEST = [
  "test/soak/soak-ci.test.ts",
  "test/runner/failures.test.ts",
  "test/e2e/sandbox-doctor.test.ts",
  "test/e2e/reset-connection.test.ts",
  "test/runner/sweep.test.ts",
  "test/e2e/sandbox-digest.test.ts",
  "test/host/readers.test.ts",
  "test/e2e/sandbox-fetch.test.ts",
  "test/runner/arguments.test.ts",
  "test/runner/failure.test.ts",
  "test/e2e/sandbox-success.test.ts",
  "test/e2e/sandbox-follow.test.ts",
  "test/e2e/sandbox-list.test.ts",
  "test/e2e/sandbox-runtimes.test.ts",
  "test/e2e/sandbox-wait.test.ts",
  "test/typecheck.test.ts",
  "test/e2e/sandbox-report.test.ts",
  "test/e2e/sandbox-runs.test.ts",
];
const rank = (f) => {
  const slow = SLOWEST.indexOf(f);
  if (slow >= 0) return slow - SLOWEST.length;
  return f.startsWith("test/e2e/sandbox-") ? 0 : isE2e(f) ? 1 : 2;
};
const missing = SLOWEST.filter((f) => !files.includes(f));
if (missing.length) {
  process.stderr.write(`test/files.mjs: SLOWEST names files that do not exist: ${missing.join(", ")}\n`);
  process.exit(2);
}

/** The files of one set (unit, e2e or all), in the order they start. */
export function testFiles(which) {
  const chosen = which === "unit" ? files.filter((f) => !isE2e(f)) : which === "e2e" ? files.filter(isE2e) : which === "all" ? files : undefined;
  if (!chosen) {
    process.stderr.write(`test/files.mjs: unknown set ${JSON.stringify(which)}; use unit, e2e or all\n`);
    process.exit(2);
  }
  return chosen.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(`${testFiles(process.argv[2] ?? "all").join("\n")}\n`);
