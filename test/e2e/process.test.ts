// The bundle's process-level paths (src/main.ts), each in a crafted situation set up by a preloaded module:
// no abort-listener leak over a long wait, the unexpected-bug report, and the second Ctrl-C.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BUNDLE, runProcess } from "./helpers.ts";
import { checkJsonRun } from "../io/json-check.ts";
import { signalledAnswer, testResult, watchAnswer } from "../host/answers.ts";

const TOKEN = "tok-process-3a9f";
const RUN = "dev-20261127-162626-k3x9a2";

let dir = "";
let server: Server | undefined;
before(() => void (dir = mkdtempSync(join(tmpdir(), "uci-process-"))));
after(async () => {
  await new Promise((r) => (server ? (server.closeAllConnections(), server.close(r)) : r(undefined)));
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a module for `node --import` and returns its path. */
function preload(name: string, code: string): string {
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
}

const env = (url = "http://127.0.0.1:9") => ({ HOME: dir, UNIDESK_BACKEND_URL: url, UNIDESK_TOKEN: TOKEN });

describe("the bundle as a process", () => {
  it("a wait of 30 answers prints no MaxListenersExceededWarning (no abort listener left per answer)", async () => {
    const POLLS = 30;
    let statusPolls = 0;
    const kinds: string[] = [];
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const command = String(JSON.parse(body).command);
        const kind = command.includes("unidesk-ci-cancel") ? "cancel" : "watch";
        kinds.push(kind);
        const stdout =
          kind === "cancel" ? signalledAnswer(RUN) : ++statusPolls <= POLLS ? watchAnswer(RUN, { pipelineRun: `e2e-${RUN}` }) : watchAnswer(RUN, { result: testResult(RUN, { status: "cancelled" }) });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, exitCode: 0, stdout, stderr: "", durationMs: 1 }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Waits of a second and more pass in a millisecond, so 30 paced answers take no 4 minutes.
    const fast = preload("fast-timers.mjs", "const t = globalThis.setTimeout; globalThis.setTimeout = (fn, ms, ...a) => t(fn, ms >= 1000 ? 1 : ms, ...a);\n");
    const r = await runProcess([process.execPath, "--import", fast, BUNDLE, "cancel", RUN, "--wait-ms", "86400000"], { env: env(url) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(kinds, ["cancel", ...Array(POLLS + 1).fill("watch")]);
    assert.match(r.stdout, /^status: +cancelled$/m);
    assert.doesNotMatch(r.stderr, /MaxListenersExceededWarning|memory leak/);
  });

  it("an unexpected error is reported as a bug: exit 1, the message, a hint to report it (and code internal in --json)", async () => {
    const bug = preload("bug.mjs", 'AbortSignal.any = () => { throw new TypeError("crafted bug"); };\n');
    const r = await runProcess([process.execPath, "--import", bug, BUNDLE, "logs", RUN], { env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: unexpected failure \(a bug in unidesk-ci\): TypeError: crafted bug$/m);
    assert.match(r.stderr, /^hint: please report it/m);
    assert.equal(r.stdout, "");
    const j = await runProcess([process.execPath, "--import", bug, BUNDLE, "logs", RUN, "--json"], { env: env() });
    assert.equal(j.code, 1, j.stderr);
    const doc = JSON.parse(j.stdout);
    assert.deepEqual([doc.ok, doc.error.code, doc.error.exitCode], [false, "internal", 1]);
    assert.ok(!(r.stdout + r.stderr + j.stdout + j.stderr).includes(TOKEN));
  });

  for (const json of [false, true]) it(`a second Ctrl-C ends the process at once with exit 130, even when the first could not${json ? " (--json: still one interrupted document)" : ""}`, async () => {
    // A fetch that ignores its abort signal: the first Ctrl-C cannot end the dispatch.
    const stuck = preload("stuck.mjs", 'globalThis.fetch = () => (process.stderr.write("FETCHING\\n"), new Promise(() => {}));\nsetInterval(() => {}, 1 << 30);\n');
    const child = spawn(process.execPath, ["--import", stuck, BUNDLE, "logs", RUN, ...(json ? ["--json"] : [])], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env() }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (b) => (stderr += b));
    child.stdout.on("data", (b) => (stdout += b));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      while (!stderr.includes("FETCHING")) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGINT");
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r("running"), 500))]);
      assert.equal(early, "running", "the first Ctrl-C alone does not end it here");
      child.kill("SIGINT");
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running"), 10_000))]);
      assert.equal(code, 130, stderr);
      if (json) checkJsonRun(["logs", RUN, "--json"], { code, stdout });
      if (json) assert.equal(JSON.parse(stdout).error.code, "interrupted");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
