// The test files of one npm script, printed one per line (package.json: test, test:unit, test:e2e).
//   unit: no sandbox, no built bundle, no real runner: the CLI in process against fakes, the host scripts in bash.
//   e2e:  the rest: the CI soak (test/soak), the sandbox (test/e2e/sandbox-*, test/sandbox), the built bundle under node/deno/bun
//         (test/e2e, completions), the real runner against the fake cluster (test/runner).
//   all:  both, the slow e2e files first so the long ones do not start last (node --test runs them in this order).
import { readdirSync } from "node:fs";
import { join } from "node:path";

const E2E_DIRS = ["test/e2e/", "test/sandbox/", "test/runner/", "test/soak/"];
const E2E_FILES = ["test/cli/completions.test.ts"];

const files = readdirSync("test", { recursive: true })
  .map((f) => join("test", String(f)))
  .filter((f) => f.endsWith(".test.ts"))
  .sort();
const isE2e = (f) => E2E_DIRS.some((d) => f.startsWith(d)) || E2E_FILES.includes(f);
// The CI soak first (the longest, minutes), then the sandbox files (they wait the longest), then the other e2e
// files, then the unit files.
const rank = (f) => (f.startsWith("test/soak/soak-") ? -1 : f.startsWith("test/e2e/sandbox-") ? 0 : isE2e(f) ? 1 : 2);

const which = process.argv[2] ?? "all";
const chosen = which === "unit" ? files.filter((f) => !isE2e(f)) : which === "e2e" ? files.filter(isE2e) : which === "all" ? files : undefined;
if (!chosen) {
  process.stderr.write(`test/files.mjs: unknown set ${JSON.stringify(which)}; use unit, e2e or all\n`);
  process.exit(2);
}
process.stdout.write(`${chosen.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1)).join("\n")}\n`);
