/** The dispatch client: one host.ssh command through backend-core, with timeout, retries and error mapping (docs/dispatch.md). */
import { anySignal, type Env } from "../env.ts";
import { AuthError, DispatchError, InterruptedError, type CliError } from "../errors.ts";
import { DISPATCH_RESPONSE_MAX_BYTES } from "../rules.ts";
import { untrustedLine } from "../redact.ts";
import { dispatchFailureSchema, dispatchHeaders, dispatchRequestBody, dispatchRequestSchema, dispatchSuccessSchema, dispatchUrl } from "./wire.ts";

/** Where and as whom to dispatch. */
export interface DispatchTarget {
  /** backend-core base URL, e.g. https://backend.example.com. */
  backendUrl: string;
  /** Bearer token; never printed. */
  token: string;
  /** host.ssh provider, e.g. D601. */
  providerId: string;
  /** Give up on one HTTP request after this long. @default request.timeoutMs + REQUEST_TIMEOUT_MARGIN_MS */
  requestTimeoutMs?: number;
  /** Where the token came from (for "token rejected" messages). */
  tokenSource?: string;
  /** Retries after the first attempt. @default MAX_RETRIES */
  maxRetries?: number;
}

/** One command to run on the provider. */
export interface DispatchRequest {
  /** The bash script (the fixed launcher or a fixed reader). */
  command: string;
  /** host.ssh budget, at most 60000. */
  timeoutMs: number;
}

/** What the host answered. */
export interface DispatchAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Extra time over the host.ssh budget before the client gives up on a request (network and backend overhead). */
export const REQUEST_TIMEOUT_MARGIN_MS = 15_000;

/** Retries after the first attempt, only for {@link RETRY_STATUSES} and refused connections. */
export const MAX_RETRIES = 2;

/** Waits before retry 1 and 2. */
export const RETRY_BACKOFF_MS = [1_000, 3_000] as const;

/** Longest Retry-After honoured for 429. */
export const RETRY_AFTER_MAX_MS = 30_000;

/**
 * Statuses retried. Safe because every command this CLI dispatches is idempotent: the launcher refuses a
 * second run for a runId it has seen, and readers are read-only.
 */
export const RETRY_STATUSES: readonly number[] = [429, 500, 502, 503, 504];

/** A retryable failure: what happened, how to fix it if retries do not help, and what the server asked us to wait. */
interface Retryable {
  what: string;
  fix: string;
  cause?: unknown;
  afterMs?: number;
  /** The command may have run on the host (a 5xx after the backend took it). @default true */
  mayHaveRun?: boolean;
}

type Attempt = { answer: DispatchAnswer } | { retry: Retryable };

/** Runs `request.command` on `target.providerId`; AuthError (exit 4) or DispatchError (exit 5) on failure. */
export async function dispatch(target: DispatchTarget, request: DispatchRequest, env: Env): Promise<DispatchAnswer> {
  const body = dispatchRequestSchema.safeParse(dispatchRequestBody(target.providerId, request.command, request.timeoutMs));
  if (!body.success) throw new Error(`bug: invalid dispatch request (${body.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")})`);
  const call = { target, url: dispatchUrl(target.backendUrl), body: JSON.stringify(body.data), timeoutMs: target.requestTimeoutMs ?? request.timeoutMs + REQUEST_TIMEOUT_MARGIN_MS };
  // Whether an earlier attempt may have run the command: then no later error can say it did not.
  let mayHaveRun = false;
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(call, env).catch((error: unknown) => {
      if (mayHaveRun && error instanceof DispatchError) error.mayHaveRun = true;
      throw error;
    });
    if ("answer" in outcome) return outcome.answer;
    const { what, fix, cause, afterMs } = outcome.retry;
    mayHaveRun ||= outcome.retry.mayHaveRun ?? true;
    if (attempt >= (target.maxRetries ?? MAX_RETRIES)) throw new DispatchError(`${what}, ${attempt + 1} attempts; ${fix}`, { cause, mayHaveRun });
    const waitMs = Math.max(RETRY_BACKOFF_MS[attempt] ?? 0, afterMs ?? 0);
    try {
      await env.sleep(waitMs, env.signal);
    } catch (error) {
      throw new InterruptedError("interrupted while waiting to retry the dispatch", { cause: error });
    }
  }
}

interface Call {
  target: DispatchTarget;
  url: string;
  body: string;
  timeoutMs: number;
}

async function attemptOnce(call: Call, env: Env): Promise<Attempt> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const { signal, dispose } = anySignal(env.signal, timeout);
  try {
    return await sendOnce(call, env, signal, timeout);
  } finally {
    dispose();
  }
}

async function sendOnce(call: Call, env: Env, signal: AbortSignal, timeout: AbortSignal): Promise<Attempt> {
  const { target, url } = call;
  const aborted = (error: unknown, what: string): CliError | undefined => {
    if (env.signal.aborted) return new InterruptedError(`interrupted while ${what}`, { cause: error });
    if (timeout.aborted) {
      return new DispatchError(`no answer from ${url} within ${call.timeoutMs} ms; the backend or ${target.providerId} may be overloaded or down`, { cause: error });
    }
    return undefined;
  };

  let response: Response;
  try {
    // redirect "manual": a redirect would re-send the token elsewhere or turn the POST into a GET.
    response = await env.fetch(url, { method: "POST", headers: dispatchHeaders(target.token), body: call.body, signal, redirect: "manual" });
  } catch (error) {
    const stop = aborted(error, "dispatching");
    if (stop) throw stop;
    const detail = networkDetail(error);
    // Refused: nothing reached the backend, so trying again cannot run anything twice.
    if (/ECONNREFUSED|ConnectionRefused|connection refused/i.test(detail)) {
      return { retry: { what: `cannot connect to ${url} (connection refused)`, fix: "check the backend URL and that backend-core is running", cause: error, mayHaveRun: false } };
    }
    if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns error|failed to lookup|DNS/i.test(detail)) {
      throw new DispatchError(`cannot resolve the host of ${url} (${detail}); check the backend URL and your network`, { cause: error, mayHaveRun: false });
    }
    throw new DispatchError(`cannot reach ${url} (${detail}); check the backend URL and your network`, { cause: error });
  }

  let text: string;
  try {
    text = await readBody(response, url);
  } catch (error) {
    if (error instanceof DispatchError) throw error;
    throw aborted(error, "reading the dispatch answer") ?? new DispatchError(`the connection to ${url} broke while reading the answer (${networkDetail(error)})`, { cause: error });
  }
  return interpret(response, text, call);
}

/** The body as text, read as a stream: past DISPATCH_RESPONSE_MAX_BYTES it is cancelled (the connection closed) and a DispatchError thrown. */
async function readBody(response: Response, url: string): Promise<string> {
  const tooLarge = () =>
    new DispatchError(`the answer from ${url} is larger than ${DISPATCH_RESPONSE_MAX_BYTES} bytes; stopped reading it`, {
      hint: "no fixed script prints that much: check that the backend URL points at backend-core (docs/dispatch.md)",
    });
  if (Number(response.headers.get("content-length")) > DISPATCH_RESPONSE_MAX_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > DISPATCH_RESPONSE_MAX_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(body);
}

function interpret(response: Response, text: string, call: Call): Attempt {
  const { target, url } = call;
  const status = response.status;
  const data = parseJson(text);
  const failure = dispatchFailureSchema.safeParse(data);
  // Both fields are the backend's words: a hostile or buggy backend may echo the Authorization header in either.
  const backend = failure.success ? ` ${clean(failure.data.error.code, target.token)}: ${clean(failure.data.error.message, target.token)}` : "";
  const http = `HTTP ${status}${backend}`;

  if (status >= 200 && status < 300) {
    const success = dispatchSuccessSchema.safeParse(data);
    if (success.success) {
      const { exitCode, stdout, stderr, durationMs } = success.data;
      return { answer: { exitCode, stdout, stderr, durationMs } };
    }
    if (failure.success) return fromBackendCode(failure.data.error.code, http, call);
    throw new DispatchError(`malformed answer from ${url} (HTTP ${status}): ${clean(describeGarbage(text, success.error.issues[0]), target.token)}`, { hint: "the backend does not speak the dispatch format in docs/dispatch.md" });
  }
  if (status >= 300 && status < 400) {
    const location = response.headers.get("location");
    throw new DispatchError(`${url} redirected (HTTP ${status}${location ? ` to ${clean(location, target.token)}` : ""}); set the backend URL to the final address`, { mayHaveRun: false });
  }
  if (status === 401) return fromBackendCode("unauthorized", http, call);
  if (status === 403) return fromBackendCode("forbidden", http, call);
  if (RETRY_STATUSES.includes(status)) {
    // 429 and provider_unavailable: the backend did not take the command, or could not reach the host with it.
    const mayHaveRun = status !== 429 && !(failure.success && failure.data.error.code === "provider_unavailable");
    return { retry: { what: `${url} answered ${http}`, fix: `backend-core or ${target.providerId} is unavailable or overloaded; try again later`, afterMs: retryAfterMs(response), mayHaveRun } };
  }
  if (status >= 400 && status < 500) {
    throw new DispatchError(`unexpected ${http} from ${url}; check the backend URL, or the backend may not speak this dispatch API (docs/dispatch.md)`, { mayHaveRun: false });
  }
  throw new DispatchError(`${url} answered ${http}`);
}

/** Maps a backend error (by HTTP status or `error.code` in a 2xx body) to our error. */
function fromBackendCode(code: string, http: string, call: Call): never {
  const { target, url } = call;
  if (code === "unauthorized") {
    throw new AuthError(`token rejected by ${url} (${http}); check the token from ${target.tokenSource ?? "your configuration"}`);
  }
  if (code === "forbidden") {
    throw new AuthError(`forbidden: this token may not use host.ssh on provider ${target.providerId} (${http}); ask for access, or check the provider id (UNIDESK_CI_PROVIDER)`);
  }
  throw new DispatchError(`${url} answered ${http}`);
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Math.min(Number(value.trim()) * 1000, RETRY_AFTER_MAX_MS);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The backend's text as one bounded line, never the token even if the backend echoes it (redact.ts). */
const clean = (text: string, token: string): string => untrustedLine(text, [token]);

function describeGarbage(text: string, issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (text.trim() === "") return "empty body";
  if (parseJson(text) === undefined) return `not JSON (starts with ${JSON.stringify(text.slice(0, 40))})`;
  return issue ? `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}` : "unexpected shape";
}

/** Codes and messages of a fetch failure and its causes, across Node (undici), Deno and Bun. */
function networkDetail(error: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (depth > 4 || typeof e !== "object" || e === null) return;
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string") parts.push(code);
    if (typeof message === "string" && message !== "" && message !== "fetch failed") parts.push(message);
    visit(cause, depth + 1);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  const unique = [...new Set(parts)];
  // A runtime's message may quote what the server sent: outside text like the rest.
  return untrustedLine(unique.length === 0 ? String(error) : unique.join(": "));
}
