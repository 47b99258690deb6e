import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { request } from "node:https";
import { startEgressProxy, type EgressProxy } from "./egress-proxy.ts";
import { execFile, gitEnv } from "./exec.ts";
import {
  createCertificates,
  createOperatorClone,
  createOriginRepo,
  parseCgiHeaders,
  pushCommit,
  startGitHttpsServer,
  type GitHttpsServer,
  type OriginRepo,
} from "./git-https.ts";

describe("git over HTTPS with the sandbox CA", () => {
  let root: string;
  let git: GitHttpsServer;
  let proxy: EgressProxy;
  let origin: OriginRepo;
  let operatorDir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "sandbox-git-test-"));
    const certs = await createCertificates(join(root, "certs"));
    git = await startGitHttpsServer({ projectRoot: join(root, "git"), certs });
    proxy = await startEgressProxy();
    origin = await createOriginRepo(git, "pikasTech/unidesk.git", {
      "deploy.json": '{"schemaVersion":2}\n',
      "scripts/ci/dev-e2e.sh": "#!/usr/bin/env bash\necho hi\n",
    });
    operatorDir = await createOperatorClone({ url: origin.url, dir: join(root, "operator"), caCertPath: certs.caCertPath });
  });
  after(async () => {
    await proxy?.stop();
    await git?.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** git as D601 runs it: CA from the environment, proxy from config, no proxy env vars. */
  const d601Git = (args: string[], cwd?: string, proxyUrl = proxy.url) =>
    execFile("git", ["-c", `http.proxy=${proxyUrl}`, ...args], {
      cwd,
      env: gitEnv({ GIT_SSL_CAINFO: git.certs.caCertPath }),
      check: false,
    });

  it("serves a clone to the operator clone, which trusts the CA through its local config", async () => {
    const env = gitEnv();
    const ca = (await execFile("git", ["config", "--local", "http.sslCAInfo"], { cwd: operatorDir, env })).stdout.trim();
    assert.equal(ca, git.certs.caCertPath);
    const url = (await execFile("git", ["remote", "get-url", "origin"], { cwd: operatorDir, env })).stdout.trim();
    assert.equal(url, origin.url);
    assert.match(origin.url, /^https:\/\/127\.0\.0\.1:\d+\/pikasTech\/unidesk\.git$/);
    assert.equal(await readFile(join(operatorDir, "deploy.json"), "utf8"), '{"schemaVersion":2}\n');
    const mode = (await execFile("git", ["ls-files", "-s", "scripts/ci/dev-e2e.sh"], { cwd: operatorDir, env })).stdout;
    assert.match(mode, /^100755 /);
    assert.ok(git.requests.some((r) => r.client === "operator" && r.url.includes("git-upload-pack")));
  });

  it("accepts pushes from the operator clone and fetches a commit by sha through the proxy", async () => {
    const sha = await pushCommit(operatorDir, { files: { "deploy.json": '{"schemaVersion":2,"v":2}\n' } });
    assert.match(sha, /^[0-9a-f]{40}$/);
    const remoteHead = (await execFile("git", ["rev-parse", "master"], { cwd: origin.bareDir, env: gitEnv() })).stdout.trim();
    assert.equal(remoteHead, sha);

    const work = join(root, "d601-fetch");
    await execFile("git", ["init", "--quiet", work], { env: gitEnv() });
    const before = git.requests.length;
    const proxiedBefore = proxy.requests.length;
    const fetched = await d601Git(["fetch", "--quiet", "--depth", "1", origin.url, sha], work);
    assert.equal(fetched.code, 0, fetched.stderr);
    const shown = await execFile("git", ["show", `${sha}:deploy.json`], { cwd: work, env: gitEnv() });
    assert.equal(shown.stdout, '{"schemaVersion":2,"v":2}\n');

    const connects = proxy.requests.slice(proxiedBefore);
    assert.ok(connects.length >= 1);
    for (const c of connects) {
      assert.equal(c.method, "CONNECT");
      assert.equal(c.target, `127.0.0.1:${git.port}`);
      assert.equal(c.outcome, "tunnel");
    }
    const seen = git.requests.slice(before);
    assert.ok(seen.length >= 2, "info/refs and upload-pack");
    const ports = proxy.outboundPorts();
    for (const r of seen) {
      assert.ok(ports.has(r.remotePort), `request ${r.method} ${r.url} did not come through the proxy`);
      assert.equal(r.client, null);
    }
  });

  it("fails the fetch when the proxy is stopped (no fallback), and works again once restarted", async () => {
    const work = join(root, "d601-stopped");
    await execFile("git", ["init", "--quiet", work], { env: gitEnv() });
    await proxy.stop();
    assert.equal(proxy.isRunning(), false);
    const before = git.requests.length;
    const failed = await d601Git(["fetch", "--quiet", origin.url, "master"], work);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /proxy|connect|Couldn't|refused/i);
    assert.equal(git.requests.length, before, "the git server saw no request");
    await proxy.start();
    const ok = await d601Git(["fetch", "--quiet", origin.url, "master"], work);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it("fails the fetch when the proxy refuses, and records the refused CONNECT", async () => {
    const work = join(root, "d601-refused");
    await execFile("git", ["init", "--quiet", work], { env: gitEnv() });
    proxy.setRefusing(true);
    try {
      const before = git.requests.length;
      const failed = await d601Git(["fetch", "--quiet", origin.url, "master"], work);
      assert.notEqual(failed.code, 0);
      assert.equal(git.requests.length, before);
      assert.equal(proxy.requests.at(-1)?.outcome, "refused");
    } finally {
      proxy.setRefusing(false);
    }
  });

  it("rejects clients that do not trust the CA", async () => {
    const work = join(root, "untrusted");
    await execFile("git", ["init", "--quiet", work], { env: gitEnv() });
    const r = await execFile("git", ["fetch", origin.url, "master"], { cwd: work, env: gitEnv({ GIT_SSL_CAINFO: "/dev/null" }), check: false });
    assert.notEqual(r.code, 0);
  });

  it("inflates gzip request bodies (HTTP_CONTENT_ENCODING)", async () => {
    const want = `0032want ${origin.initialCommit}\n00000009done\n`;
    const body = gzipSync(Buffer.from(want));
    const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = request(
        `${origin.url}/git-upload-pack`,
        {
          method: "POST",
          ca: readFileSync(git.certs.caCertPath, "utf8"),
          headers: { "content-type": "application/x-git-upload-pack-request", "content-encoding": "gzip", "content-length": body.length },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    assert.equal(res.status, 200);
    assert.match(res.body.subarray(0, 8).toString("latin1"), /^0008NAK/);
    assert.match(res.body.toString("latin1"), /PACK/);
  });

  it("stop() does not wait for a client stuck before the TLS handshake", async () => {
    const other = await startGitHttpsServer({ projectRoot: join(root, "git2"), certs: git.certs });
    const silent = connect(other.port, "127.0.0.1");
    silent.on("error", () => {});
    await new Promise((r) => silent.once("connect", r));
    await other.stop();
    silent.destroy();
  });

  it("parses CGI headers", () => {
    assert.deepEqual(parseCgiHeaders("Status: 404 Not Found\r\nContent-Type: text/plain"), { status: 404, headers: { "Content-Type": "text/plain" } });
    assert.deepEqual(parseCgiHeaders("Content-Type: x"), { status: 200, headers: { "Content-Type": "x" } });
  });
});
