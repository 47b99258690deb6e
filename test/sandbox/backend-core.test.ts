import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBackendCore, type BackendCore } from "./backend-core.ts";
import { startD601, type D601 } from "./d601.ts";
import { generateKeyPair } from "./ssh-exec.ts";

const TOKEN = "tok-sandbox-0123456789abcdef";
const OTHER_TOKEN = "tok-other-provider-zyxwvu";

describe("backend-core (dispatch contract over ssh2 to D601)", () => {
  let root: string;
  let d601: D601;
  let backend: BackendCore;
  const logLines: string[] = [];
  const key = generateKeyPair("backend-core");

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "sandbox-backend-test-"));
    d601 = await startD601({ home: join(root, "home"), authorizedKeys: [key.publicKey] });
    backend = await startBackendCore({
      tokens: [
        { token: TOKEN, providers: ["D601", "D999"] },
        { token: OTHER_TOKEN, providers: ["D602"] },
      ],
      ssh: { host: d601.host, port: d601.port, username: d601.username, privateKey: key.privateKey, hostKey: d601.hostPublicKey },
      budgetMs: 1500,
      onLog: (l) => logLines.push(l),
    });
  });
  after(async () => {
    await backend?.stop();
    await d601?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const dispatch = async (body: unknown, token: string | null = TOKEN, path = "/api/dispatch") => {
    const res = await fetch(`${backend.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  };
  const ok = (command: string, timeoutMs = 60_000) => ({ providerId: "D601", capability: "host.ssh", command, timeoutMs });

  it("runs the command on D601 and answers 200 with its output", async () => {
    const before = d601.execs.length;
    const r = await dispatch(ok("echo hello; echo oops >&2; exit 3"));
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, true);
    assert.equal(r.json.exitCode, 3);
    assert.equal(r.json.stdout, "hello\n");
    assert.equal(r.json.stderr, "oops\n");
    assert.equal(typeof r.json.durationMs, "number");
    assert.equal(d601.execs.length, before + 1);
    assert.equal(backend.commands.at(-1), "echo hello; echo oops >&2; exit 3");
    assert.equal(backend.requests.at(-1)?.executed, true);
  });

  const errorCases: { name: string; body: unknown; token?: string | null; path?: string; status: number; code: string }[] = [
    { name: "no token", body: ok("true"), token: null, status: 401, code: "unauthorized" },
    { name: "unknown token", body: ok("true"), token: "nope", status: 401, code: "unauthorized" },
    { name: "token not allowed for D601", body: ok("true"), token: OTHER_TOKEN, status: 403, code: "forbidden" },
    { name: "not JSON", body: "{oops", status: 400, code: "bad_request" },
    { name: "missing command", body: { providerId: "D601", capability: "host.ssh", timeoutMs: 1000 }, status: 400, code: "bad_request" },
    { name: "extra field", body: { ...ok("true"), token: "x" }, status: 400, code: "bad_request" },
    { name: "timeoutMs not an integer", body: { ...ok("true"), timeoutMs: 1.5 }, status: 400, code: "bad_request" },
    { name: "other capability", body: { ...ok("true"), capability: "host.exec" }, status: 400, code: "bad_request" },
    { name: "unknown provider", body: { ...ok("true"), providerId: "D999" }, status: 400, code: "bad_request" },
    { name: "unknown route", body: ok("true"), path: "/api/other", status: 404, code: "bad_request" },
  ];
  for (const c of errorCases) {
    it(`answers ${c.status} ${c.code}: ${c.name}, without touching D601`, async () => {
      const before = d601.execs.length;
      const r = await dispatch(c.body, c.token === undefined ? TOKEN : c.token, c.path);
      assert.equal(r.status, c.status);
      assert.equal(r.json.ok, false);
      assert.equal(r.json.error.code, c.code);
      assert.equal(typeof r.json.error.message, "string");
      assert.equal(d601.execs.length, before);
    });
  }

  it("stops a command at the budget with 504 timeout (request timeoutMs is clamped to it)", async () => {
    const started = Date.now();
    const r = await dispatch(ok("sleep 20", 60_000));
    assert.equal(r.status, 504);
    assert.equal(r.json.error.code, "timeout");
    // Stopped at the 1.5 s budget, not at the request's 60 s (a 20 s sleep would have answered 200): a lower
    // bound only, which load cannot break.
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400, `took ${elapsed} ms`);
    const short = await dispatch(ok("sleep 20", 200));
    assert.equal(short.json.error.code, "timeout");
  });

  it("answers provider_unavailable when D601 cannot be reached", async () => {
    const closed = await freePort();
    const lonely = await startBackendCore({
      tokens: [{ token: TOKEN, providers: ["D601"] }],
      ssh: { host: "127.0.0.1", port: closed, username: "ubuntu", privateKey: key.privateKey },
    });
    try {
      const res = await fetch(`${lonely.url}/api/dispatch`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(ok("true")) });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as any).error.code, "provider_unavailable");
    } finally {
      await lonely.stop();
    }
  });

  it("failure switches: down, 401, 5xx, slow, garbage, host unreachable", async () => {
    const execs = d601.execs.length;
    await backend.setFailure({ mode: "down" });
    const calls = backend.callCount();
    await assert.rejects(fetch(`${backend.url}/api/dispatch`, { method: "POST", body: "{}" }));
    assert.equal(backend.callCount(), calls);
    await backend.setFailure({ mode: "unauthorized" });
    assert.equal((await dispatch(ok("true"))).status, 401);
    await backend.setFailure({ mode: "server_error" });
    const e500 = await dispatch(ok("true"));
    assert.equal(e500.status, 500);
    assert.equal(e500.json.error.code, "internal");
    await backend.setFailure({ mode: "server_error", status: 502 });
    assert.equal((await dispatch(ok("true"))).status, 502);
    await backend.setFailure({ mode: "garbage" });
    const g = await dispatch(ok("true"));
    assert.equal(g.status, 200);
    assert.equal(g.json, undefined);
    await backend.setFailure({ mode: "host_unreachable" });
    const h = await dispatch(ok("true"));
    assert.equal(h.status, 503);
    assert.equal(h.json.error.code, "provider_unavailable");
    assert.equal(d601.execs.length, execs, "nothing ran on D601");
    await backend.setFailure({ mode: "slow", delayMs: 400 });
    const started = Date.now();
    const s = await dispatch(ok("echo slow"));
    assert.equal(s.json.stdout, "slow\n");
    assert.ok(Date.now() - started >= 390, "the slow switch delays the answer (a lower bound only)");
    await backend.setFailure(null);
    assert.equal((await dispatch(ok("echo back"))).json.stdout, "back\n");
    assert.equal(backend.callCount(), calls + 7);
  });

  it("the slow switch leaves no abort listener behind per delayed request (a long soak's MaxListenersExceededWarning)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      await backend.setFailure({ mode: "slow", delayMs: 5 });
      for (let i = 0; i < 12; i++) assert.equal((await dispatch(ok("true"))).status, 200);
      await backend.setFailure(null);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning")), []);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("never records or logs the token; a token inside a body is flagged and redacted", async () => {
    await dispatch(ok(`echo ${TOKEN} >/dev/null`));
    const last = backend.requests.at(-1)!;
    assert.equal(last.tokenInBody, true);
    assert.equal(last.authorization, "Bearer <redacted>");
    const everything = JSON.stringify({ requests: backend.requests, commands: backend.commands, logLines });
    for (const t of [TOKEN, OTHER_TOKEN]) assert.ok(!everything.includes(t), "token leaked into records");
    assert.ok(backend.commands.at(-1)?.includes("<redacted>"));
    assert.ok(logLines.length > 0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}
