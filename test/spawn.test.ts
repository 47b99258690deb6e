// The real spawn (src/spawn.ts, as main.ts wires it), each guarantee tried as an attack with real processes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SpawnOutputError } from "../src/env.ts";
import { makeSpawn } from "../src/spawn.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const TOKEN = "tok-SPAWN-5ecret-9f1c";

describe("the real spawn", () => {
  it("no child starts before a token file being read became a secret: a copy of it in another variable never reaches the child", async () => {
    const secrets = new Set<string>();
    let release = () => {};
    const reading = new Promise<void>((resolve) => (release = resolve));
    const spawn = makeSpawn({ PATH, UNIDESK_TOKEN_FILE: "/tmp/t", MY_COPY: `Bearer ${TOKEN}`, KEEP: "kept" }, secrets, [reading]);
    const child = spawn("env", []);
    // The read finishes after the spawn was asked for, as resolveConfig's does beside a dry run's git.
    await new Promise((resolve) => setTimeout(resolve, 50));
    secrets.add(TOKEN);
    release();
    const { stdout, code } = await child;
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /MY_COPY|UNIDESK_/);
    assert.match(stdout, /^KEEP=kept$/m);
  });

  it("the variables a caller drops are not inherited, and the ones it sets are", async () => {
    const spawn = makeSpawn({ PATH, GIT_DIR: "/elsewhere/.git", GIT_CONFIG_KEY_0: "core.x", GIT_SSH_COMMAND: "ssh -v" }, new Set(), []);
    const { stdout } = await spawn("env", [], { dropEnv: /^GIT_(DIR|CONFIG_KEY_\d+)$/, env: { GIT_CONFIG_NOSYSTEM: "1" } });
    assert.doesNotMatch(stdout, /GIT_DIR|GIT_CONFIG_KEY_0/);
    assert.match(stdout, /^GIT_SSH_COMMAND=ssh -v$/m);
    assert.match(stdout, /^GIT_CONFIG_NOSYSTEM=1$/m);
  });

  it("a child answering more than its bound is killed and the spawn rejects (nothing buffered past the bound)", async () => {
    const spawn = makeSpawn({ PATH }, new Set(), []);
    const started = Date.now();
    await assert.rejects(spawn("yes", [], { maxStdoutBytes: 1 << 20 }), (e: unknown) => e instanceof SpawnOutputError && e.maxBytes === 1 << 20);
    assert.ok(Date.now() - started < 60_000, "yes was killed, not left running");
    const small = await spawn("printf", ["%s", "x".repeat(1000)], { maxStdoutBytes: 1000 });
    assert.equal(small.stdout.length, 1000, "exactly the bound is still an answer");
  });
});
