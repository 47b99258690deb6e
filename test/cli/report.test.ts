// `report` in-process against a stubbed logs-reader dispatch (test/http-mock.ts): flag checks before any dispatch,
// one dispatch, files written atomically only after the data came, `-` to stdout, the --json document.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { checkOutputPath, writeFileAtomic } from "../../src/write-file.ts";
import { dispatchOf, hostAnswer, HttpMock, backendError } from "../http-mock.ts";
import { testProgress, testResult } from "../host/answers.ts";
import { runMainChecked } from "./helpers.ts";

const RUN = "dev-20261127-162626-k3x9a2";
const vars = { HOME: "/nonexistent-home", UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: "tok-report-1" };
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A logs-reader answer of a failed run: result.json, progress.json and the failed task's pod log; `head` lines go after `runid` (ref, changes). */
function failedRunAnswer(head: string[] = []) {
  const result = JSON.stringify(testResult(RUN, { status: "failed" }));
  const progress = JSON.stringify(testProgress(RUN, ["check-inputs", "report"], [["check-inputs", "True", "Succeeded"], ["report", "False", "Failed"]], "False"));
  const files: [string, string][] = [["progress.json", progress], [`pods/e2e-${RUN}-report-pod_step-report.log`, "[report] FAILED: x\n"]];
  return hostAnswer([
    "unidesk-ci-logs\t1", `runid\t${RUN}`, ...head, "caps\t1000000\t1000000\t200", "run\tpresent", "liveness\tdead\tgone",
    `result\tb64:${b64(result)}\t${result.length}`, ...files.map(([p, c]) => `file\t${b64(p)}\t${c.length}\tb64:${b64(c)}`), "omitted\t0\texact", `end\t${files.length}\t0`, "",
  ].join("\n"));
}

describe("report: flags checked before any dispatch (exit 2)", () => {
  for (const [args, error] of [
    [[], /^error: report needs at least one of --junit FILE, --markdown FILE, --html FILE$/m],
    [["--junit", "-", "--html", "-"], /^error: only one report can go to stdout, not --junit - and --html -$/m],
    [["--markdown", "-", "--json"], /"message":"--markdown - cannot be combined with --json/],
    [["--junit", "a.xml", "--html", "a.xml"], /^error: --junit and --html both name a\.xml$/m],
    [["--html", "/missing/r.html"], /^error: cannot write --html \/missing\/r\.html: its directory \/missing does not exist$/m],
  ] as const) {
    it(`${args.join(" ") || "(no format)"}`, async () => {
      const none = new HttpMock();
      const env = fakeEnv({ vars, fetch: none.fetch });
      assert.equal(await runMainChecked(["report", RUN, ...args], env), 2);
      assert.match(env.err() + env.out(), error);
      none.verify();
    });
  }
});

describe("report", () => {
  it("one dispatch; --markdown - to stdout, --junit and --html to files; exit 0 for a failed run", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), failedRunAnswer());
    const files: Record<string, string> = {};
    const env = fakeEnv({ vars, fetch: mock.fetch, files });
    assert.equal(await runMainChecked(["report", RUN, "--markdown", "-", "--junit", "j.xml", "--html", "r.html"], env), 0);
    mock.verify();
    assert.match(env.out(), /^## ✗ unidesk-ci run `dev-20261127-162626-k3x9a2`: failed$/m);
    assert.match(env.out(), /^`✗ report\/report Failed`$/m);
    assert.match(files["j.xml"]!, /<testsuite name="unidesk-ci dev-20261127-162626-k3x9a2" tests="2" failures="1"/);
    assert.match(files["r.html"]!, /^<!DOCTYPE html>/);
    assert.equal(env.err(), `run ${RUN} failed; wrote junit to j.xml, markdown to stdout, html to r.html\n`);
  });

  it("--json: the files written, checked against the report schema", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), failedRunAnswer());
    const env = fakeEnv({ vars, fetch: mock.fetch, files: {} });
    assert.equal(await runMainChecked(["report", RUN, "--junit", "j.xml", "--json"], env), 0);
    const doc = JSON.parse(env.out());
    assert.deepEqual([doc.ok, doc.status, doc.written.map((w: { format: string; path: string }) => [w.format, w.path])], [true, "failed", [["junit", "j.xml"]]]);
  });

  it("the backend down: exit 5 and no file written", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), backendError(503, "provider_unavailable", "D601 is down"));
    const files: Record<string, string> = {};
    const env = fakeEnv({ vars, fetch: mock.fetch, files });
    const code = await runMainChecked(["report", RUN, "--junit", "j.xml"], env);
    assert.equal(code, 5);
    assert.deepEqual(Object.keys(files), []);
  });
});

describe("report @latest / @latest-failed and the changes since the last green run", () => {
  const GREEN = "dev-20261127-150000-g7r33n";
  const GREEN_COMMIT = "1111111111111111111111111111111111111111";
  const deployOf = (commit: string) => JSON.stringify({ environments: { dev: { services: [{ id: "api", commitId: commit }, { id: "web", commitId: "c".repeat(40) }] } } });
  const changesLine = `changes\t${GREEN}\tb64:${b64(JSON.stringify(testResult(GREEN, { manifestCommit: GREEN_COMMIT })))}\tb64:${b64(deployOf("a".repeat(40)))}\tb64:${b64(deployOf("b".repeat(40)))}`;

  it("@latest-failed: names the run it resolved to, reads it in the same one dispatch, the clone's commit subjects in the Markdown", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), failedRunAnswer([`ref\t@latest-failed\t${RUN}`, changesLine]));
    const gitCalls: string[][] = [];
    const spawn = async (cmd: string, args: readonly string[]) => {
      gitCalls.push([cmd, ...args]);
      return { code: 0, stdout: `${"d".repeat(40)}\tapi: bump to bbbb\n`, stderr: "" };
    };
    const env = fakeEnv({ vars, fetch: mock.fetch, files: {}, spawn });
    assert.equal(await runMainChecked(["report", "@latest-failed", "--markdown", "-"], env), 0);
    mock.verify();
    assert.match(mock.requests[0]!.body, /@latest-failed/, "the host resolves the reference (no extra dispatch)");
    assert.equal(env.err(), `@latest-failed is run ${RUN}\nrun ${RUN} failed; wrote markdown to stdout\n`);
    assert.match(env.out(), /^## ✗ unidesk-ci run `dev-20261127-162626-k3x9a2`: failed$/m);
    assert.match(env.out(), new RegExp(`Last green run \`${GREEN}\` at \`111111111111\``));
    assert.match(env.out(), /`api`: `aaaaaaaaaaaa` → `bbbbbbbbbbbb`/);
    assert.match(env.out(), /`dddddddddddd` `api: bump to bbbb`/);
    assert.equal(gitCalls.length, 1);
    assert.match(gitCalls[0]!.join(" "), new RegExp(`log .*${GREEN_COMMIT}\\.\\.5a31b71c36f5840de90f6e62232e854c6634cbc8 -- deploy\\.json$`));
  });

  it("--json: the resolved run id in the document, nothing on stderr", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), failedRunAnswer([`ref\t@latest\t${RUN}`]));
    const env = fakeEnv({ vars, fetch: mock.fetch, files: {} });
    assert.equal(await runMainChecked(["report", "@latest", "--junit", "j.xml", "--json"], env), 0);
    const doc = JSON.parse(env.out());
    assert.deepEqual([doc.runId, doc.reference], [RUN, "@latest"]);
    assert.equal(env.err(), "");
  });

  it("@latest with no run on the host: exit 2 naming it", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), hostAnswer(["unidesk-ci-logs\t1", "ref\t@latest\t-", "runid\t@latest", "caps\t1000000\t1000000\t200", "run\tabsent", "end\t0\t0", ""].join("\n")));
    const env = fakeEnv({ vars, fetch: mock.fetch, files: {} });
    assert.equal(await runMainChecked(["report", "@latest", "--junit", "j.xml"], env), 2);
    assert.match(env.err(), /^error: @latest names nothing: /m);
  });

  it("a bad reference is refused before any dispatch (exit 2)", async () => {
    const none = new HttpMock();
    const env = fakeEnv({ vars, fetch: none.fetch });
    assert.equal(await runMainChecked(["report", "@newest", "--junit", "-"], env), 2);
    assert.match(env.err(), /^error: `RUN_ID`: "@newest" is not a run reference: use @latest or @latest-failed$/m);
    none.verify();
  });
});

describe("writeFileAtomic and checkOutputPath (real files)", () => {
  it("replaces a file whole and leaves no temporary file; a missing directory is named, nothing created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "uci-write-"));
    try {
      const path = join(dir, "r.xml");
      await writeFileAtomic(path, "old");
      await writeFileAtomic(path, "new");
      assert.equal(readFileSync(path, "utf8"), "new");
      assert.deepEqual(readdirSync(dir), ["r.xml"]);
      assert.equal(await checkOutputPath(path), null);
      assert.equal(await checkOutputPath(join(dir, "no", "r.xml")), `its directory ${join(dir, "no")} does not exist`);
      assert.equal(await checkOutputPath(dir), "it exists and is not a regular file");
      await assert.rejects(writeFileAtomic(join(dir, "no", "r.xml"), "x"), { code: "ENOENT" });
      assert.ok(!existsSync(join(dir, "no")));
      assert.deepEqual(readdirSync(dir), ["r.xml"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
