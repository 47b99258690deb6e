import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DISPATCH_RESPONSE_MAX_BYTES, LOGS_CAP_MAX_BYTES } from "../../src/rules.ts";
import { fakeEnv } from "../../src/env.ts";
import { AuthError, CliError, DispatchError, ExitCode, InterruptedError } from "../../src/errors.ts";
import { dispatch, MAX_RETRIES, type DispatchTarget } from "../../src/dispatch/client.ts";
import { refusedUrl, startServer, type Reply, type TestServer } from "./server.ts";

const TOKEN = "tok-SECRET-4f1c9e";
const request = { command: "echo hello", timeoutMs: 60_000 };
const ok = { ok: true, exitCode: 0, stdout: "hello\n", stderr: "", durationMs: 12 };
const fail = (code: string, message: string) => ({ ok: false, error: { code, message } });

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(...replies: Reply[]): Promise<TestServer> {
  const server = await startServer(replies);
  servers.push(server);
  return server;
}

function target(url: string, extra: Partial<DispatchTarget> = {}): DispatchTarget {
  return { backendUrl: url, token: TOKEN, providerId: "D601", ...extra };
}

/** Runs a dispatch expected to fail and returns the error after checking the token is nowhere in it. */
async function failing(t: DispatchTarget, env = fakeEnv({ fetch })): Promise<CliError> {
  const error = await dispatch(t, request, env).then(
    () => assert.fail("dispatch should have failed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof CliError, `expected a CliError, got ${String(error)}`);
  for (const text of [error.message, error.hint ?? "", String(error), JSON.stringify(error), String((error.cause as Error | undefined)?.message ?? "")]) {
    assert.ok(!text.includes(TOKEN), `token leaked in: ${text}`);
  }
  return error;
}

describe("dispatch client against a real HTTP server", () => {
  it("200: posts the wire format with the bearer token and returns the answer", async () => {
    const server = await serve({ status: 200, json: ok });
    const answer = await dispatch(target(server.url), request, fakeEnv({ fetch }));
    assert.deepEqual(answer, { exitCode: 0, stdout: "hello\n", stderr: "", durationMs: 12 });
    assert.equal(server.requests.length, 1);
    const [req] = server.requests;
    assert.equal(req?.method, "POST");
    assert.equal(req?.url, "/api/dispatch");
    assert.equal(req?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(req?.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(req?.body ?? ""), { providerId: "D601", capability: "host.ssh", command: "echo hello", timeoutMs: 60_000 });
  });

  it("keeps a path prefix of the backend URL", async () => {
    const server = await serve({ status: 200, json: { ...ok, extra: "ignored" } });
    await dispatch(target(`${server.url}/backend/`), request, fakeEnv({ fetch }));
    assert.equal(server.requests[0]?.url, "/backend/api/dispatch");
  });

  it("returns a non-zero exit code of the host command as data", async () => {
    const server = await serve({ status: 200, json: { ...ok, exitCode: 3, stderr: "boom" } });
    const answer = await dispatch(target(server.url), request, fakeEnv({ fetch }));
    assert.equal(answer.exitCode, 3);
    assert.equal(answer.stderr, "boom");
  });

  const cases: { name: string; replies: Reply[]; cls: new (...a: never[]) => CliError; exit: number; requests: number; says: RegExp }[] = [
    { name: "401 → AuthError, no retry", replies: [{ status: 401, json: fail("unauthorized", "bad token") }], cls: AuthError, exit: ExitCode.auth, requests: 1, says: /token rejected.*HTTP 401 unauthorized: bad token/ },
    { name: "401 without body → AuthError", replies: [{ status: 401, text: "nope" }], cls: AuthError, exit: ExitCode.auth, requests: 1, says: /token rejected.*HTTP 401/ },
    { name: "403 → AuthError naming the provider", replies: [{ status: 403, json: fail("forbidden", "no host.ssh for you") }], cls: AuthError, exit: ExitCode.auth, requests: 1, says: /forbidden.*provider D601.*HTTP 403 forbidden: no host\.ssh for you/ },
    { name: "400 → unexpected DispatchError, no retry", replies: [{ status: 400, json: fail("bad_request", "timeoutMs too large") }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /unexpected HTTP 400 bad_request: timeoutMs too large/ },
    { name: "404 → unexpected DispatchError, no retry", replies: [{ status: 404, text: "<html>not found</html>" }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /unexpected HTTP 404/ },
    { name: "500 → retried twice, then DispatchError", replies: [{ status: 500, json: fail("internal", "kaput") }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1 + MAX_RETRIES, says: /HTTP 500 internal: kaput, 3 attempts; .*try again later/ },
    { name: "502 → retried", replies: [{ status: 502, text: "bad gateway" }], cls: DispatchError, exit: ExitCode.unreachable, requests: 3, says: /HTTP 502/ },
    { name: "503 → retried", replies: [{ status: 503, json: fail("provider_unavailable", "D601 offline") }], cls: DispatchError, exit: ExitCode.unreachable, requests: 3, says: /provider_unavailable: D601 offline/ },
    { name: "504 → retried", replies: [{ status: 504, json: fail("timeout", "host.ssh took over 60 s") }], cls: DispatchError, exit: ExitCode.unreachable, requests: 3, says: /HTTP 504 timeout/ },
    { name: "429 → retried", replies: [{ status: 429, json: fail("rate_limited", "slow down") }], cls: DispatchError, exit: ExitCode.unreachable, requests: 3, says: /HTTP 429 rate_limited: slow down/ },
    { name: "501 → not retried", replies: [{ status: 501, text: "" }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /HTTP 501/ },
    { name: "garbage body → malformed answer", replies: [{ status: 200, text: "<html>proxy login</html>" }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /malformed answer.*not JSON/ },
    { name: "empty 200 → malformed answer", replies: [{ status: 200, text: "" }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /malformed answer.*empty body/ },
    { name: "wrong JSON shape → malformed answer", replies: [{ status: 200, json: { ok: true, exitCode: "0" } }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /malformed answer.*exitCode/ },
    { name: "200 with ok:false unauthorized → AuthError", replies: [{ status: 200, json: fail("unauthorized", "expired") }], cls: AuthError, exit: ExitCode.auth, requests: 1, says: /token rejected.*expired/ },
    { name: "200 with ok:false timeout → DispatchError", replies: [{ status: 200, json: fail("timeout", "host.ssh budget exceeded") }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /timeout: host\.ssh budget exceeded/ },
    { name: "redirect → DispatchError, not followed", replies: [{ status: 302, text: "", headers: { location: "https://elsewhere.example/api/dispatch" } }], cls: DispatchError, exit: ExitCode.unreachable, requests: 1, says: /redirected \(HTTP 302 to https:\/\/elsewhere\.example/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const server = await serve(...c.replies);
      const error = await failing(target(server.url));
      assert.ok(error instanceof c.cls, `expected ${c.cls.name}, got ${error.name}: ${error.message}`);
      assert.equal(error.exitCode, c.exit);
      assert.match(error.message, c.says);
      assert.equal(server.requests.length, c.requests, "request count");
    });
  }

  it("a backend echoing the token in its error message does not leak it", async () => {
    const server = await serve({ status: 401, json: fail("unauthorized", `token ${TOKEN} is revoked`) });
    const error = await failing(target(server.url));
    assert.match(error.message, /token \*\*\* is revoked/);
  });

  it("503 then 200 succeeds on the retry, after a backoff through env.sleep", async () => {
    const server = await serve({ status: 503, json: fail("provider_unavailable", "busy") }, { status: 200, json: ok });
    const env = fakeEnv({ fetch });
    const start = env.clockMs();
    const answer = await dispatch(target(server.url), request, env);
    assert.equal(answer.stdout, "hello\n");
    assert.equal(server.requests.length, 2);
    assert.equal(env.clockMs() - start, 1000, "backed off 1 s on the virtual clock");
  });

  it("429 honours Retry-After (capped)", async () => {
    const server = await serve({ status: 429, json: fail("rate_limited", "wait"), headers: { "retry-after": "7" } }, { status: 200, json: ok });
    const env = fakeEnv({ fetch });
    const start = env.clockMs();
    await dispatch(target(server.url), request, env);
    assert.equal(env.clockMs() - start, 7000);
  });

  it("timeout → DispatchError, not retried", async () => {
    const server = await serve("hang");
    const error = await failing(target(server.url, { requestTimeoutMs: 150 }));
    assert.ok(error instanceof DispatchError);
    assert.equal(error.exitCode, ExitCode.unreachable);
    assert.match(error.message, /no answer from .* within 150 ms/);
    assert.equal(server.requests.length, 1);
  });

  it("connection refused → DispatchError naming the URL, retried (nothing was sent)", async () => {
    const url = await refusedUrl();
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const error = await failing(target(url), fakeEnv({ fetch: counting }));
    assert.ok(error instanceof DispatchError);
    assert.equal(error.exitCode, ExitCode.unreachable);
    assert.ok(error.message.includes(`${url}/api/dispatch`), error.message);
    assert.match(error.message, /connection refused/);
    assert.equal(calls, 1 + MAX_RETRIES);
  });

  it("DNS failure → DispatchError naming the URL, not retried", async () => {
    let calls = 0;
    const dnsFailure: typeof fetch = async () => {
      calls++;
      // The shape undici gives for an unknown host (no real DNS lookup in a hermetic test).
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("getaddrinfo ENOTFOUND backend.invalid"), { code: "ENOTFOUND" }) });
    };
    const error = await failing(target("https://backend.invalid"), fakeEnv({ fetch: dnsFailure }));
    assert.ok(error instanceof DispatchError);
    assert.match(error.message, /cannot resolve the host of https:\/\/backend\.invalid\/api\/dispatch/);
    assert.equal(calls, 1);
  });

  it("Ctrl-C while waiting for the answer → InterruptedError (130)", async () => {
    const server = await serve("hang");
    const controller = new AbortController();
    const env = fakeEnv({ fetch, signal: controller.signal });
    const pending = failing(target(server.url), env);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const error = await pending;
    assert.ok(error instanceof InterruptedError);
    assert.equal(error.exitCode, ExitCode.interrupted);
  });

  it("rejects a request over the host.ssh budget before sending anything", async () => {
    const server = await serve({ status: 200, json: ok });
    await assert.rejects(dispatch(target(server.url), { command: "true", timeoutMs: 60_001 }, fakeEnv({ fetch })), /bug: invalid dispatch request/);
    assert.equal(server.requests.length, 0);
  });
});

describe("unbounded answers: the dispatch client reads at most DISPATCH_RESPONSE_MAX_BYTES", () => {
  it("has room for the logs reader's largest answer (LOGS_CAP_MAX_BYTES as base64)", () => {
    assert.ok(DISPATCH_RESPONSE_MAX_BYTES > (LOGS_CAP_MAX_BYTES / 3) * 4 + 1_048_576);
  });

  it("a backend streaming an endless body: the client stops reading past the cap and closes the connection (exit 5)", async () => {
    let written = 0;
    let closed!: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    const chunk = Buffer.alloc(65_536, 0x61);
    const server = createServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.on("close", closed);
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      res.write('{"ok":true,"stdout":"');
      pump();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push({ url: "", requests: [], close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await failing(target(url));
    assert.ok(error instanceof DispatchError);
    assert.equal(error.exitCode, ExitCode.unreachable);
    assert.match(error.message, new RegExp(`the answer from ${url}/api/dispatch is larger than ${DISPATCH_RESPONSE_MAX_BYTES} bytes; stopped reading it`));
    await connectionClosed;
    // What the server got rid of: the cap plus what sockets and stream buffers hold, not gigabytes.
    assert.ok(written > DISPATCH_RESPONSE_MAX_BYTES && written < DISPATCH_RESPONSE_MAX_BYTES + 32 * 1_048_576, `${written} bytes written`);
  });

  it("a Content-Length over the cap is refused before reading the body", async () => {
    const server = await serve({ status: 200, text: "x", headers: { "content-length": String(DISPATCH_RESPONSE_MAX_BYTES + 1) } });
    const error = await failing(target(server.url));
    assert.match(error.message, /is larger than \d+ bytes; stopped reading it/);
    assert.equal(server.requests.length, 1, "not retried");
  });
});
