/**
 * The sandbox backend-core: an HTTP server on 127.0.0.1 implementing the dispatch contract of
 * docs/dispatch.md (`POST /api/dispatch`), reaching D601 through an ssh2 client, recording every request
 * (token redacted) and offering failure switches for the CLI's error paths.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { constants } from "node:os";
import { int, string, strictObject } from "zod";
import { listenOnLoopback, SocketTracker } from "./listen.ts";
import { sshExec, SshExecError, type SshTarget } from "./ssh-exec.ts";

/** Error codes of the dispatch contract. */
export type DispatchErrorCode = "unauthorized" | "forbidden" | "bad_request" | "provider_unavailable" | "timeout" | "internal";

/** A switch that makes the backend misbehave; `null` turns it back to normal. */
export type BackendFailure =
  /** Not listening: connection refused. */
  | { mode: "down" }
  /** 401 unauthorized for every request, whatever the token. */
  | { mode: "unauthorized" }
  /** A 5xx `internal` error for every request. `status` @default 500 */
  | { mode: "server_error"; status?: number }
  /** Waits `delayMs` before handling each request normally. */
  | { mode: "slow"; delayMs: number }
  /** 200 with a body that is not the contract's JSON. `body` @default an HTML page */
  | { mode: "garbage"; body?: string }
  /** Valid, authorized requests get 503 provider_unavailable; D601 is never contacted. */
  | { mode: "host_unreachable" }
  /** Requests are handled normally (D601 runs the command), then the connection drops mid-answer: headers and half the body, then the socket is destroyed. */
  | { mode: "drop" };

/** A token and the providers it may dispatch to. */
export interface TokenGrant {
  token: string;
  providers: string[];
}

/** Options for {@link startBackendCore}. */
export interface BackendCoreOptions {
  /** Accepted tokens. */
  tokens: TokenGrant[];
  /** The one provider this backend knows. @default "D601" */
  providerId?: string;
  /** How to reach the provider's host over SSH (ssh2 client, key auth). */
  ssh: SshTarget;
  /** Hard budget of one host.ssh call; a request's timeoutMs is clamped to it. @default 60000 */
  budgetMs?: number;
  /** Largest accepted request body. @default 1048576 */
  maxBodyBytes?: number;
  /** Receives one line per request (never a token), e.g. for a demo log. */
  onLog?: (line: string) => void;
}

/** What the backend recorded about one request. */
export interface DispatchRecord {
  /** When it arrived (ISO). */
  at: string;
  method: string;
  path: string;
  /** `none`, `Bearer <redacted>` or `<not bearer>`: never the token. */
  authorization: string;
  /** True when the bearer token was one of the configured tokens. */
  tokenKnown: boolean;
  /** The parsed JSON body with every configured token replaced by `<redacted>` (raw text if unparsable). */
  body: unknown;
  /** True when a configured token appeared anywhere in the body: a leak by the client. */
  tokenInBody: boolean;
  /** HTTP status answered (0 until answered). */
  status: number;
  /** The contract error code, or null on success. */
  errorCode: DispatchErrorCode | null;
  /** True when the command was sent to D601. */
  executed: boolean;
  /** Time until answered; null until then. */
  durationMs: number | null;
}

/** A running backend-core. */
export interface BackendCore {
  /** `http://127.0.0.1:<port>`, the value for UNIDESK_BACKEND_URL. */
  url: string;
  port: number;
  providerId: string;
  /** Every request so far (live array). */
  readonly requests: DispatchRecord[];
  /** Every command sent to D601, in order (tokens redacted, like the records). */
  readonly commands: string[];
  /** Number of HTTP requests received (while listening). */
  callCount(): number;
  /** Number of commands sent to D601. */
  executionCount(): number;
  /** The active failure switch. */
  failure(): BackendFailure | null;
  /** Sets or clears a failure switch; `down` closes the listener, clearing it listens again on the same port. */
  setFailure(failure: BackendFailure | null): Promise<void>;
  /** Waits until no request is in flight. */
  idle(): Promise<void>;
  /** Closes the listener and aborts requests in flight. */
  stop(): Promise<void>;
}

const requestSchema = strictObject({
  providerId: string().min(1),
  capability: string().min(1),
  command: string().min(1),
  timeoutMs: int().positive(),
});

/** Answered with a contract error. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: DispatchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Starts backend-core on 127.0.0.1:0. */
export async function startBackendCore(options: BackendCoreOptions): Promise<BackendCore> {
  const providerId = options.providerId ?? "D601";
  const budgetMs = options.budgetMs ?? 60_000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const tokens = options.tokens.map((g) => g.token).filter((t) => t.length > 0);
  const requests: DispatchRecord[] = [];
  const commands: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const aborter = new AbortController();
  let calls = 0;
  let executions = 0;
  let failure: BackendFailure | null = null;
  let server: Server | undefined;
  const sockets = new SocketTracker();
  let port = 0;

  const redact = (text: string): { text: string; found: boolean } => {
    let found = false;
    for (const t of tokens) {
      if (text.includes(t)) {
        found = true;
        text = text.split(t).join("<redacted>");
      }
    }
    return { text, found };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    calls++;
    const started = Date.now();
    const auth = req.headers.authorization;
    const bearer = typeof auth === "string" ? /^Bearer (\S+)$/.exec(auth)?.[1] : undefined;
    const record: DispatchRecord = {
      at: new Date(started).toISOString(),
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: auth === undefined ? "none" : bearer === undefined ? "<not bearer>" : "Bearer <redacted>",
      tokenKnown: bearer !== undefined && tokens.includes(bearer),
      body: null,
      tokenInBody: false,
      status: 0,
      errorCode: null,
      executed: false,
      durationMs: null,
    };
    requests.push(record);
    const send = (status: number, body: string, contentType = "application/json") => {
      record.status = status;
      record.durationMs = Date.now() - started;
      options.onLog?.(`${record.method} ${record.path} ${status}${record.errorCode ? ` ${record.errorCode}` : ""} ${record.durationMs}ms`);
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
      if (failure?.mode === "drop") {
        res.write(body.slice(0, Math.floor(body.length / 2)));
        res.socket?.destroy();
        return;
      }
      res.end(body);
    };
    try {
      const f = failure;
      if (f?.mode === "slow") await sleep(f.delayMs, aborter.signal);
      const raw = await readBody(req, maxBodyBytes);
      if (raw !== undefined) {
        const { text, found } = redact(raw);
        record.tokenInBody = found;
        try {
          record.body = JSON.parse(text);
        } catch {
          record.body = text.slice(0, 2000);
        }
      }
      if (f?.mode === "garbage") {
        send(200, f.body ?? "<html><body>502 upstream hiccup</body></html>", "text/html");
        return;
      }
      if (f?.mode === "server_error") throw new HttpError(f.status ?? 500, "internal", "backend-core failure switch: server_error");
      if (f?.mode === "unauthorized") throw new HttpError(401, "unauthorized", "token rejected");
      if (req.url !== "/api/dispatch") throw new HttpError(404, "bad_request", `no route ${req.url}`);
      if (req.method !== "POST") throw new HttpError(405, "bad_request", "use POST");
      if (bearer === undefined) throw new HttpError(401, "unauthorized", "missing Authorization: Bearer <token>");
      if (!record.tokenKnown) throw new HttpError(401, "unauthorized", "unknown token");
      if (raw === undefined) throw new HttpError(400, "bad_request", "empty body");
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new HttpError(400, "bad_request", "body is not JSON");
      }
      const parsed = requestSchema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
        throw new HttpError(400, "bad_request", `invalid dispatch request: ${issues}`);
      }
      const body = parsed.data;
      const grant = options.tokens.filter((g) => g.token === bearer);
      if (!grant.some((g) => g.providers.includes(body.providerId))) {
        throw new HttpError(403, "forbidden", `token not allowed for provider ${body.providerId}`);
      }
      if (body.providerId !== providerId) throw new HttpError(400, "bad_request", `unknown provider ${body.providerId}`);
      if (body.capability !== "host.ssh") throw new HttpError(400, "bad_request", `unsupported capability ${body.capability}`);
      if (f?.mode === "host_unreachable") throw new HttpError(503, "provider_unavailable", `${providerId} is unreachable`);

      const timeoutMs = Math.min(body.timeoutMs, budgetMs);
      record.executed = true;
      executions++;
      commands.push(redact(body.command).text);
      const execStarted = Date.now();
      let result;
      try {
        result = await sshExec(options.ssh, body.command, { timeoutMs, signal: aborter.signal });
      } catch (err) {
        if (err instanceof SshExecError && err.kind === "timeout") {
          throw new HttpError(504, "timeout", `host.ssh call exceeded ${timeoutMs} ms`);
        }
        const message = err instanceof Error ? err.message : String(err);
        throw new HttpError(err instanceof SshExecError && err.kind === "connect" ? 503 : 502, "provider_unavailable", `${providerId}: ${message}`);
      }
      const exitCode = result.exitCode ?? 128 + (signalNumber(result.signal) ?? 127);
      send(200, JSON.stringify({ ok: true, exitCode, stdout: result.stdout, stderr: result.stderr, durationMs: Date.now() - execStarted }));
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, "internal", err instanceof Error ? err.message : String(err));
      record.errorCode = e.code;
      send(e.status, JSON.stringify({ ok: false, error: { code: e.code, message: redact(e.message).text } }));
    }
  };

  const listen = async () => {
    const s = createServer((req, res) => {
      const p = handle(req, res);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    });
    s.on("connection", sockets.track);
    port = await listenOnLoopback(s, port);
    server = s;
  };
  const close = async () => {
    const s = server;
    if (!s) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    sockets.destroyAll();
    await closed;
  };
  await listen();

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    providerId,
    requests,
    commands,
    callCount: () => calls,
    executionCount: () => executions,
    failure: () => failure,
    setFailure: async (next) => {
      failure = next;
      if (next?.mode === "down") await close();
      else if (!server) await listen();
    },
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    stop: async () => {
      aborter.abort();
      await close();
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Reads the request body as UTF-8; undefined when empty. Rejects bodies over the limit with 413. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, "bad_request", `body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString("utf8");
}

function signalNumber(name: string | null): number | undefined {
  if (!name) return undefined;
  const key = (name.startsWith("SIG") ? name : `SIG${name}`) as keyof typeof constants.signals;
  return constants.signals[key];
}

/** Waits `ms`, or until `signal` aborts; the abort listener goes with the wait (a long soak's slow switch delays many). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
