// The run-directory contract (src/host/run-dir.ts) is spelled once: the bash sources name its files and derived
// names through `@@=NAME@@` (host scripts) or the generated region's variables (the runner), never by a literal.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { RUNNER_PATH } from "../../build/runner.ts";
import * as runDir from "../../src/host/run-dir.ts";

const root = new URL("../../", import.meta.url);
const hostDir = new URL("src/host/", root);

/** A literal kept on purpose: the file, a text of the line it is on, and why. */
const EXCEPTIONS: ReadonlyArray<{ file: string; line: string; why: string }> = [
  { file: RUNNER_PATH, line: `--manifest-file <path/deploy.json>`, why: "the usage text" },
];

/** The contract's words as a literal would spell them: file names, `pods/` and the derived-name prefixes before a `$`. */
function contractPatterns(): Array<[string, RegExp]> {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const files = [runDir.RESULT_FILE, runDir.PROGRESS_FILE, runDir.PIPELINERUN_FILE, runDir.COMMIT_FILE, runDir.LAUNCHER_PID_FILE, runDir.RUNNER_PID_FILE,
    runDir.LAUNCHER_LOG, runDir.RUNNER_LOG, runDir.MANIFEST_FILE, runDir.TASKRUNS_FILE, runDir.PIPELINERUN_JSON_FILE];
  return [
    // A label key `unidesk.ci/<name>` is a label, not a file.
    ...files.map((f): [string, RegExp] => [f, new RegExp(`(?<![A-Za-z0-9_-]|unidesk\\.ci/)${esc(f)}(?![A-Za-z0-9_-])`)]),
    [`${runDir.PODS_DIR}/`, new RegExp(`(?<![A-Za-z0-9_.-])${esc(runDir.PODS_DIR)}/`)],
    [`${runDir.NAMESPACE_PREFIX}$`, new RegExp(`${esc(runDir.NAMESPACE_PREFIX)}\\$`)],
    [`${runDir.PIPELINERUN_PREFIX}$`, new RegExp(`(?<![A-Za-z0-9_-])${esc(runDir.PIPELINERUN_PREFIX)}\\$`)],
  ];
}

/** A line as code: comment lines dropped, prose (a quoted string holding a space) blanked. */
function codeOf(line: string): string {
  if (/^\s*#/.test(line)) return "";
  return line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, (q) => (/\s/.test(q) ? '""' : q));
}

/** The runner outside its generated regions. */
function runnerOwnText(text: string): string {
  return text.replace(/^# >>> generated from \S+ \(npm run build\) >>>\n[\s\S]*?^# <<< generated <<<$/gm, "");
}

/** Every stray literal of `text`, as `file:line: word in <line>`. */
export function strayLiterals(file: string, text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    const code = codeOf(line);
    for (const [word, re] of contractPatterns()) {
      if (!re.test(code)) continue;
      if (EXCEPTIONS.some((e) => e.file === file && line.includes(e.line))) continue;
      out.push(`${file}:${i + 1}: ${word} in ${line.trim()}`);
    }
  });
  return out;
}

describe("the run-directory contract is spelled once", () => {
  const sources: Array<[string, string]> = [
    ...readdirSync(hostDir).filter((f) => f.endsWith(".sh")).map((f): [string, string] => [`src/host/${f}`, readFileSync(new URL(f, hostDir), "utf8")]),
    [RUNNER_PATH, runnerOwnText(readFileSync(new URL(RUNNER_PATH, root), "utf8"))],
  ];

  it("no bash source spells a contract file name or derived name by hand", () => {
    assert.deepEqual(sources.flatMap(([file, text]) => strayLiterals(file, text)), []);
  });

  it("the check finds a stray literal and lets prose and comments be", () => {
    assert.equal(strayLiterals("x.sh", `f="$dir/result.json"\nfor f in launcher.pid runner.pid; do :; done\nns=unidesk-ci-$id\n`).length, 4);
    assert.equal(strayLiterals("x.sh", `# result.json\nlog "wrote result.json"\nf="$dir/@@=RESULT_FILE@@"\n`).length, 0);
  });

  it("each exception is still needed", () => {
    for (const e of EXCEPTIONS) {
      const text = sources.find(([file]) => file === e.file)?.[1] ?? "";
      assert.ok(text.split("\n").some((l) => l.includes(e.line) && contractPatterns().some(([, re]) => re.test(codeOf(l)))), `${e.file}: ${e.line}`);
    }
  });
});
