// Each rule is declared once, in src/rules.ts (docs/building.md#conventions): the bash templates get it injected (`# @@RULES …@@`,
// src/host/template.ts), and the Git-controlled runner, which cannot import it, holds copies checked here.
//
// The runner scripts/ci/dev-e2e.sh must hold, as `readonly NAME='…'` / `readonly NAME=<n>` lines, exactly:
//   RUN_ID_RE       = toBashRegex(RUN_ID)        SHA_RE          = toBashRegex(FULL_SHA)
//   REPO_RE         = toBashRegex(HTTPS_REPO)    TIMEOUT_MS_MIN  = TIMEOUT_MS_MIN (60000)
//   TIMEOUT_MS_MAX  = TIMEOUT_MS_MAX (21600000)
// and, when it holds them, with the same values: SERVICE_ID_RE (SERVICE_ID), SCRIPT_PATH_RE (SCRIPT_PATH),
// PATH_RE (ABSOLUTE_PATH), PROXY_URL_RE (PROXY_URL), and any integer named like a rules.ts export
// (MANIFEST_MAX_BYTES, MANIFEST_MAX_DEPTH, SERVICES_MAX, …). A `readonly …_RE` without a rule fails the test.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import * as rules from "../src/rules.ts";
import { shellQuote } from "../src/host/shell-quote.ts";
import { ruleAssignment, toBashRegex } from "../src/host/template.ts";

const exported = rules as Readonly<Record<string, unknown>>;
const regexRules = Object.entries(exported).filter((e): e is [string, RegExp] => e[1] instanceof RegExp);

const sha = "0123456789abcdef0123456789abcdef01234567";
const runIdLike = {
  accept: ["a", "a1", "0-0", "dev-20261127-162626-k3x9a2", "a".repeat(40), `x${"-".repeat(38)}y`],
  reject: ["", "A", "-a", "a-", "a".repeat(41), "a_b", "a\nb", "a\n", "é", "ａ", "a b", "a;b", "a.b"],
};

/** Per regex rule: strings it must accept and reject, and probes on which JS and bash need only agree. */
const tables: Record<string, { accept: string[]; reject: string[]; probe?: string[] }> = {
  RUN_ID: runIdLike,
  RUN_REF: { accept: ["@latest", "@latest-failed"], reject: ["latest", "@latest-", "@latest-succeeded", "@LATEST", "@latest\n", " @latest", "@latest-failed-x", "dev-20261127-162626-k3x9a2"] },
  SERVICE_ID: runIdLike,
  BEARER_TOKEN: {
    accept: ["tok-SECRET-4f1c9e", "sbx-0123abcd", "A.b_c~d+e/f9", "dG9rZW4=", "dG9rZW4x==", "-", "~"],
    reject: ["", "tok SECRET", 'tok"SECRET', "tok\\SECRET", "tok<x>", "tok&x", "user:pass", "a=b", "=", "tok\n", "tök-SECRET"],
  },
  TASK_NAME: { accept: ["deploy-dev", "a", "smoke1", "x".repeat(63)], reject: ["", "Deploy", "-a", "a-", "a_b", "a,b", "a b", "x".repeat(64), "a\n"] },
  ISO_TIME: {
    accept: ["2026-12-04T18:05:15Z", "2026-12-04T18:05:15.123Z", "2026-12-04T18:05:15.123456789Z"],
    reject: ["2026-12-04 18:05:15Z", "2026-12-04T18:05:15", "2026-12-04T18:05:15+00:00", "2026-12-04T18:05:15.Z", "2026-12-04T18:05:15.1234567890Z", "2026-12-04T18:05:15Z\n", "x2026-12-04T18:05:15Z"],
  },
  GENERATED_RUN_ID: {
    accept: ["dev-20261127-162626-k3x9a2"],
    reject: ["dev-2026112-162626-k3x9a2", "dev-20261127-162626-K3X9A2", "dev-20261127-162626-k3x9a2\n", "xdev-20261127-162626-k3x9a2", "dev-20261127T162626-k3x9a2"],
  },
  FULL_SHA: {
    accept: [sha, "0".repeat(40)],
    reject: [sha.slice(1), `${sha}0`, sha.toUpperCase(), "g".repeat(40), `${sha}\n`, `\n${sha}`, `${sha.slice(2)} .`],
  },
  HTTPS_REPO: {
    accept: ["https://github.com/pikasTech/unidesk", "https://git.example.test:8443/org/repo.git", "https://h/a/", "https://h/~u/x_y"],
    reject: ["http://h/a", "https://u:p@h/a", "https://h", "https://h/", "https://h/a b", "https://h/a;id", "https://h/$(id)", "https://h:123456/a", "https://h//a", "git@h:a/b", "https://h/a\n", "https://h/ä", "https://h/a'b", "https://h:/a"],
    probe: ["https://h/..", "https://h/a/.git", "https://h:0/a", "https://h:70000/a", "https://h:80/a"],
  },
  SCRIPT_PATH: {
    accept: ["scripts/ci/dev-e2e.sh", "scripts/ci/a.b_c-D9.sh"],
    reject: ["scripts/ci/sub/x.sh", "scripts/x.sh", "/scripts/ci/x.sh", "scripts/ci/x.py", "scripts/ci/x.sh\n", "scripts/ci/xash", "scriptsXci/x.sh", "scripts/ci/.sh", "scripts/ci/a b.sh"],
    probe: ["scripts/ci/..sh", "scripts/ci/../x.sh"],
  },
  ABSOLUTE_PATH: {
    accept: ["/tmp/unidesk-ci", "/x", "/home/ubuntu/.unidesk/runs"],
    reject: ["relative", "/", "/tmp/", "//tmp", "/tmp/a b", "/tmp/$(id)", "/tmp\n", "/tmp/a'b", "/tmp/é"],
    probe: ["/tmp/../etc", "/tmp/./x", `/${"a".repeat(300)}`],
  },
  PROXY_URL: {
    accept: ["http://127.0.0.1:18789", "http://proxy.local:1/", "http://h:65535"],
    reject: ["https://127.0.0.1:1", "http://127.0.0.1", "http://u:p@h:1", "http://h:1/path", "http://h:123456", "http://h:1 ; id", "http://h:1\n", "socks5://h:1"],
    probe: ["http://h:0", "http://h:70000", "http://h:00080"],
  },
  WATCH_PATH: {
    accept: ["launcher.log", "runner.log", "pods/e2e-x-pod_step-test.log", "pods/a"],
    reject: ["result.json", "pods/", "pods/.tmp", "pods/../x", "pods/a/b", "/runner.log", "runner.log\n", "pods/a b", `pods/${"a".repeat(201)}`],
  },
  RUN_FILE_PATH: {
    accept: ["result.json", "pipelinerun.json", "pods/e2e-x-pod_step-test.log", "runner.pid", "a"],
    reject: ["", "/etc/passwd", "../x", "pods/../x", "..", ".progress.json.1", "pods/.tmp", "a/b/c", "pods/", "a b", "a\n", "a;b", `${"a".repeat(201)}`],
  },
  WATCH_PROGRESS_VERSION: {
    accept: ["12:345:1700000000", "1:0:1700000000.123456789"],
    reject: ["", "1:2", "a:1:2", "1:2:3.", "1:2:3\n", "1:2:3;id"],
  },
};

/** Runs `[[ value =~ $UCI_RE_<rule> ]]` in bash for every case, with the rendered assignments; "1"/"0" per case. */
function bashVerdicts(cases: Array<[string, string]>, env: Record<string, string>): string {
  const script = [
    ...regexRules.map(([name]) => ruleAssignment(name)),
    "m() { if [[ $2 =~ $1 ]]; then printf 1; else printf 0; fi; }",
    ...cases.map(([name, value]) => `m "$UCI_RE_${name}" ${shellQuote(value)}`),
  ].join("\n");
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("rules as POSIX ERE (bash =~)", () => {
  it("every regex rule has an accept/reject table", () => {
    assert.deepEqual(regexRules.map(([name]) => name).filter((n) => !tables[n]), []);
  });

  const cases = regexRules.flatMap(([name]) => {
    const t = tables[name] ?? { accept: [], reject: [] };
    return [...t.accept, ...t.reject, ...(t.probe ?? [])].map((v): [string, string] => [name, v]);
  });
  for (const [locale, env] of [["C", { LC_ALL: "C" }], ["C.UTF-8", { LANG: "C.UTF-8" }]] as const) {
    it(`bash (${locale}) matches exactly what JS matches, and the tables' verdicts hold`, () => {
      const bash = bashVerdicts(cases, env);
      const js = cases.map(([name, v]) => (exported[name] as RegExp).test(v) ? "1" : "0").join("");
      for (const [i, [name, value]] of cases.entries()) {
        assert.equal(bash[i], js[i], `${name} on ${JSON.stringify(value)}: bash ${bash[i]}, JS ${js[i]}`);
      }
      for (const [name, t] of Object.entries(tables)) {
        const re = exported[name] as RegExp;
        for (const v of t.accept) assert.ok(re.test(v), `${name} must accept ${JSON.stringify(v)}`);
        for (const v of t.reject) assert.ok(!re.test(v), `${name} must reject ${JSON.stringify(v)}`);
      }
    });
  }

  it("unescapes only '\\/'; ERE specials stay escaped", () => {
    assert.equal(toBashRegex(/^scripts\/ci\/[a-z]+\.sh$/), "^scripts/ci/[a-z]+\\.sh$");
  });

  const refused: Array<[string, RegExp]> = [
    ["a flag", /^a$/i],
    ["a bare dot", /^a.b$/],
    ["\\d", /^\d+$/],
    ["\\b", /\ba/],
    ["a non-capturing group", /^(?:a)$/],
    ["a lookahead", /^(?=a)a$/],
    ["a lazy quantifier", /^a*?$/],
    ["a backslash in brackets", /^[\]a]$/],
    ["an empty class", /^[]$/],
    ["a negated empty class", /^[^]$/],
    ["a nested [", /^[[:alpha:]]$/],
    ["a literal {", /^a{$/],
    ["non-ASCII", /^é$/],
  ];
  for (const [what, re] of refused) {
    it(`refuses ${what}, whose meaning differs in POSIX`, () => {
      assert.throws(() => toBashRegex(re), /cannot be used in bash/);
    });
  }

  it("injects integers as plain assignments and refuses what is not a rule", () => {
    assert.equal(ruleAssignment("TIMEOUT_MS_MIN"), `UCI_TIMEOUT_MS_MIN=${rules.TIMEOUT_MS_MIN}`);
    assert.equal(ruleAssignment("FULL_SHA"), "UCI_RE_FULL_SHA='^[0-9a-f]{40}$'");
    for (const name of ["checkRunId", "DEFAULT_WORKSPACE", "NOPE"]) assert.throws(() => ruleAssignment(name), /not a RegExp or integer rule/);
  });
});

describe("the Git-controlled runner's copies of the rules", () => {
  const runner = readFileSync(new URL("../scripts/ci/dev-e2e.sh", import.meta.url), "utf8");
  /** Every `readonly NAME=value` of the runner, the value unquoted. */
  const copies = new Map(
    [...runner.matchAll(/^readonly ([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'(.*)'$|^"(.*)"$/, "$1$2")]),
  );
  /** Runner regex names whose rule is named differently in rules.ts. */
  const aliases: Record<string, string> = { SHA: "FULL_SHA", REPO: "HTTPS_REPO", PATH: "ABSOLUTE_PATH" };

  it("holds the required copies", () => {
    const required = ["RUN_ID_RE", "SHA_RE", "REPO_RE", "TIMEOUT_MS_MIN", "TIMEOUT_MS_MAX"];
    assert.deepEqual(required.filter((n) => !copies.has(n)), []);
  });

  it("every regex copy (…_RE) equals the bash form of its rule", () => {
    const res = [...copies].filter(([name]) => name.endsWith("_RE"));
    assert.ok(res.length >= 3);
    for (const [name, value] of res) {
      const base = name.slice(0, -3);
      const rule = exported[aliases[base] ?? base];
      assert.ok(rule instanceof RegExp, `the runner's ${name} has no rule in src/rules.ts (add one, or drop the copy)`);
      assert.equal(value, toBashRegex(rule), `the runner's ${name}`);
    }
  });

  it("every integer copy named like a rule equals it", () => {
    const ints = [...copies].filter(([name]) => typeof exported[name] === "number");
    assert.ok(ints.length >= 2);
    for (const [name, value] of ints) assert.equal(value, String(exported[name]), `the runner's ${name}`);
  });
});
