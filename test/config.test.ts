import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFilePath, DEFAULT_PROVIDER_ID, requireDispatchTarget, resolveConfig, type Config } from "../src/config.ts";
import { DEFAULT_WORKSPACE } from "../src/rules.ts";
import { fakeEnv, type Env } from "../src/env.ts";
import { AuthError, CliError, ConfigError, ExitCode } from "../src/errors.ts";

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
  if (config !== undefined) await writeFile(file, typeof config === "string" ? config : JSON.stringify(config));
  const env = { ...fakeEnv({ vars: { XDG_CONFIG_HOME: xdg, HOME: join(dir, "home"), ...vars }, cwd: dir }), readFile: (p: string) => readFile(p, "utf8") };
  return { env, dir, file };
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
    await writeFile(join(dir, "flag-token"), `  ${TOKEN}\n\n`);
    const config = await resolveConfig({ backendUrl: "https://flag.example/base/", providerId: "D900", tokenFile: "flag-token" }, env);
    assert.equal(config.backendUrl, "https://flag.example/base");
    assert.equal(config.providerId, "D900");
    assert.equal(config.token, TOKEN, "relative --token-file read from cwd, trimmed");
    assert.equal(config.tokenSource, "--token-file flag-token");
  });

  it("UNIDESK_TOKEN beats UNIDESK_TOKEN_FILE; the token file is trimmed", async () => {
    const { env: both, dir } = await setup(undefined, { UNIDESK_TOKEN: TOKEN, UNIDESK_TOKEN_FILE: "/nonexistent/token" });
    assert.equal((await resolveConfig({}, both)).token, TOKEN);
    await writeFile(join(dir, "t"), `${TOKEN}\r\n`);
    const { env: fileOnly } = await setup(undefined, { UNIDESK_TOKEN_FILE: join(dir, "t") });
    assert.equal((await resolveConfig({}, fileOnly)).token, TOKEN);
  });

  it("config tokenFile is relative to the config file's directory", async () => {
    const { env, file } = await setup({ tokenFile: "token" });
    await writeFile(join(file, "..", "token"), TOKEN);
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
    const env = { ...fakeEnv({ vars: { HOME: home } }), readFile: (p: string) => readFile(p, "utf8") };
    assert.equal((await resolveConfig({}, env)).providerId, "D111");
  });

  const badFiles: { name: string; content: string; says: RegExp }[] = [
    { name: "malformed JSON", content: "{ backendUrl: ", says: /config\.json: is not valid JSON/ },
    { name: "not an object", content: "[]", says: /config\.json: must be a JSON object/ },
    { name: "unknown key", content: JSON.stringify({ backendURL: "https://x" }), says: /config\.json: unknown key 'backendURL'; allowed keys: backendUrl/ },
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
    await rejects(resolveConfig({}, env), ConfigError, /config\.json: cannot be read \(EISDIR\)/);
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
    await writeFile(join(dir, "empty"), " \n");
    const config = await resolveConfig({ tokenFile: join(dir, "empty") }, env);
    assert.equal(config.token, undefined);
    await rejects(target(config), AuthError, /token from --token-file .* is empty/);
  });

  it("a missing or unreadable token file → ConfigError naming it", async () => {
    const { env, dir } = await setup(undefined, { UNIDESK_BACKEND_URL: "https://b.example", UNIDESK_TOKEN_FILE: "missing-token" });
    await rejects(target(await resolveConfig({}, env)), ConfigError, /token file .*missing-token \(from UNIDESK_TOKEN_FILE\) does not exist/);
    // A directory cannot be read as a file even by root (a chmod 000 file can).
    await mkdir(join(dir, "a-directory"));
    await rejects(target(await resolveConfig({ tokenFile: join(dir, "a-directory") }, env)), ConfigError, /a-directory.*cannot be read \(EISDIR\)/);
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
