/**
 * Git over HTTPS for the sandbox: a private CA, an HTTPS server on 127.0.0.1 running the real
 * `git http-backend` per request (CGI), and helpers for the origin bare repo and the operator clone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execFile, gitEnv } from "./exec.ts";
import { listenOnLoopback, SocketTracker } from "./listen.ts";

/** Files of the private CA and the server certificate (PEM), all inside `dir`. */
export interface SandboxCerts {
  dir: string;
  /** The CA certificate: what clients trust (`http.sslCAInfo`, `GIT_SSL_CAINFO`). */
  caCertPath: string;
  /** Server certificate for 127.0.0.1 and localhost, signed by the CA. */
  certPath: string;
  keyPath: string;
}

/** Creates a throwaway CA and a server certificate for 127.0.0.1/localhost with the `openssl` CLI. */
export async function createCertificates(dir: string): Promise<SandboxCerts> {
  await mkdir(dir, { recursive: true });
  const p = (name: string) => join(dir, name);
  // EC keys: generation is instant, and both OpenSSL and GnuTLS (Debian's libcurl) accept P-256.
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await execFile("openssl", ["req", "-x509", ...ecKey, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "7",
    "-subj", "/CN=unidesk-ci sandbox CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  await execFile("openssl", ["req", ...ecKey, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"]);
  await writeFile(p("server.ext"), [
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid,issuer",
    "",
  ].join("\n"));
  await execFile("openssl", ["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
    "-CAcreateserial", "-out", p("server.crt"), "-days", "7", "-extfile", p("server.ext")]);
  return { dir, caCertPath: p("ca.crt"), certPath: p("server.crt"), keyPath: p("server.key") };
}

/** One HTTP request the git server received. */
export interface GitRequestRecord {
  /** When it arrived (ISO). */
  at: string;
  method: string;
  /** Path and query as sent, e.g. `/pikasTech/unidesk.git/info/refs?service=git-upload-pack`. */
  url: string;
  /** Peer address; through a CONNECT tunnel this is the proxy's outbound socket. */
  remoteAddress: string;
  /** Peer port: compare with `EgressProxy.outboundPorts()` to tell proxied requests apart. */
  remotePort: number;
  /** Value of the `X-Sandbox-Client` header (the operator clone sends `operator`), or null. */
  client: string | null;
  userAgent: string | null;
  /** HTTP status sent back (0 until answered). */
  status: number;
}

/** A running HTTPS git server. */
export interface GitHttpsServer {
  /** `https://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** GIT_PROJECT_ROOT: bare repositories live below it. */
  projectRoot: string;
  certs: SandboxCerts;
  /** Every request so far, in arrival order (live array). */
  readonly requests: GitRequestRecord[];
  /** Last lines git http-backend wrote to stderr (for diagnosing failures). */
  readonly backendErrors: string[];
  /** The https URL of a repository path below the project root, e.g. `pikasTech/unidesk.git`. */
  repoUrl(repoPath: string): string;
  /** Closes the listener, drops open connections and kills running http-backend processes. */
  stop(): Promise<void>;
  /** From now on every request is answered with this HTTP status (e.g. 503) without running git; `null` serves again. */
  setFailure(status: number | null): void;
}

/** Options for {@link startGitHttpsServer}. */
export interface GitHttpsServerOptions {
  /** Directory holding the bare repositories (GIT_PROJECT_ROOT). */
  projectRoot: string;
  certs: SandboxCerts;
}

/** Starts an HTTPS server on 127.0.0.1:0 serving `projectRoot` through `git http-backend`. */
export async function startGitHttpsServer(options: GitHttpsServerOptions): Promise<GitHttpsServer> {
  const { projectRoot, certs } = options;
  await mkdir(projectRoot, { recursive: true });
  const requests: GitRequestRecord[] = [];
  let failStatus: number | null = null;
  const backendErrors: string[] = [];
  const children = new Set<ChildProcess>();
  const [cert, key] = await Promise.all([readFile(certs.certPath), readFile(certs.keyPath)]);
  const server: Server = createServer({ cert, key }, (req, res) => {
    const record: GitRequestRecord = {
      at: new Date().toISOString(),
      method: req.method ?? "",
      url: req.url ?? "",
      remoteAddress: req.socket.remoteAddress ?? "",
      remotePort: req.socket.remotePort ?? 0,
      client: header(req, "x-sandbox-client"),
      userAgent: header(req, "user-agent"),
      status: 0,
    };
    requests.push(record);
    if (failStatus !== null) {
      record.status = failStatus;
      res.writeHead(failStatus, { "content-type": "text/plain" });
      res.end(`git server failure switch: ${failStatus}\n`);
      return;
    }
    runHttpBackend(req, res, projectRoot, children, backendErrors, (status) => void (record.status = status));
  });
  // closeAllConnections() misses sockets still in the TLS handshake: track raw sockets too.
  const sockets = new SocketTracker();
  server.on("connection", sockets.track);
  const port = await listenOnLoopback(server);
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    port,
    projectRoot,
    certs,
    requests,
    backendErrors,
    repoUrl: (repoPath) => `${url}/${repoPath.replace(/^\/+/, "")}`,
    setFailure: (status) => void (failStatus = status),
    stop: async () => {
      for (const child of children) child.kill("SIGKILL");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      sockets.destroyAll();
      await closed;
    },
  };
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
}

/** Runs one CGI request through `git http-backend` and relays its answer. */
function runHttpBackend(
  req: IncomingMessage,
  res: ServerResponse,
  projectRoot: string,
  children: Set<ChildProcess>,
  backendErrors: string[],
  onStatus: (status: number) => void,
): void {
  const url = new URL(req.url ?? "/", "https://127.0.0.1");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    // Partial fetches (the launcher's --filter=blob:none), as GitHub allows them.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "uploadpack.allowFilter",
    GIT_CONFIG_VALUE_0: "true",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: "unidesk-ci-sandbox",
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    REMOTE_PORT: String(req.socket.remotePort ?? ""),
  };
  const cgiHeaders: Record<string, string> = {
    "content-type": "CONTENT_TYPE",
    "content-length": "CONTENT_LENGTH",
    // http-backend inflates gzip request bodies itself when told about them.
    "content-encoding": "HTTP_CONTENT_ENCODING",
    // Protocol v2 negotiation reaches http-backend only through this variable.
    "git-protocol": "HTTP_GIT_PROTOCOL",
    "user-agent": "HTTP_USER_AGENT",
  };
  for (const [name, variable] of Object.entries(cgiHeaders)) {
    const v = header(req, name);
    if (v !== null) env[variable] = v;
  }
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.on("close", () => children.delete(child));
  child.on("error", (err) => fail(502, `cannot run git http-backend: ${err.message}`));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    backendErrors.push(...d.split("\n").filter(Boolean));
    if (backendErrors.length > 200) backendErrors.splice(0, backendErrors.length - 200);
  });
  child.stdin.on("error", () => {}); // http-backend may refuse a request before reading the body
  req.pipe(child.stdin);
  req.on("aborted", () => child.kill("SIGKILL"));

  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const split = findHeaderEnd(head);
    if (!split) return;
    headersDone = true;
    const { status, headers } = parseCgiHeaders(head.subarray(0, split.index).toString("latin1"));
    onStatus(status);
    res.writeHead(status, headers);
    const rest = head.subarray(split.index + split.length);
    if (rest.length > 0) res.write(rest);
  });
  child.on("close", (code) => {
    if (!headersDone) fail(502, `git http-backend exited ${code} without headers`);
    else res.end();
  });

  function fail(status: number, message: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    headersDone = true;
    onStatus(status);
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(`${message}\n`);
  }
}

function findHeaderEnd(buf: Buffer): { index: number; length: number } | undefined {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return undefined;
}

/** Parses CGI response headers; `Status: NNN reason` becomes the HTTP status. */
export function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

/** Files of a commit: repo-relative path → text (or bytes). Paths ending in `.sh` are made executable. */
export type RepoFiles = Record<string, string | Uint8Array>;

/** A bare repository below the project root. */
export interface OriginRepo {
  /** Absolute path of the bare repository. */
  bareDir: string;
  /** Its https URL on the sandbox git server. */
  url: string;
  /** Full sha of the initial commit on master. */
  initialCommit: string;
}

/** Creates a bare repo at `repoPath` below the server's root holding `files` in one commit on master. */
export async function createOriginRepo(server: GitHttpsServer, repoPath: string, files: RepoFiles): Promise<OriginRepo> {
  const bareDir = join(server.projectRoot, repoPath);
  const env = gitEnv();
  await mkdir(dirname(bareDir), { recursive: true });
  await execFile("git", ["init", "--quiet", "--bare", "--initial-branch=master", bareDir], { env });
  const config: [string, string][] = [
    // The launcher fetches exactly the manifest commit, by sha.
    ["uploadpack.allowAnySHA1InWant", "true"],
    ["uploadpack.allowReachableSHA1InWant", "true"],
    // Anonymous pushes from the operator clone (no REMOTE_USER in the CGI environment).
    ["http.receivepack", "true"],
  ];
  for (const [k, v] of config) await execFile("git", ["config", k, v], { cwd: bareDir, env });
  const seed = await mkdtemp(join(tmpdir(), "sandbox-seed-"));
  try {
    await execFile("git", ["init", "--quiet", "--initial-branch=master", seed], { env });
    await writeRepoFiles(seed, files);
    await execFile("git", ["add", "-A"], { cwd: seed, env });
    await execFile("git", ["commit", "--quiet", "-m", "Initial desired state"], { cwd: seed, env });
    await execFile("git", ["push", "--quiet", bareDir, "master:master"], { cwd: seed, env });
    const sha = (await execFile("git", ["rev-parse", "HEAD"], { cwd: seed, env })).stdout.trim();
    return { bareDir, url: server.repoUrl(repoPath), initialCommit: sha };
  } finally {
    await rm(seed, { recursive: true, force: true });
  }
}

async function writeRepoFiles(dir: string, files: RepoFiles): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    if (path.startsWith("/") || path.split("/").includes("..")) throw new Error(`bad repo path ${path}`);
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    if (path.endsWith(".sh")) await chmod(file, 0o755);
  }
}

/** Options for {@link createOperatorClone}. */
export interface OperatorCloneOptions {
  /** The origin's https URL. */
  url: string;
  /** Where the clone goes (must not exist or be empty). */
  dir: string;
  /** CA certificate the clone trusts; stored as `http.sslCAInfo` in the clone's own config. */
  caCertPath: string;
}

/**
 * Clones the origin over HTTPS into `dir` (directly, not through the egress proxy: the operator's
 * laptop reaches GitHub itself). The clone's requests carry `X-Sandbox-Client: operator`.
 */
export async function createOperatorClone(options: OperatorCloneOptions): Promise<string> {
  const env = gitEnv();
  const localConfig = ["-c", `http.sslCAInfo=${options.caCertPath}`, "-c", "http.extraHeader=X-Sandbox-Client: operator"];
  await execFile("git", [...localConfig, "clone", "--quiet", "--branch", "master", options.url, options.dir], { env });
  const config: [string, string][] = [
    ["http.sslCAInfo", options.caCertPath],
    ["http.extraHeader", "X-Sandbox-Client: operator"],
    ["user.name", "Sandbox Operator"],
    ["user.email", "operator@sandbox.invalid"],
  ];
  for (const [k, v] of config) await execFile("git", ["config", k, v], { cwd: options.dir, env });
  return options.dir;
}

/** Options for {@link pushCommit}. */
export interface PushCommitOptions {
  /** Files to write (path → text); `.sh` files become executable. */
  files?: RepoFiles;
  /** Repo-relative paths to delete. */
  remove?: string[];
  /** @default "Update desired state" */
  message?: string;
  /** Also push the commit to origin master. @default true */
  push?: boolean;
}

/** Commits changes in the operator clone (and pushes them to origin master); returns the full sha. */
export async function pushCommit(cloneDir: string, options: PushCommitOptions): Promise<string> {
  const env = gitEnv();
  await writeRepoFiles(cloneDir, options.files ?? {});
  for (const path of options.remove ?? []) await rm(join(cloneDir, path), { force: true });
  await execFile("git", ["add", "-A"], { cwd: cloneDir, env });
  await execFile("git", ["commit", "--quiet", "--allow-empty", "-m", options.message ?? "Update desired state"], { cwd: cloneDir, env });
  if (options.push !== false) await execFile("git", ["push", "--quiet", "origin", "HEAD:master"], { cwd: cloneDir, env });
  return (await execFile("git", ["rev-parse", "HEAD"], { cwd: cloneDir, env })).stdout.trim();
}
