/**
 * The sandbox egress proxy: a real HTTP forward proxy on 127.0.0.1 (CONNECT tunnels and plain
 * absolute-URI HTTP) that records every request and can be stopped, restarted or set to refuse.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { listenOnLoopback, SocketTracker } from "./listen.ts";

/** One request the proxy received. */
export interface ProxyRequestRecord {
  /** When it arrived (ISO). */
  at: string;
  /** `CONNECT`, `GET`, `POST`, … */
  method: string;
  /** `host:port` for CONNECT, the absolute URI otherwise. */
  target: string;
  /** The client's address and port. */
  remoteAddress: string;
  remotePort: number;
  /** Local port of the proxy's outbound socket to the target (0 when none was opened). */
  outboundPort: number;
  /** What the proxy did: `tunnel`, `forwarded`, `refused` or `failed`. */
  outcome: "tunnel" | "forwarded" | "refused" | "failed";
  /** Bytes relayed from the client to the target so far (a tunnel's payload, or a request's body). */
  bytesToTarget: number;
  /** Bytes relayed from the target to the client so far (a tunnel's payload, or a response's body). */
  bytesFromTarget: number;
}

/** A running (or stopped) egress proxy. */
export interface EgressProxy {
  /** `http://127.0.0.1:<port>`, the value for UNIDESK_CI_EGRESS_PROXY. */
  url: string;
  port: number;
  /** Every request so far (live array). */
  readonly requests: ProxyRequestRecord[];
  /** Local ports of every outbound connection the proxy opened: the git server sees these as peers. */
  outboundPorts(): Set<number>;
  /** True while listening. */
  isRunning(): boolean;
  /** When true, every request is answered 403 (CONNECT included) and nothing is forwarded. */
  setRefusing(refusing: boolean): void;
  /** Stops listening and destroys open tunnels: clients get "connection refused" from now on. */
  stop(): Promise<void>;
  /** Listens again on the same port after {@link EgressProxy.stop}. */
  start(): Promise<void>;
}

/** Options for {@link startEgressProxy}. */
export interface EgressProxyOptions {
  /** Port to listen on. @default 0 (a free port) */
  port?: number;
}

/** Starts the forward proxy on 127.0.0.1. */
export async function startEgressProxy(options: EgressProxyOptions = {}): Promise<EgressProxy> {
  const requests: ProxyRequestRecord[] = [];
  const outbound = new Set<number>();
  const sockets = new SocketTracker();
  let refusing = false;
  let server: Server | undefined;
  let port = options.port ?? 0;


  const record = (req: IncomingMessage, target: string): ProxyRequestRecord => {
    const r: ProxyRequestRecord = {
      at: new Date().toISOString(),
      method: req.method ?? "",
      target,
      remoteAddress: req.socket.remoteAddress ?? "",
      remotePort: req.socket.remotePort ?? 0,
      outboundPort: 0,
      outcome: "refused",
      bytesToTarget: 0,
      bytesFromTarget: 0,
    };
    requests.push(r);
    return r;
  };

  const onConnect = (req: IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.track(client);
    const target = req.url ?? "";
    const r = record(req, target);
    client.on("error", () => {});
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    if (refusing || !m) {
      client.end(`HTTP/1.1 ${refusing ? "403 Forbidden" : "400 Bad Request"}\r\nConnection: close\r\n\r\n`);
      return;
    }
    const upstream = connect(Number(m[2]), m[1]!);
    sockets.track(upstream);
    upstream.on("connect", () => {
      r.outboundPort = upstream.localPort ?? 0;
      outbound.add(r.outboundPort);
      r.outcome = "tunnel";
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      r.bytesToTarget += head.length;
      if (head.length > 0) upstream.write(head);
      client.on("data", (b: Buffer) => void (r.bytesToTarget += b.length));
      upstream.on("data", (b: Buffer) => void (r.bytesFromTarget += b.length));
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => {
      r.outcome = "failed";
      if (client.writable) client.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
      client.destroy();
    });
    client.on("close", () => upstream.destroy());
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? "";
    const r = record(req, target);
    let url: URL;
    try {
      url = new URL(target);
      if (url.protocol !== "http:") throw new Error("not http");
    } catch {
      res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("absolute http:// URI required\n");
      return;
    }
    if (refusing) {
      res.writeHead(403, { "content-type": "text/plain", connection: "close" }).end("egress refused\n");
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    const upstream = httpRequest(
      { host: url.hostname, port: url.port || 80, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (up) => {
        r.outcome = "forwarded";
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on("data", (b: Buffer) => void (r.bytesFromTarget += b.length));
        up.pipe(res);
      },
    );
    upstream.on("socket", (s) => {
      sockets.track(s);
      s.on("connect", () => {
        r.outboundPort = s.localPort ?? 0;
        outbound.add(r.outboundPort);
      });
    });
    upstream.on("error", () => {
      r.outcome = "failed";
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", connection: "close" });
      res.end("bad gateway\n");
    });
    req.on("data", (b: Buffer) => void (r.bytesToTarget += b.length));
    req.pipe(upstream);
  };

  const listen = async () => {
    const s = createServer(onRequest);
    s.on("connect", onConnect);
    s.on("connection", sockets.track);
    port = await listenOnLoopback(s, port);
    server = s;
  };
  await listen();

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    outboundPorts: () => new Set(outbound),
    isRunning: () => server !== undefined,
    setRefusing: (value) => void (refusing = value),
    stop: async () => {
      const s = server;
      if (!s) return;
      server = undefined;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      sockets.destroyAll();
      await closed;
    },
    start: async () => {
      if (!server) await listen();
    },
  };
}
