import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeOperatorRepo } from "../../build/bench-fixture.ts";
import { runCli, runProcess } from "./helpers.ts";

// The standalone executable is the same bundle compiled by bun: it must answer exactly as the .mjs does.
describe("standalone executable (bun build --compile, linux-x64)", () => {
  let dir: string;
  let exe: string;
  let repo: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-exe-"));
    execFileSync(process.execPath, ["--import", "tsx", "build/build-exe.ts"], { env: { ...process.env, UNIDESK_CI_EXE_OUT: join(dir, "exe"), UNIDESK_CI_EXE_TARGETS: "linux-x64" }, stdio: "pipe" });
    exe = join(dir, "exe", "unidesk-ci-linux-x64");
    repo = makeOperatorRepo(join(dir));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lists its checksum in SHA256SUMS", () => {
    assert.match(readFileSync(join(dir, "exe", "SHA256SUMS"), "utf8"), /^[0-9a-f]{64} {2}unidesk-ci-linux-x64$/m);
  });

  for (const args of [["--version"], ["schema"], ["run-dev-e2e", "--dry-run", "--run-id", "exe-1"], ["run-dev-e2e", "--dry-run", "--json", "--run-id", "exe-1"], ["logs", "Nope"]]) {
    it(`${args.join(" ")}: same exit code and stdout as node`, async () => {
      const env = { HOME: dir };
      const fromExe = await runProcess([exe, ...args], { cwd: repo, env: { ...env, PATH: "/usr/bin:/bin" } });
      const fromNode = await runCli("node", args, { cwd: repo, env });
      assert.equal(fromExe.code, fromNode.code, fromExe.stderr);
      assert.equal(fromExe.stdout, fromNode.stdout);
    });
  }
});
