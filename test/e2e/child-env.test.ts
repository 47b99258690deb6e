/** Attack: a program git starts (here the ssh command of a fetch) dumps its environment; it must hold no token. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnvironment } from "../../src/env.ts";
import { availableRuntimes, runCli } from "./helpers.ts";

const TOKEN = "tok-child-env-SECRET-42";

describe("children never see the token", () => {
  it("childEnvironment drops UNIDESK_* and every variable holding a secret, keeps the rest", () => {
    const env = childEnvironment({ PATH: "/bin", UNIDESK_TOKEN: TOKEN, unidesk_token_file: "/t", OTHER: `x${TOKEN}y`, HOME: "/h" }, [TOKEN], { GIT_TERMINAL_PROMPT: "0" });
    assert.deepEqual(env, { PATH: "/bin", HOME: "/h", GIT_TERMINAL_PROMPT: "0" });
  });

  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-child-env-"));
    const repo = join(dir, "repo");
    execFileSync("git", ["init", "-q", "-b", "master", repo]);
    execFileSync("git", ["-C", repo, "remote", "add", "origin", "ssh://git.example.test/pikasTech/unidesk.git"]);
    const dump = join(dir, "ssh-dump.sh");
    writeFileSync(dump, `#!/bin/sh\nenv > "${dir}/env-$$.txt"\nexit 1\n`);
    chmodSync(dump, 0o755);
    execFileSync("git", ["-C", repo, "config", "core.sshCommand", dump]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const runtime of availableRuntimes()) {
    it(`${runtime}: the ssh command git starts for the fetch has no UNIDESK_TOKEN and no token value`, async () => {
      const tokenFile = join(dir, "token");
      writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
      const cases: Record<string, string>[] = [{ UNIDESK_TOKEN: TOKEN }, { UNIDESK_TOKEN_FILE: tokenFile, LEAKY: TOKEN }];
      for (const vars of cases) {
        for (const f of execFileSync("ls", [dir], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith("env-"))) rmSync(join(dir, f));
        const run = await runCli(runtime, ["run-dev-e2e", "--repo-dir", join(dir, "repo")], { env: { ...vars, UNIDESK_BACKEND_URL: "http://127.0.0.1:9" } });
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /git fetch origin master/);
        const dumps = execFileSync("ls", [dir], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith("env-"));
        assert.ok(dumps.length > 0 && existsSync(join(dir, dumps[0]!)), "the ssh command ran");
        for (const d of dumps) {
          const seen = readFileSync(join(dir, d), "utf8");
          assert.doesNotMatch(seen, /UNIDESK_/);
          assert.ok(!seen.includes(TOKEN), `the token reached git's child:\n${seen}`);
        }
      }
    });
  }
});
