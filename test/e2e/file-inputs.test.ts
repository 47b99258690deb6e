/** The files the CLI reads (config, token, `validate FILE`) through the built bundle: no hang, no leak, one line. */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { availableRuntimes, runCli, RUNTIMES, type CliRun } from "./helpers.ts";

const TOKEN = "tok-E2E-LEAK-5d1c0ffee";
/** Generous: a refused FIFO answers in well under a second; a hanging read is killed here and fails the test. */
const PROMPT_MS = 20_000;

/** Asserts no 6-character piece of the token is in the output. */
function assertNoToken(run: CliRun): void {
  const all = run.stdout + run.stderr;
  for (let i = 0; i + 6 <= TOKEN.length; i++) assert.ok(!all.includes(TOKEN.slice(i, i + 6)), `output quotes part of the token: ${all}`);
}

/** Exit code, then exactly one `error: …` line on stderr matching `says` (human form). */
function assertOneLine(run: CliRun, code: number, says: RegExp): void {
  assert.equal(run.code, code, `exit ${run.code}; stderr: ${run.stderr}`);
  assert.equal(run.stdout, "");
  const lines = run.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one line: ${run.stderr}`);
  assert.match(lines[0]!, says);
}

/** Exit code, then one JSON error document on stdout whose message matches `says`. */
function assertJsonError(run: CliRun, code: number, says: RegExp): void {
  assert.equal(run.code, code, `exit ${run.code}; stderr: ${run.stderr}`);
  const doc = JSON.parse(run.stdout) as { ok: boolean; error: { message: string; exitCode: number } };
  assert.equal(doc.ok, false);
  assert.equal(doc.error.exitCode, code);
  assert.match(doc.error.message, says);
}

describe("files the CLI reads, through the bundle", () => {
  let dir: string;
  let fifo: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-inputs-"));
    fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh XDG_CONFIG_HOME whose config.json is `content` (or a FIFO). */
  const configHome = (name: string, content: string | "fifo"): { XDG_CONFIG_HOME: string; file: string } => {
    const xdg = join(dir, name);
    mkdirSync(join(xdg, "unidesk-ci"), { recursive: true });
    const file = join(xdg, "unidesk-ci", "config.json");
    if (content === "fifo") execFileSync("mkfifo", [file]);
    else writeFileSync(file, content);
    return { XDG_CONFIG_HOME: xdg, file };
  };
  const run = (args: string[], env: Record<string, string> = {}, runtime = "node") => runCli(runtime, args, { cwd: dir, env: { HOME: dir, ...env }, timeoutMs: PROMPT_MS });

  describe("a read that never ends: a FIFO is refused at once with one line", () => {
    for (const runtime of availableRuntimes()) {
      it(`${runtime}: a FIFO as the config file → exit 4`, async () => {
        const { XDG_CONFIG_HOME, file } = configHome(`xdg-fifo-${runtime}`, "fifo");
        assertOneLine(await run(["logs", "run-1"], { XDG_CONFIG_HOME }, runtime), 4, new RegExp(`^error: ${file}: is a FIFO \\(named pipe\\), not a regular file; use a regular file or remove it$`));
      });

      it(`${runtime}: a FIFO as the token file → exit 4`, async () => {
        const env = { UNIDESK_BACKEND_URL: "http://127.0.0.1:9", UNIDESK_TOKEN_FILE: fifo };
        assertOneLine(await run(["logs", "run-1"], env, runtime), 4, /^error: token file .*fifo \(from UNIDESK_TOKEN_FILE\) is a FIFO \(named pipe\), not a regular file; use a regular file or unset it$/);
      });

      it(`${runtime}: a FIFO as validate FILE → exit 2`, async () => {
        assertOneLine(await run(["validate", fifo], {}, runtime), 2, /^error: cannot read .*fifo: it is a FIFO \(named pipe\), not a regular file; pass a deploy\.json file, or - to read standard input$/);
      });
    }

    it("--json: the same refusals as one JSON document each", async () => {
      const { XDG_CONFIG_HOME } = configHome("xdg-fifo-json", "fifo");
      assertJsonError(await run(["logs", "run-1", "--json"], { XDG_CONFIG_HOME }), 4, /is a FIFO \(named pipe\), not a regular file/);
      assertJsonError(await run(["logs", "run-1", "--json"], { UNIDESK_BACKEND_URL: "http://127.0.0.1:9", UNIDESK_TOKEN_FILE: fifo }), 4, /token file .* is a FIFO/);
    });

    it("SIGTERM during a slow read of validate's standard input → exit 130 at once", async () => {
      const child = spawn(RUNTIMES.node![0]!, [...RUNTIMES.node!.slice(1), "validate", "-"], { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b) => (stdout += b));
      child.stderr.on("data", (b) => (stderr += b));
      const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      const killer = setTimeout(() => child.kill("SIGKILL"), PROMPT_MS);
      try {
        // Half a manifest, and the writer stays open: the read goes on until a signal ends it. The padding is
        // more than the socket buffers hold, so 'drain' means the CLI's own reader (started after its signal
        // handlers) consumed it.
        const padding = " ".repeat(960_000);
        child.stdin.on("error", () => undefined); // EPIPE should the CLI exit without reading
        const drained = new Promise<void>((resolve) => (child.stdin.write(`${padding}{ "schemaVersion": 2, `) ? resolve() : child.stdin.once("drain", () => resolve())));
        await Promise.race([drained, done]);
        child.kill("SIGTERM");
        const code = await done;
        assert.equal(code, 130, `exit ${code}; stderr: ${stderr}`);
        assert.equal(stdout, "");
        assert.equal(stderr, "error: interrupted\n");
      } finally {
        clearTimeout(killer);
        child.stdin.destroy();
        child.kill("SIGKILL");
      }
    });
  });

  describe("a secret in a message: config and token files are never quoted", () => {
    const broken = [
      ["an unquoted token", `{ "backendUrl": "https://b.example", "token": ${TOKEN} }`],
      ["a single-quoted token", `{ "token": '${TOKEN}' }`],
      ["the token as a key", JSON.stringify({ [TOKEN]: "x" })],
    ] as const;
    for (const [name, content] of broken) {
      it(`a config file with ${name} → exit 4, the token nowhere (human and --json)`, async () => {
        const { XDG_CONFIG_HOME, file } = configHome(`xdg-${name.replace(/\W+/g, "-")}`, content);
        const human = await run(["logs", "run-1"], { XDG_CONFIG_HOME });
        assertOneLine(human, 4, new RegExp(`^error: ${file}: (is not valid JSON|an unknown key)`));
        assertNoToken(human);
        const json = await run(["logs", "run-1", "--json"], { XDG_CONFIG_HOME });
        assertJsonError(json, 4, /config\.json: (is not valid JSON|an unknown key)/);
        assertNoToken(json);
        // A dry run reads the config file too.
        assertNoToken(await run(["run-dev-e2e", "--dry-run"], { XDG_CONFIG_HOME }));
      });
    }

    it("a broken token file (two lines, UTF-16) → exit 4, the token nowhere (human and --json)", async () => {
      const twoLines = join(dir, "token-two-lines");
      writeFileSync(twoLines, `${TOKEN}\nBearer ${TOKEN}\n`, { mode: 0o600 });
      const utf16 = join(dir, "token-utf16");
      writeFileSync(utf16, Buffer.from(`\uFEFF${TOKEN}`, "utf16le"), { mode: 0o600 });
      for (const [file, says] of [
        [twoLines, /token from UNIDESK_TOKEN_FILE contains spaces, line breaks or non-ASCII characters/],
        [utf16, /token file .*token-utf16 \(from UNIDESK_TOKEN_FILE\) is not UTF-8 text \(it looks like UTF-16\); save it as UTF-8 or unset it$/],
      ] as const) {
        const env = { UNIDESK_BACKEND_URL: "http://127.0.0.1:9", UNIDESK_TOKEN_FILE: file };
        const human = await run(["logs", "run-1"], env);
        assertOneLine(human, 4, says);
        assertNoToken(human);
        const json = await run(["logs", "run-1", "--json"], env);
        assertJsonError(json, 4, says);
        assertNoToken(json);
      }
    });
  });

  describe("files another local user could write or read: refused on every runtime", () => {
    for (const runtime of availableRuntimes()) {
      it(`${runtime}: a token file readable by others, a config file owned by another user → exit 4, one line`, async () => {
        const token = join(dir, `token-${runtime}`);
        writeFileSync(token, TOKEN, { mode: 0o644 });
        chmodSync(token, 0o644);
        const env = { UNIDESK_BACKEND_URL: "http://127.0.0.1:9", UNIDESK_TOKEN_FILE: token };
        const human = await run(["logs", "run-1"], env, runtime);
        assertOneLine(human, 4, /^error: token file .* holds the token and is readable by group or others \(mode 0644\); chmod 600 it or unset it$/);
        assertNoToken(human);
        const { XDG_CONFIG_HOME, file } = configHome(`foreign-${runtime}`, `{ "backendUrl": "https://attacker.example" }`);
        chownSync(file, 65534, 65534);
        assertOneLine(await run(["run-dev-e2e", "--dry-run"], { XDG_CONFIG_HOME }, runtime), 4, /^error: .*config\.json: is owned by uid 65534, not by you \(uid 0\): another user could have written it; use a file of your own or remove it$/);
      });
    }
  });

  describe("no cleartext token through a proxy", () => {
    // Deno and Bun (so the standalone executable) send a plain http:// request through HTTP_PROXY, token and all,
    // even to a loopback backend (found 2026-12-06): refused before anything is sent, on every runtime alike.
    let proxy: Server;
    const seen: string[] = [];
    before(async () => {
      proxy = createServer((socket) => {
        seen.push("connection");
        socket.destroy();
      });
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    });
    after(() => proxy.close());
    for (const runtime of availableRuntimes()) {
      it(`${runtime}: an http:// backend behind HTTP_PROXY → exit 4, one line naming the variable and the fix, the proxy never reached`, async () => {
        const { port } = proxy.address() as AddressInfo;
        const env = { UNIDESK_BACKEND_URL: "http://127.0.0.1:9", UNIDESK_TOKEN: TOKEN, HTTP_PROXY: `http://127.0.0.1:${port}` };
        const human = await run(["runs"], env, runtime);
        assert.equal(human.code, 4, human.stderr);
        const [error, hint, ...rest] = human.stderr.trimEnd().split("\n");
        assert.match(error!, new RegExp(`^error: refusing to send the token in cleartext to http://127\\.0\\.0\\.1:9 through the proxy HTTP_PROXY=http://127\\.0\\.0\\.1:${port} `));
        assert.match(hint!, /^hint: list the backend's host name exactly in NO_PROXY/);
        assert.deepEqual(rest, []);
        assertNoToken(human);
        assert.deepEqual(seen, []);
        // Exempted for the backend's host: the request goes straight to it (nothing listens on port 9: exit 5).
        const direct = await run(["runs"], { ...env, NO_PROXY: "127.0.0.1" }, runtime);
        assert.equal(direct.code, 5, direct.stderr);
        assert.deepEqual(seen, []);
      });
    }
  });

  describe("one backend URL rule", () => {
    it("--backend-url ftp://x and https://u:p@x are both usage errors (exit 2), the password not echoed", async () => {
      for (const url of ["ftp://backend.example", `https://op:${TOKEN}@backend.example`]) {
        const r = await run(["logs", "run-1", "--backend-url", url]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /--backend-url/);
        assertNoToken(r);
      }
    });

    it("the same values from UNIDESK_BACKEND_URL are ConfigErrors (exit 4) naming it", async () => {
      assertOneLine(await run(["logs", "run-1"], { UNIDESK_BACKEND_URL: "ftp://backend.example" }), 4, /^error: backend URL from UNIDESK_BACKEND_URL is not an http\(s\) URL/);
      const r = await run(["logs", "run-1"], { UNIDESK_BACKEND_URL: `https://op:${TOKEN}@backend.example` });
      assertOneLine(r, 4, /^error: backend URL from UNIDESK_BACKEND_URL must not contain credentials/);
      assertNoToken(r);
    });
  });

  describe("one BOM rule, and what validate reads", () => {
    it("a config file with a UTF-8 BOM is read like a manifest with one", async () => {
      const { XDG_CONFIG_HOME } = configHome("xdg-bom", `\uFEFF${JSON.stringify({ providerId: "not valid!" })}`);
      // Parsed (the BOM is no syntax error): the value's own problem is what is reported.
      assertOneLine(await run(["logs", "run-1"], { XDG_CONFIG_HOME }), 4, /provider id from .*config\.json \(providerId\) must be/);
    });

    it("validate - reads standard input; a UTF-16 file says not UTF-8", async () => {
      const manifest = { schemaVersion: 2, environments: { dev: { ci: { repo: "https://github.com/pikasTech/unidesk", scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1_800_000 }, services: [] } } };
      const file = join(dir, "deploy.json");
      writeFileSync(file, `\uFEFF${JSON.stringify(manifest)}`);
      const piped = execFileSync("bash", ["-c", `${RUNTIMES.node!.map((a) => `'${a}'`).join(" ")} validate - < '${file}'`], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir } });
      assert.match(piped, /^ok: \(stdin\)\n/);
      const utf16 = join(dir, "deploy-utf16.json");
      writeFileSync(utf16, Buffer.from(`\uFEFF${JSON.stringify(manifest)}`, "utf16le"));
      const r = await run(["validate", utf16]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "(root): is not UTF-8 text (it looks like UTF-16); save it as UTF-8\n");
    });
  });
});
