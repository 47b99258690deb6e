/**
 * A stub registry in the style of the GitHub CLI's httpmock (docs/building.md#tests): each stub matches a method, a path
 * and optionally the request body, and answers exactly once, in registration order. A request no stub
 * matches fails the test (its fetch rejects and verify() reports it); verify() also fails on unused stubs.
 */
import assert from "node:assert/strict";

/** A request as the stubs see it. */
export interface MockRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
  /** Aborted when the caller aborts its fetch. */
  signal: AbortSignal;
}

/** Which requests a stub answers. */
export interface Matcher {
  method: string;
  path: string;
  /** Further condition on the body, parsed as JSON when it is JSON. */
  body?: (body: unknown) => boolean;
  /** Shown in failures. */
  name: string;
}

/** How a stub answers. */
export type Responder = (req: MockRequest) => Response | Promise<Response>;

interface Stub {
  matcher: Matcher;
  respond: Responder;
  used: boolean;
  /** Answers every matching request, not just one (registerEvery). */
  every?: boolean;
}

/** The registry: register stubs, hand `fetch` to the code under test, call `verify()` at the end. */
export class HttpMock {
  readonly requests: MockRequest[] = [];
  readonly #stubs: Stub[] = [];
  readonly #unmatched: string[] = [];

  /** Adds a stub that answers one matching request. */
  register(matcher: Matcher, respond: Responder): this {
    this.#stubs.push({ matcher, respond, used: false });
    return this;
  }

  /**
   * Adds a stub that answers every matching request (a backend fake: test/cli/helpers.ts's fakeBackend); it
   * matches after the one-shot stubs registered before it, and verify() fails when it was never used.
   */
  registerEvery(matcher: Matcher, respond: Responder): this {
    this.#stubs.push({ matcher, respond, used: false, every: true });
    return this;
  }

  /** Adds `times` identical stubs. */
  registerTimes(times: number, matcher: Matcher, respond: Responder): this {
    for (let i = 0; i < times; i++) this.register(matcher, respond);
    return this;
  }

  /** A fetch answering from the stubs. */
  readonly fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const signal = init.signal ?? new AbortController().signal;
    const req: MockRequest = { method: init.method ?? "GET", path: url.pathname, headers: new Headers(init.headers), body: String(init.body ?? ""), signal };
    this.requests.push(req);
    const stub = this.#stubs.find((s) => (s.every || !s.used) && matches(s.matcher, req));
    if (!stub) {
      const what = `${req.method} ${req.path} ${req.body.slice(0, 120)}`;
      this.#unmatched.push(what);
      throw new Error(`http-mock: no stub for ${what}`);
    }
    stub.used = true;
    if (signal.aborted) throw signal.reason;
    return Promise.race([
      stub.respond(req),
      new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
  }) as typeof fetch;

  /** Fails when a request matched no stub or a stub was never used. */
  verify(): void {
    assert.deepEqual(this.#unmatched, [], "requests no stub matched");
    assert.deepEqual(
      this.#stubs.filter((s) => !s.used).map((s) => s.matcher.name),
      [],
      "stubs never used",
    );
  }
}

function matches(m: Matcher, req: MockRequest): boolean {
  if (m.method !== req.method || m.path !== req.path) return false;
  if (!m.body) return true;
  let body: unknown = req.body;
  try {
    body = JSON.parse(req.body);
  } catch {
    // not JSON: the predicate gets the text
  }
  return m.body(body);
}

/** Matches any request with this method and path. */
export const REST = (method: string, path: string): Matcher => ({ method, path, name: `${method} ${path}` });

/** The fixed host scripts a dispatch can carry, told apart by their header line. */
export type ScriptKind = "launcher" | "watch" | "logs" | "cancel" | "runs" | "doctor";

/** Matches a dispatch of one kind of fixed script. */
export function dispatchOf(kind: ScriptKind): Matcher {
  const header = { watch: "unidesk-ci-watch", logs: "unidesk-ci-logs", cancel: "unidesk-ci-cancel", runs: "unidesk-ci-runs", doctor: "unidesk-ci-doctor" } as const;
  return {
    ...REST("POST", "/api/dispatch"),
    name: `dispatch of the ${kind} script`,
    body: (b) => {
      const command = (b as { command?: unknown }).command;
      if (typeof command !== "string") return false;
      return kind === "launcher" ? !Object.values(header).some((h) => command.includes(h)) : command.includes(header[kind]);
    },
  };
}

/** Answers with `status` and a JSON body. */
export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}): Responder => () => Response.json(body, { status, headers });

/** A 200 dispatch answer carrying the host command's output. */
export const hostAnswer = (stdout: string, exitCode = 0, stderr = ""): Responder => jsonResponse(200, { ok: true, exitCode, stdout, stderr, durationMs: 5 });

/** A dispatch failure answer (`{ ok: false, error }`) with an HTTP status. */
export const backendError = (status: number, code: string, message: string): Responder => jsonResponse(status, { ok: false, error: { code, message } });

/** Runs `then` before answering with `respond` (to move a test along at an exact request). */
export const after = (then: (req: MockRequest) => void, respond: Responder): Responder => (req) => {
  then(req);
  return respond(req);
};

/** Never answers (until the caller aborts). */
export const hang: Responder = () => new Promise<never>(() => undefined);
