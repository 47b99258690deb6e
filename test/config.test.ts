import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFilePath, DEFAULT_PROVIDER_ID, requireDispatchTarget, resolveConfig, type Config } from "../src/config.ts";
import { BEARER_TOKEN, DEFAULT_WORKSPACE, TOKEN_MIN_CHARS } from "../src/rules.ts";
import { htmlEscape } from "../src/io/report-html.ts";
import { xmlEscape } from "../src/io/report-junit.ts";
import { guardTerminalText } from "../src/io/terminal.ts";
import { lineText } from "../src/io/render-follow.ts";
import { untrustedLine } from "../src/redact.ts";
import { childEnvironment, fakeEnv, untrustedFile, type Env } from "../src/env.ts";
import { makeReadFile } from "../src/read-file.ts";
import { AuthError, CliError, ConfigError, ExitCode, UsageError } from "../src/errors.ts";
import { runCli, runMain } from "../src/cli/program.ts";

const TOKEN = "tok-CONFIG-SECRET-91ab";
let root: string;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "unidesk-ci-config-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh XDG_CONFIG_HOME (optionally with config.json) and an Env reading real files, cwd inside the temp dir. */
async function setup(config?: unknown, vars: Record<string, string> = {}): Promise<{ env: Env; dir: string; file: string }> {
  const dir = join(root, `case-${counter++}`);
  const xdg = join(dir, "xdg");
  await mkdir(join(xdg, "unidesk-ci"), { recursive: true });
  const file = join(xdg, "unidesk-ci", "config.json");
  if (config !== undefined) await writeFile(file, typeof config === "string" ? config : JSON.stringify(config), { mode: 0o600 });
  const env = realFiles(fakeEnv({ vars: { XDG_CONFIG_HOME: xdg, HOME: join(dir, "home"), ...vars }, cwd: dir }));
  return { env, dir, file };
}

/** The Env with main.ts's real readFile (regular files only, bounded). */
function realFiles<E extends Env>(env: E): E {
  return { ...env, readFile: makeReadFile({ signal: env.signal, stdin: () => [], uid: process.getuid?.() }) };
}

/** Asserts the error's class and exit code, and that no message carries the token. */
async function rejects(promise: Promise<unknown>, cls: typeof ConfigError | typeof AuthError, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => assert.fail("expected an error"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${String(error)}`);
  assert.equal((error as CliError).exitCode, ExitCode.auth);
  assert.match((error as Error).message, pattern);
  assert.ok(!(error as Error).message.includes(TOKEN) && !((error as CliError).hint ?? "").includes(TOKEN), "token leaked");
}

function target(config: Config) {
  return Promise.resolve().then(() => requireDispatchTarget(config));
}

describe("resolveConfig", () => {
  it("defaults: provider D601 and the fixed workspace, no backend, no token", async () => {
    const { env, file } = await setup();
    const config = await resolveConfig({}, env);
    assert.deepEqual(config, { providerId: DEFAULT_PROVIDER_ID, ...DEFAULT_WORKSPACE, configFile: file });
    assert.deepEqual(DEFAULT_WORKSPACE, { workRoot: "/tmp/unidesk-ci", runsRoot: "/home/ubuntu/.unidesk/runs", egressProxy: "http://127.0.0.1:18789" });
  });

  it("reads every key from the config file", async () => {
    const { env, dir } = await setup({ backendUrl: "https://file.example/", token: TOKEN, providerId: "D700", workRoot: "/srv/ci", runsRoot: "/srv/runs", egressProxy: "http://10.0.0.1:3128" });
    const config = await resolveConfig({}, env);
    assert.equal(config.backendUrl, "https://file.example");
    assert.equal(config.token, TOKEN);
    assert.equal(config.providerId, "D700");
    assert.equal(config.workRoot, "/srv/ci");
    assert.equal(config.runsRoot, "/srv/runs");
    assert.equal(config.egressProxy, "http://10.0.0.1:3128");
    assert.ok(dir);
  });

  it("environment beats the config file", async () => {
    const { env } = await setup(
      { backendUrl: "https://file.example", token: "from-file", providerId: "D700", workRoot: "/srv/ci", runsRoot: "/srv/runs", egressProxy: "http://10.0.0.1:3128" },
      { UNIDESK_BACKEND_URL: "https://env.example", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_PROVIDER: "D800", UNIDESK_CI_WORK_ROOT: "/env/ci", UNIDESK_CI_RUNS_ROOT: "/env/runs", UNIDESK_CI_EGRESS_PROXY: "http://127.0.0.1:9999" },
    );
    const config = await resolveConfig({}, env);
    assert.equal(config.backendUrl, "https://env.example");
    assert.equal(config.token, TOKEN);
    assert.equal(config.tokenSource, "UNIDESK_TOKEN");
    assert.equal(config.providerId, "D800");
    assert.equal(config.workRoot, "/env/ci");
    assert.equal(config.runsRoot, "/env/runs");
    assert.equal(config.egressProxy, "http://127.0.0.1:9999");
  });

  it("flags beat the environment", async () => {
    const { env, dir } = await setup({ backendUrl: "https://file.example" }, { UNIDESK_BACKEND_URL: "https://env.example", UNIDESK_TOKEN: "from-env", UNIDESK_CI_PROVIDER: "D800" });
    await writeFile(join(dir, "flag-token"), `  ${TOKEN}\n\n`, { mode: 0o600 });
    const config = await resolveConfig({ backendUrl: "https://flag.example/base/", providerId: "D900", tokenFile: "flag-token" }, env);
    assert.equal(config.backendUrl, "https://flag.example/base");
    assert.equal(config.providerId, "D900");
    assert.equal(config.token, TOKEN, "relative --token-file read from cwd, trimmed");
    assert.equal(config.tokenSource, "--token-file flag-token");
  });

  it("UNIDESK_TOKEN beats UNIDESK_TOKEN_FILE; the token file is trimmed", async () => {
    const { env: both, dir } = await setup(undefined, { UNIDESK_TOKEN: TOKEN, UNIDESK_TOKEN_FILE: "/nonexistent/token" });
    assert.equal((await resolveConfig({}, both)).token, TOKEN);
    await writeFile(join(dir, "t"), `${TOKEN}\r\n`, { mode: 0o600 });
    const { env: fileOnly } = await setup(undefined, { UNIDESK_TOKEN_FILE: join(dir, "t") });
    assert.equal((await resolveConfig({}, fileOnly)).token, TOKEN);
  });

  it("config tokenFile is relative to the config file's directory", async () => {
    const { env, file } = await setup({ tokenFile: "token" });
    await writeFile(join(file, "..", "token"), TOKEN, { mode: 0o600 });
    assert.equal((await resolveConfig({}, env)).token, TOKEN);
  });

  it("empty environment variables count as unset", async () => {
    const { env } = await setup({ backendUrl: "https://file.example" }, { UNIDESK_BACKEND_URL: "", UNIDESK_CI_PROVIDER: "" });
    const config = await resolveConfig({}, env);
    assert.equal(config.backendUrl, "https://file.example");
    assert.equal(config.providerId, "D601");
  });

  it("falls back to $HOME/.config without XDG_CONFIG_HOME (or with a relative one)", () => {
    assert.equal(configFilePath({ HOME: "/home/op" }), "/home/op/.config/unidesk-ci/config.json");
    assert.equal(configFilePath({ HOME: "/home/op", XDG_CONFIG_HOME: "rel" }), "/home/op/.config/unidesk-ci/config.json");
    assert.equal(configFilePath({ HOME: "/home/op", XDG_CONFIG_HOME: "/xdg" }), "/xdg/unidesk-ci/config.json");
    assert.equal(configFilePath({}), undefined);
  });

  it("reads $HOME/.config/unidesk-ci/config.json (a temp HOME)", async () => {
    const home = join(root, `home-${counter++}`);
    await mkdir(join(home, ".config", "unidesk-ci"), { recursive: true });
    await writeFile(join(home, ".config", "unidesk-ci", "config.json"), JSON.stringify({ providerId: "D111" }));
    const env = realFiles(fakeEnv({ vars: { HOME: home } }));
    assert.equal((await resolveConfig({}, env)).providerId, "D111");
  });

  const badFiles: { name: string; content: string; says: RegExp }[] = [
    { name: "malformed JSON", content: "{ backendUrl: ", says: /config\.json: is not valid JSON/ },
    { name: "not an object", content: "[]", says: /config\.json: must be a JSON object/ },
    { name: "unknown key", content: JSON.stringify({ backendURL: "https://x" }), says: /config\.json: unknown key 'backendURL' \(did you mean backendUrl\?\); allowed keys: backendUrl/ },
    { name: "wrong type", content: JSON.stringify({ providerId: 601 }), says: /config\.json: providerId: must be a string/ },
    { name: "bad backend URL", content: JSON.stringify({ backendUrl: "backend.example" }), says: /backend URL from .*config\.json \(backendUrl\) is not an http\(s\) URL/ },
    { name: "relative workRoot", content: JSON.stringify({ workRoot: "tmp/ci" }), says: /work root from .*config\.json \(workRoot\) must be an absolute path/ },
    { name: "proxy with credentials", content: JSON.stringify({ egressProxy: "http://u:p@127.0.0.1:1" }), says: /egress proxy from .*\(egressProxy\) must be an http:\/\/host:port/ },
  ];
  for (const c of badFiles) {
    it(`config file: ${c.name} → ConfigError naming the file and key`, async () => {
      const { env } = await setup(c.content);
      await rejects(resolveConfig({}, env), ConfigError, c.says);
    });
  }

  it("an unreadable config file → ConfigError naming it", async () => {
    const { env, file } = await setup();
    await mkdir(file); // a directory where the file should be: EISDIR
    await rejects(resolveConfig({}, env), ConfigError, /config\.json: is a directory, not a regular file; use a regular file or remove it$/);
  });

  it("bad values from the environment name the variable", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ UNIDESK_BACKEND_URL: "ftp://x" }, /backend URL from UNIDESK_BACKEND_URL is not an http\(s\) URL/],
      [{ UNIDESK_BACKEND_URL: `https://user:${TOKEN}@x.example` }, /must not contain credentials/],
      [{ UNIDESK_CI_PROVIDER: "D601; rm" }, /provider id from UNIDESK_CI_PROVIDER must be/],
      [{ UNIDESK_CI_RUNS_ROOT: "/a/../b" }, /runs root from UNIDESK_CI_RUNS_ROOT/],
    ];
    for (const [vars, says] of cases) {
      const { env } = await setup(undefined, vars);
      await rejects(resolveConfig({}, env), ConfigError, says);
    }
  });
});

describe("requireDispatchTarget", () => {
  it("returns backend, token and provider", async () => {
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: TOKEN });
    const t = requireDispatchTarget(await resolveConfig({}, env));
    assert.deepEqual(t, { backendUrl: "https://b.example", token: TOKEN, providerId: "D601", tokenSource: "UNIDESK_TOKEN" });
  });

  it("no backend URL → ConfigError saying how to set it", async () => {
    const { env } = await setup(undefined, { UNIDESK_TOKEN: TOKEN });
    await rejects(target(await resolveConfig({}, env)), ConfigError, /no backend URL configured; set UNIDESK_BACKEND_URL, pass --backend-url/);
  });

  it("no token → AuthError saying how to set it", async () => {
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example" });
    await rejects(target(await resolveConfig({}, env)), AuthError, /no token configured; set UNIDESK_TOKEN_FILE .*UNIDESK_TOKEN/);
  });

  it("an empty token file → AuthError, raised only when dispatching (a dry run resolves fine)", async () => {
    const { env, dir } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example" });
    await writeFile(join(dir, "empty"), " \n", { mode: 0o600 });
    const config = await resolveConfig({ tokenFile: join(dir, "empty") }, env);
    assert.equal(config.token, undefined);
    await rejects(target(config), AuthError, /token from --token-file .* is empty/);
  });

  it("a missing or unreadable token file → ConfigError naming it", async () => {
    const { env, dir } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN_FILE: "missing-token" });
    await rejects(target(await resolveConfig({}, env)), ConfigError, /token file .*missing-token \(from UNIDESK_TOKEN_FILE\) does not exist/);
    // A directory cannot be read as a file even by root (a chmod 000 file can).
    await mkdir(join(dir, "a-directory"));
    await rejects(target(await resolveConfig({ tokenFile: join(dir, "a-directory") }, env)), ConfigError, /a-directory \(from --token-file .*\) is a directory, not a regular file/);
  });

  it("a token with inner whitespace → AuthError without echoing it", async () => {
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: `${TOKEN} ${TOKEN}` });
    await rejects(target(await resolveConfig({}, env)), AuthError, /token from UNIDESK_TOKEN contains spaces/);
  });

  it("an empty UNIDESK_TOKEN falls through to the config file's token", async () => {
    const { env } = await setup({ backendUrl: "https://b.example", token: TOKEN }, { UNIDESK_TOKEN: "" });
    assert.equal(requireDispatchTarget(await resolveConfig({}, env)).token, TOKEN);
  });
});

/** Every 6-character piece of the token: a message quoting part of it leaks too. */
function assertNoTokenPiece(text: string, what: string): void {
  for (let i = 0; i + 6 <= TOKEN.length; i++) assert.ok(!text.includes(TOKEN.slice(i, i + 6)), `${what} quotes part of the token (${TOKEN.slice(i, i + 6)}): ${text}`);
}

/** The message, hint and every cause's message and stack: whatever a reporter might print. */
function printable(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    parts.push(String((e as Error).message), String((e as Error).stack), String((e as CliError).hint ?? ""));
    if (typeof e !== "object") break;
  }
  return parts.join("\n");
}

describe("a secret in a message", () => {
  // Runtimes quote the text around a JSON syntax error (V8: `Unexpected token 'o', ...""token": tok-CONF"...`).
  const broken: { name: string; content: string; says: RegExp }[] = [
    { name: "an unquoted token", content: `{ "backendUrl": "https://b.example", "token": ${TOKEN} }`, says: /config\.json: is not valid JSON; fix the syntax or remove the file$/ },
    { name: "a single-quoted token", content: `{ "token": '${TOKEN}' }`, says: /config\.json: is not valid JSON/ },
    { name: "an unterminated token", content: `{ "token": "${TOKEN}`, says: /config\.json: is not valid JSON( at line 1, column \d+)?; fix the syntax/ },
    { name: "a missing comma after the token", content: `{\n  "token": "${TOKEN}"\n  "providerId": "D601"\n}`, says: /config\.json: is not valid JSON( at line 3, column 3)?; fix the syntax/ },
    { name: "the token pasted as a key", content: JSON.stringify({ [TOKEN]: "" }), says: /config\.json: an unknown key \(not shown: a key may be a pasted secret\); allowed keys/ },
    { name: "the token as a key beside a typo", content: JSON.stringify({ tokenfile: "t", [TOKEN]: "" }), says: /config\.json: unknown key 'tokenfile' \(did you mean tokenFile\?\) and 1 more \(not shown: a key may be a pasted secret\); allowed keys/ },
    { name: "the token as a wrongly typed value", content: JSON.stringify({ token: [TOKEN] }), says: /config\.json: token: must be a string/ },
  ];
  for (const c of broken) {
    it(`a config file with ${c.name} → ConfigError that quotes none of it (nor does its cause)`, async () => {
      const { env } = await setup(c.content);
      const error = await resolveConfig({}, env).catch((e: unknown) => e);
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, c.says);
      assertNoTokenPiece(printable(error), "the error");
    });
  }

  it("a token file that is broken (two lines, UTF-16, oversized) → an error that quotes none of it", async () => {
    const { env, dir } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example" });
    const files: [string, string | Uint8Array, typeof AuthError | typeof ConfigError, RegExp][] = [
      ["two-lines", `${TOKEN}\n${TOKEN}-second\n`, AuthError, /contains spaces, line breaks/],
      ["utf16", new Uint8Array([0xff, 0xfe, ...[...TOKEN].flatMap((c) => [c.charCodeAt(0), 0])]), ConfigError, /utf16 \(from --token-file .*\) is not UTF-8 text \(it looks like UTF-16\); save it as UTF-8 or unset it$/],
      ["huge", TOKEN.repeat(10_000), ConfigError, /huge \(from --token-file .*\) is larger than 65536 bytes/],
    ];
    for (const [name, content, cls, says] of files) {
      await writeFile(join(dir, name), content, { mode: 0o600 });
      const config = await resolveConfig({ tokenFile: join(dir, name) }, env);
      const error = await target(config).catch((e: unknown) => e);
      assert.ok(error instanceof cls, `${name}: ${String(error)}`);
      assert.match((error as Error).message, says);
      assertNoTokenPiece(printable(error), name);
    }
  });
});

describe("a token too short to mask", () => {
  // Every output masks each occurrence of the token: a token "e" would turn "egressProxy" into "***gr***ssProxy",
  // mangling every message and showing the token by where the masks fall. Refused before it joins env.secrets.
  it(`a token shorter than ${TOKEN_MIN_CHARS} characters (environment, file, config) → AuthError at dispatch, never a secret to mask; ${TOKEN_MIN_CHARS} is accepted`, async () => {
    for (const short of ["e", "eg", "x".repeat(TOKEN_MIN_CHARS - 1)]) {
      for (const where of ["env", "file", "config"] as const) {
        const { env, dir } = await setup(where === "config" ? { token: short } : undefined, { UNIDESK_BACKEND_URL: "https://b.example", ...(where === "env" ? { UNIDESK_TOKEN: short } : {}) });
        if (where === "file") await writeFile(join(dir, "short"), `${short}\n`, { mode: 0o600 });
        const config = await resolveConfig(where === "file" ? { tokenFile: join(dir, "short") } : {}, env);
        assert.equal(config.token, undefined, `${where} ${short}`);
        assert.equal(env.secrets.has(short), false, `${where}: a short token must not become a mask`);
        const error = await target(config).catch((e: unknown) => e);
        assert.ok(error instanceof AuthError, `${where} ${short}: ${String(error)}`);
        assert.equal(error.exitCode, ExitCode.auth);
        assert.match(error.message, new RegExp(`^the token from .* is shorter than ${TOKEN_MIN_CHARS} characters; put the whole bearer token there$`));
        assert.ok(!error.message.includes(`${short.length} char`), "the length is not told");
      }
    }
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: "k".repeat(TOKEN_MIN_CHARS) });
    const ok = await resolveConfig({}, env);
    assert.equal(ok.token, "k".repeat(TOKEN_MIN_CHARS));
    assert.equal((await target(ok)).token, ok.token);
  });

  it("a token outside RFC 6750's b64token (a quote, a backslash, '<', '&', ':') → AuthError: --json or a report would escape it past the redaction", async () => {
    for (const bad of ['tok"SECRET-1', "tok\\SECRET-1", "tok<SECRET>1", "tok&SECRET-1", "user:SECRET-1", "tok=SECRET-1"]) {
      const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: bad });
      const config = await resolveConfig({}, env);
      assert.equal(env.secrets.has(bad), false, bad);
      const error = await target(config).catch((e: unknown) => e);
      assert.ok(error instanceof AuthError, `${bad}: ${String(error)}`);
      assert.match(error.message, /^the token from UNIDESK_TOKEN is not a bearer token \(RFC 6750: .*\); put the bearer token there as the backend issued it$/);
      assert.ok(!error.message.includes(bad), "the token is not quoted");
    }
    const good = "tok-A.b_c~d+e/f9==";
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: good });
    assert.equal((await resolveConfig({}, env)).token, good);
  });

  it("a token echoed percent-encoded (a URL or form quoting it) is redacted too, in upper- and lower-case hex", async () => {
    const token = "tok+SECRET/abc==";
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: token });
    assert.equal((await resolveConfig({}, env)).token, token);
    const echo = `Bearer ${token} ${encodeURIComponent(token)} ${encodeURIComponent(token).toLowerCase().replace(/secret/g, "SECRET")}`;
    assert.doesNotMatch(untrustedLine(echo, env.secrets), /SECRET/);
    // Encoders differ: Python's quote keeps '/', a hand-made one may mix the hex case.
    for (const spelling of ["tok%2BSECRET/abc%3D%3D", "tok%2bSECRET%2Fabc%3d%3D", "tok+SECRET%2fabc=%3D"]) {
      assert.equal(untrustedLine(`x ${spelling} y`, env.secrets), "x *** y", spelling);
      assert.deepEqual(childEnvironment({ KEEP: "tok", LEAK: `https://h/?t=${spelling}` }, env.secrets), { KEEP: "tok" }, spelling);
    }
    assert.equal(untrustedLine("tok%2BSECRET%2Xabc==", env.secrets), "tok%2BSECRET%2Xabc==", "not an escape of the token: kept");
  });

  it("every character a token may hold is written as itself by each output encoding, so the redaction finds it there", () => {
    const alphabet = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i)).filter((c) => BEARER_TOKEN.test(`abcd${c}efgh`));
    assert.equal(alphabet.length, 62 + 6, alphabet.join(""));
    const token = `${alphabet.join("")}==`;
    assert.ok(BEARER_TOKEN.test(token));
    assert.equal(JSON.stringify(token), `"${token}"`, "JSON");
    assert.equal(htmlEscape(token), token, "HTML");
    assert.equal(xmlEscape(token, true), token, "XML attribute");
    assert.equal(guardTerminalText(token), token, "terminal boundary");
    assert.equal(lineText(new TextEncoder().encode(token)), token, "log line");
    assert.equal(lineText(new Uint8Array([0xff, ...new TextEncoder().encode(token)])), `\\xff${token}`, "binary log line");
  });

  it("doctor with a 1-character token prints every word whole (no mask inside them)", async () => {
    const { env, dir } = await setup(undefined, { UNIDESK_TOKEN: "e" });
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMain(["doctor"], { ...env, cwd: dir, stdout: { write: (t) => void out.push(t) }, stderr: { write: (t) => void err.push(t) } });
    const text = out.join("") + err.join("");
    assert.ok(text.length > 0, "something was printed");
    assert.doesNotMatch(text, /\*\*\*/, `nothing masked: ${text}`);
    assert.notEqual(code, 70, text);
  });
});

describe("a read that never ends: config and token files", () => {
  it("a FIFO as config file or token file is refused at once (no writer ever opens it)", async () => {
    const { env, dir, file } = await setup();
    execFileSync("mkfifo", [file]);
    await rejects(resolveConfig({}, env), ConfigError, /config\.json: is a FIFO \(named pipe\), not a regular file; use a regular file or remove it$/);
    await rm(file);
    execFileSync("mkfifo", [join(dir, "token-fifo")]);
    const config = await resolveConfig({ tokenFile: join(dir, "token-fifo") }, { ...env, vars: { ...env.vars, UNIDESK_BACKEND_URL: "https://b.example" } });
    await rejects(target(config), ConfigError, /token-fifo \(from --token-file .*\) is a FIFO \(named pipe\), not a regular file; use a regular file or unset it$/);
  });

  it(`a config file over ${65_536} bytes is refused unread`, async () => {
    const { env } = await setup(JSON.stringify({ providerId: "D601", workRoot: "/" + "a".repeat(70_000) }));
    await rejects(resolveConfig({}, env), ConfigError, /config\.json: is larger than 65536 bytes, the most that is read/);
  });

  it("an aborted signal interrupts the read: the abort reason, not a ConfigError", async () => {
    const controller = new AbortController();
    const { file } = await setup({ providerId: "D700" });
    const env = realFiles(fakeEnv({ vars: { XDG_CONFIG_HOME: join(file, "..", "..") }, signal: controller.signal }));
    controller.abort(new Error("interrupted by SIGTERM"));
    await assert.rejects(resolveConfig({}, env), /interrupted by SIGTERM/);
  });
});

describe("one BOM rule for every file", () => {
  it("a config file and a token file with a UTF-8 BOM are read without it", async () => {
    const { env, dir } = await setup(`\uFEFF${JSON.stringify({ providerId: "D700", tokenFile: "../../t" })}`);
    await writeFile(join(dir, "t"), `\uFEFF${TOKEN}\n`, { mode: 0o600 });
    const config = await resolveConfig({}, env);
    assert.equal(config.providerId, "D700");
    assert.equal(config.token, TOKEN);
  });
});

describe("one backend URL rule: a bad flag is a usage error (2), a bad setting a ConfigError (4) naming it", () => {
  const bad = [
    ["ftp://backend.example", /is not an http\(s\) URL/],
    ["https://user:pass-SECRET@backend.example", /must not contain credentials/],
    ["https://backend.example/?x=1", /must not have a query or fragment/],
  ] as const;
  for (const [url, says] of bad) {
    it(`--backend-url ${url} → UsageError (exit 2), credentials not echoed`, async () => {
      const env = fakeEnv({ vars: {} });
      const error = await runCli(["logs", "run-1", "--backend-url", url], env).catch((e: unknown) => e);
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, ExitCode.usage);
      assert.match(error.message, says);
      assert.ok(!(error.message + env.err()).includes("pass-SECRET"), error.message);
    });
    it(`UNIDESK_BACKEND_URL / config backendUrl ${url} → ConfigError (exit 4) naming the source`, async () => {
      const { env: fromEnv } = await setup(undefined, { UNIDESK_BACKEND_URL: url });
      await rejects(resolveConfig({}, fromEnv), ConfigError, new RegExp(`^backend URL from UNIDESK_BACKEND_URL ${says.source}`));
      const { env: fromFile } = await setup({ backendUrl: url });
      await rejects(resolveConfig({}, fromFile), ConfigError, new RegExp(`^backend URL from .*config\\.json \\(backendUrl\\) ${says.source}`));
    });
  }
});

describe("the token never goes in cleartext off this machine unless the operator opts in", () => {
  const target = async (url: string, vars: Record<string, string> = {}, flags: { allowInsecureBackend?: boolean } = {}, file?: unknown) => {
    const { env } = await setup(file, { UNIDESK_BACKEND_URL: url, UNIDESK_TOKEN: TOKEN, ...vars });
    return requireDispatchTarget(await resolveConfig(flags, env));
  };
  for (const url of ["http://backend.example.com", "http://10.0.0.5:8080", "http://127.0.0.1.evil.test", "http://localhost.evil.test", "http://[::2]:80"]) {
    it(`refuses ${url}: exit 4, the fix named`, async () => {
      await assert.rejects(target(url), (e) => e instanceof ConfigError && e.exitCode === ExitCode.auth && /cleartext/.test(e.message) && /https:\/\/.*--allow-insecure-backend.*UNIDESK_ALLOW_INSECURE_BACKEND=1/.test(e.hint ?? ""));
    });
  }
  for (const url of ["http://127.0.0.1:9", "http://127.8.9.10", "http://localhost:8080", "http://[::1]:80", "http://2130706433/", "https://backend.example.com"]) {
    it(`allows ${url}`, async () => assert.ok(await target(url)));
  }
  it("opts in by flag, by UNIDESK_ALLOW_INSECURE_BACKEND=1, or by the config key", async () => {
    assert.ok(await target("http://backend.example.com", {}, { allowInsecureBackend: true }));
    assert.ok(await target("http://backend.example.com", { UNIDESK_ALLOW_INSECURE_BACKEND: "1" }));
    assert.ok(await target("http://backend.example.com", {}, {}, { allowInsecureBackend: true }));
    await assert.rejects(target("http://backend.example.com", { UNIDESK_ALLOW_INSECURE_BACKEND: "0" }), ConfigError);
    await assert.rejects(target("http://backend.example.com", {}, {}, { allowInsecureBackend: false }), ConfigError);
  });
  it("a proxy variable in front of a plain http backend, even on loopback: refused, the variable and the fix named (Deno and Bun would send through it)", async () => {
    for (const proxy of [{ HTTP_PROXY: "http://user:pw@proxy.example:3128" }, { http_proxy: "http://127.0.0.1:3128" }, { ALL_PROXY: "socks5://proxy.example:1080" }, { all_proxy: "http://p:1" }] as Record<string, string>[]) {
      const [name] = Object.keys(proxy);
      await assert.rejects(target("http://127.0.0.1:9", proxy), (e) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.exitCode, ExitCode.auth);
        assert.match(e.message, new RegExp(`in cleartext to http://127\\.0\\.0\\.1:9 through the proxy ${name}=`));
        assert.doesNotMatch(e.message, /user:pw/);
        assert.match(e.hint ?? "", /NO_PROXY.*https:\/\/.*--allow-insecure-backend/);
        return true;
      });
    }
    // Exempt only when every set list names the host exactly (the runtimes disagree on everything else).
    const proxy = { HTTP_PROXY: "http://proxy.example:3128" };
    for (const [url, lists] of [["http://127.0.0.1:9", { NO_PROXY: "127.0.0.1" }], ["http://localhost:8080", { NO_PROXY: "example.com, localhost" }], ["http://localhost:8080", { no_proxy: "localhost", NO_PROXY: "x,localhost" }]] as const) {
      assert.ok(await target(url, { ...proxy, ...lists }), `${url} with ${JSON.stringify(lists)}`);
    }
    // What one runtime or another still sends through the proxy (found by trying Deno and Bun): refused.
    for (const lists of [{ NO_PROXY: "*" }, { NO_PROXY: "127.0.0.1:9" }, { NO_PROXY: ".0.0.1" }, { NO_PROXY: "*.0.0.1" }, { NO_PROXY: "0.0.1" }, { NO_PROXY: "[127.0.0.1]" },
      { NO_PROXY: "x 127.0.0.1" }, { NO_PROXY: "127.0.0.1", no_proxy: "localhost" }, { NO_PROXY: "", no_proxy: "127.0.0.1" }, { no_proxy: "127.0.0.10,example.com" }] as Record<string, string>[]) {
      await assert.rejects(target("http://127.0.0.1:9", { ...proxy, ...lists }), ConfigError, JSON.stringify(lists));
    }
    await assert.rejects(target("http://localhost:9", { ...proxy, NO_PROXY: "LOCALHOST" }), ConfigError);
    assert.ok(await target("https://backend.example.com", { HTTP_PROXY: "http://proxy.example:3128", ALL_PROXY: "http://proxy.example:3128" }));
    assert.ok(await target("http://127.0.0.1:9", { HTTP_PROXY: "http://proxy.example:3128" }, { allowInsecureBackend: true }));
  });
  it("while it reads, no child may start: resolveConfig is in env.secretReads from its first step (src/spawn.ts waits for it)", async () => {
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN: TOKEN });
    const reading = resolveConfig({}, env);
    assert.equal(env.secretReads.length, 1);
    await reading;
    await env.secretReads[0];
    assert.ok(env.secrets.has(TOKEN));
  });
  it("through the CLI: runs against a plain http backend off loopback exits 4 before anything is sent", async () => {
    const { env } = await setup(undefined, { UNIDESK_BACKEND_URL: "http://backend.example.com", UNIDESK_TOKEN: TOKEN });
    const sent: string[] = [];
    await assert.rejects(runCli(["runs"], { ...env, fetch: (async (u: string) => (sent.push(String(u)), new Response("{}"))) as typeof fetch }), (e) => e instanceof ConfigError);
    assert.deepEqual(sent, []);
  });
});

describe("files another local user could write or read (docs/security.md#files-on-the-laptop)", () => {
  const NOBODY = 65534;
  const withBackend = (env: Env): Env => ({ ...env, vars: { ...env.vars, UNIDESK_BACKEND_URL: "https://b.example" } });

  it("a config file owned by another user is refused, even through a symlink of the user's own: it says where the token goes", async () => {
    const { env, dir, file } = await setup({ backendUrl: "https://attacker.example" });
    await chown(file, NOBODY, NOBODY);
    await rejects(resolveConfig({}, env), ConfigError, /config\.json: is owned by uid 65534, not by you \(uid 0\): another user could have written it; use a file of your own or remove it$/);
    // The user's own symlink to it changes nothing: what is judged is the opened file.
    const { env: linked, file: link } = await setup();
    await symlink(file, link);
    await rejects(resolveConfig({}, linked), ConfigError, /is owned by uid 65534/);
    await rm(join(dir, "xdg"), { recursive: true });
  });

  it("a config file writable by group or others is refused with the chmod that fixes it", async () => {
    for (const mode of [0o666, 0o620, 0o602]) {
      const { env, file } = await setup({ providerId: "D700" });
      await chmod(file, mode);
      await rejects(resolveConfig({}, env), ConfigError, new RegExp(`config\\.json: is writable by group or others \\(mode 0${mode.toString(8)}\\): another user could change it; chmod go-w it or remove it$`));
    }
  });

  it("a token file readable by others is refused when a dispatch needs it, not for --dry-run; 0600 and 0400 are fine", async () => {
    const { env, dir } = await setup();
    const file = join(dir, "token");
    await writeFile(file, TOKEN, { mode: 0o644 });
    const config = await resolveConfig({ tokenFile: file }, withBackend(env));
    assert.equal(config.token, undefined, "not read");
    await rejects(target(config), ConfigError, /token file .*token \(from --token-file .*\) holds the token and is readable by group or others \(mode 0644\); chmod 600 it or unset it$/);
    for (const mode of [0o600, 0o400]) {
      await chmod(file, mode);
      assert.equal((await resolveConfig({ tokenFile: file }, withBackend(env))).token, TOKEN);
    }
    await chown(file, NOBODY, NOBODY);
    await rejects(target(await resolveConfig({ tokenFile: file }, withBackend(env))), ConfigError, /token file .* is owned by uid 65534, not by you \(uid 0\): another user could have written it; use a file of your own or unset it$/);
  });

  it("a token written in a config file readable by others: the token is refused, the rest of the file is used", async () => {
    const { env, file } = await setup({ backendUrl: "https://b.example", token: TOKEN, providerId: "D700" });
    await chmod(file, 0o644);
    const config = await resolveConfig({}, env);
    assert.equal(config.providerId, "D700");
    assert.equal(config.token, undefined);
    await rejects(target(config), ConfigError, /config file .*config\.json holds the token and is readable by group or others \(mode 0644\); chmod 600 it or move the token to a tokenFile$/);
    // Without a token in it, a readable config file is fine; so is a token from elsewhere that wins over it.
    const { env: plain, file: plainFile } = await setup({ backendUrl: "https://b.example", providerId: "D700" });
    await chmod(plainFile, 0o644);
    assert.equal((await resolveConfig({}, plain)).providerId, "D700");
    assert.equal((await resolveConfig({}, { ...env, vars: { ...env.vars, UNIDESK_TOKEN: "other-token" } })).token, "other-token");
  });

  it("root's files are trusted; where the platform has no uid nothing is checked", () => {
    assert.equal(untrustedFile("/f", { uid: 0, mode: 0o100600 }, "secret", 1000), null);
    assert.equal(untrustedFile("/f", { uid: 1000, mode: 0o100666 }, "secret", undefined), null);
    assert.equal(untrustedFile("/f", { uid: 1000, mode: 0o100644 }, "owned", 1000), null);
    assert.equal(untrustedFile("/f", { uid: 1000, mode: 0o100644 }, "secret", 1000)?.code, "EREADABLE");
    assert.equal(untrustedFile("/f", { uid: 1001, mode: 0o100600 }, "owned", 1000)?.code, "EFOREIGN");
  });
});
