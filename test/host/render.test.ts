import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.ts";
import template from "../../src/host/launcher.sh";
import { renderLogsReader } from "../../src/host/logs-reader.ts";
import {
  ABSOLUTE_PATH_MAX, DEFAULT_WORKSPACE, LAUNCHER_MAX_BYTES, PROXY_URL_MAX, REPO_URL_MAX, RUN_ID, RUN_ID_MAX, SCRIPT_PATH_MAX, TIMEOUT_MS_MAX, TIMEOUT_MS_MIN,
} from "../../src/rules.ts";
import { compactScript, ruleAssignment, withContractWords, withIncludes } from "../../src/host/template.ts";
import { type LauncherSettings, renderLauncher } from "../../src/host/launcher.ts";
import { assertGolden } from "../golden/golden.ts";
import { bashSyntax, shellcheck } from "./helpers.ts";

const base: LauncherSettings = {
  repo: "https://github.com/pikasTech/unidesk",
  manifestCommit: "0123456789abcdef0123456789abcdef01234567",
  scriptPath: "scripts/ci/dev-e2e.sh",
  runId: "dev-20261127-162626-k3x9a2",
  environment: "dev",
  timeoutMs: 1_800_000,
  keepNamespace: false,
  ...DEFAULT_WORKSPACE,
};

/** The script without its comment lines. */
function code(script: string): string {
  return script.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n");
}

const badPaths = ["relative/path", "/tmp/../etc", "/tmp/./x", "/tmp/", "/", "/tmp/a b", "/tmp/$(id)", "/tmp/`id`", "/tmp/a'b", "/tmp/a\nb", "//tmp", `/${"a".repeat(200)}`];
const badCases: Array<[keyof LauncherSettings, unknown[]]> = [
  ["repo", [`https://h/${"a".repeat(200)}`, "https://github.com:70000/a/b", "http://github.com/a/b", "https://github.com/a/b;id", "https://u:p@github.com/a/b", "git@github.com:a/b.git", "https://github.com/a b", "https://github.com/$(id)", "", 42]],
  ["manifestCommit", ["0123456", "0123456789ABCDEF0123456789ABCDEF01234567", `${"0".repeat(40)}\n`, "g".repeat(40), undefined]],
  ["scriptPath", [`scripts/ci/${"a".repeat(60)}.sh`, "scripts/ci/../x.sh", "scripts/x.sh", "/scripts/ci/x.sh", "scripts/ci/a b.sh", "scripts/ci/$(id).sh", "scripts/ci/sub/x.sh", "scripts/ci/x.py", "scripts/ci/..sh"]],
  ["runId", ["", "UPPER", "a".repeat(41), "-lead", "trail-", "a_b", "a;b", "a\nb"]],
  ["environment", ["prod", "", "dev\n"]],
  ["timeoutMs", [0, 59_999, 1.5, "60000", 1e12, Number.NaN, -1]],
  ["keepNamespace", ["yes", 1, null]],
  ["workRoot", badPaths],
  ["runsRoot", badPaths],
  ["egressProxy", [`http://${"p".repeat(60)}:1`, "https://127.0.0.1:18789", "http://127.0.0.1", "http://u:p@127.0.0.1:1", "http://127.0.0.1:0", "http://127.0.0.1:70000", "http://127.0.0.1:1/path", "socks5://127.0.0.1:1", "http://127.0.0.1:1 ; id"]],
];

describe("renderLauncher validation", () => {
  for (const [field, values] of badCases) {
    for (const value of values) {
      it(`rejects ${field} = ${JSON.stringify(value)} naming the field`, () => {
        assert.throws(
          () => renderLauncher({ ...base, [field]: value } as LauncherSettings),
          (e: unknown) => e instanceof UsageError && e.message.startsWith(`${field} `) && e.exitCode === 2,
        );
      });
    }
  }

  it("accepts the defaults and boundary values", () => {
    renderLauncher(base);
    renderLauncher({ ...base, timeoutMs: 60_000, keepNamespace: true, repo: "https://git.example.test:8443/org/repo.git", runId: "a" });
    renderLauncher({ ...base, runId: "a".repeat(40), workRoot: "/x", runsRoot: "/home/ubuntu/.unidesk/runs-2", egressProxy: "http://proxy.local:1/" });
  });
});

describe("rendered launcher", () => {
  const rendered = renderLauncher(base);

  it("matches the golden file (refresh with UPDATE_GOLDEN=1)", async () => {
    await assertGolden("launcher.sh", rendered);
  });

  it("differs from the compacted template only in the ten quoted assignments, the injected rules and the contract words", () => {
    const t = withContractWords(compactScript(withIncludes(template, "launcher.sh")), "launcher.sh").split("\n");
    const at = t.findIndex((l) => l.startsWith("# @@RULES "));
    const names = t[at]!.slice("# @@RULES ".length, -"@@".length).split(" ");
    const r = rendered.split("\n");
    // The rules block gives bash each rule's own value, a long run shared with an earlier rule taken from its variable.
    const block = r.slice(at, at + names.length);
    const values = (lines: string[]) => execFileSync("bash", ["-c", `${lines.join("\n")}\ndeclare -p ${lines.map((l) => l.slice(0, l.indexOf("="))).join(" ")}`], { encoding: "utf8" });
    assert.equal(values(block), values(names.map(ruleAssignment)));
    assert.ok(block.some((l) => l.includes(`"\${UCI_RE_HTTPS_REPO:`)), "PROXY_URL takes the port alternation from HTTPS_REPO");
    const expanded = [...t.slice(0, at), ...block, ...t.slice(at + 1)];
    assert.equal(r.length, expanded.length);
    const changed = expanded.flatMap((line, i) => (line === r[i] ? [] : [[line, r[i]]]));
    const variables: Record<string, string> = {
      REPO: "REPO", COMMIT: "MANIFEST_COMMIT", SCRIPT: "SCRIPT_PATH", RUN_ID: "RUN_ID", ENV: "ENVIRONMENT", TIMEOUT_MS: "TIMEOUT_MS",
      KEEP: "KEEP_NAMESPACE", WORK_ROOT: "WORK_ROOT", RUNS_ROOT: "RUNS_ROOT", PROXY: "EGRESS_PROXY",
    };
    assert.deepEqual(changed.map(([line]) => line), Object.entries(variables).map(([v, p]) => `UCI_${v}=@@${p}@@`));
    for (const [, line] of changed) assert.match(line!, /^UCI_[A-Z_]+='[^'\n]*'$/);
    assert.ok(rendered.includes(`UCI_KEEP='false'`) && rendered.includes(`UCI_TIMEOUT_MS='1800000'`));
    // The launcher checks the CLI's bounds, injected from src/rules.ts rather than copied.
    for (const line of [`UCI_TIMEOUT_MS_MIN=${TIMEOUT_MS_MIN}`, `UCI_TIMEOUT_MS_MAX=${TIMEOUT_MS_MAX}`, `UCI_RE_RUN_ID='${RUN_ID.source}'`]) {
      assert.ok(r.includes(line), line);
    }
    assert.doesNotMatch(code(template), /\[0-9a-f\]\{40\}|\[a-z0-9-\]|A-Za-z0-9/, "a rule copied into the template");
  });

  it(`stays within LAUNCHER_MAX_BYTES (${LAUNCHER_MAX_BYTES}) rendered with the longest valid settings`, () => {
    const longest: LauncherSettings = {
      repo: `https://${"h".repeat(REPO_URL_MAX - "https://".length - "/o/r".length)}/o/r`,
      manifestCommit: "f".repeat(40),
      scriptPath: `scripts/ci/${"n".repeat(SCRIPT_PATH_MAX - "scripts/ci/.sh".length)}.sh`,
      runId: "r".repeat(RUN_ID_MAX),
      environment: "dev",
      timeoutMs: TIMEOUT_MS_MAX,
      keepNamespace: false,
      workRoot: `/${"w".repeat(ABSOLUTE_PATH_MAX - 1)}`,
      runsRoot: `/${"r".repeat(ABSOLUTE_PATH_MAX - 1)}`,
      egressProxy: `http://${"p".repeat(PROXY_URL_MAX - "http://:65535/".length)}:65535/`,
    };
    for (const [field, value] of Object.entries(longest)) {
      if (typeof value === "string" && field !== "environment" && field !== "manifestCommit") {
        assert.throws(() => renderLauncher({ ...longest, [field]: field === "repo" || field === "egressProxy" ? value.replace("://", "://x") : `${value.slice(0, -3)}x${value.slice(-3)}` }), UsageError, `${field} can grow`);
      }
    }
    const bytes = Buffer.byteLength(renderLauncher(longest));
    assert.ok(bytes <= LAUNCHER_MAX_BYTES, `${bytes} bytes`);
    assert.ok(Buffer.byteLength(rendered) < bytes);
  });

  it("holds no placeholder, token or runner body", () => {
    assert.doesNotMatch(rendered, /@@[A-Z_]+@@/);
    assert.doesNotMatch(code(rendered), /token|authorization|bearer/i);
    assert.doesNotMatch(code(rendered), /kubectl|tkn /);
  });

  it("passes bash -n and shellcheck, with and without --keep-namespace", () => {
    for (const script of [rendered, renderLauncher({ ...base, keepNamespace: true, runId: "x" })]) {
      assert.deepEqual(bashSyntax(script), { code: 0, report: "" });
      const sc = shellcheck(script);
      assert.equal(sc.code, 0, sc.report);
    }
  });
});

describe("rendered readers", () => {
  const readers = {
    logs: renderLogsReader({ runsRoot: base.runsRoot, runId: base.runId }),
  };

  for (const [name, script] of Object.entries(readers)) {
    it(`${name} reader matches its golden file and passes bash -n and shellcheck`, async () => {
      await assertGolden(`${name}-reader.sh`, script);
      assert.deepEqual(bashSyntax(script), { code: 0, report: "" });
      const sc = shellcheck(script);
      assert.equal(sc.code, 0, sc.report);
      assert.doesNotMatch(script, /@@[A-Z_]+@@/);
    });
  }

  it("writes nothing: no redirection into a file, no rm/mv/mkdir/touch", () => {
    for (const script of Object.values(readers)) {
      assert.doesNotMatch(code(script).replace(/2>\/dev\/null/g, "").replace(/\(\([^)]*\)\)/g, ""), /[^<]>\s*["$\w/]/);
      assert.doesNotMatch(code(script), /\b(rm|mv|mkdir|touch|cp|tee|ln|chmod)\s/);
    }
  });

  const readerBad: Array<[string, () => string]> = [
    ["runId", () => renderLogsReader({ runsRoot: "/r", runId: "../etc" })],
    ["runsRoot", () => renderLogsReader({ runsRoot: "r", runId: "a" })],
    ["runId", () => renderLogsReader({ runsRoot: "/r", runId: "a b" })],
    ["runsRoot", () => renderLogsReader({ runsRoot: "/r/../x", runId: "a" })],
    ["fileCapBytes", () => renderLogsReader({ runsRoot: "/r", runId: "a", fileCapBytes: -1 })],
    ["totalCapBytes", () => renderLogsReader({ runsRoot: "/r", runId: "a", totalCapBytes: 2 ** 40 })],
  ];
  for (const [field, render] of readerBad) {
    it(`reader render rejects a bad ${field} naming it`, () => {
      assert.throws(render, (e: unknown) => e instanceof UsageError && e.message.startsWith(`${field} `));
    });
  }
});
