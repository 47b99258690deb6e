/** Where to dispatch and with which workspace: flags > environment > config file > defaults (docs/configuration.md). */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { boolean, optional, strictObject, string } from "zod/mini";
import "./zod-locale.ts";
import { FileReadError, type Env, type FileGuard } from "./env.ts";
import { AuthError, ConfigError } from "./errors.ts";
import type { DispatchTarget } from "./dispatch/client.ts";
import { parseJson } from "./json-text.ts";
import { redactUserinfo } from "./redact.ts";
import { CONFIG_FILE_MAX_BYTES, DEFAULT_WORKSPACE, checkAbsolutePath, checkBackendUrl, checkProxyUrl, BEARER_TOKEN, TOKEN_MIN_CHARS } from "./rules.ts";

/** The fixed workspace settings of the launcher on D601, defined beside the launcher renderer. */
export { DEFAULT_WORKSPACE };

/** The host.ssh provider used when none is configured. */
export const DEFAULT_PROVIDER_ID = "D601";

/** Provider ids as backend-core names them. */
export const PROVIDER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Flags that override the environment and the config file. */
export interface ConfigFlags {
  /** `--backend-url`. */
  backendUrl?: string;
  /** `--provider`. */
  providerId?: string;
  /** `--token-file` (there is deliberately no flag taking the token itself: argv is visible to other users). */
  tokenFile?: string;
  /** `--allow-insecure-backend`. */
  allowInsecureBackend?: boolean;
}

/** The resolved configuration. Never serialize it whole: it holds the token. */
export interface Config {
  /** backend-core base URL without a trailing slash; undefined when not configured. */
  backendUrl?: string;
  /** Bearer token, trimmed; undefined when not configured. */
  token?: string;
  /** Where the token came from (`UNIDESK_TOKEN`, `--token-file /path`, …), for messages. Never the token. */
  tokenSource?: string;
  /** host.ssh provider. @default "D601" */
  providerId: string;
  /** Work directories on the host. @default "/tmp/unidesk-ci" */
  workRoot: string;
  /** Result directories on the host. @default "/home/ubuntu/.unidesk/runs" */
  runsRoot: string;
  /** Egress proxy the launcher fetches through. @default "http://127.0.0.1:18789" */
  egressProxy: string;
  /** The config file consulted (it need not exist); undefined when neither XDG_CONFIG_HOME nor HOME is set. */
  configFile?: string;
  /** A token-file problem, raised only when a token is needed, so `--dry-run` works without one. */
  tokenError?: AuthError | ConfigError;
  /** The operator opted in to a plain http:// backend off loopback, and where (flag, variable or config key); undefined: refused. */
  allowInsecureBackend?: string;
  /** For an http:// backend: the proxy variable Deno and Bun would send its requests through (`NAME=url`, userinfo redacted). */
  cleartextProxy?: string;
}

/** Keys of the config file, all optional. */
export const CONFIG_KEYS = ["backendUrl", "token", "tokenFile", "providerId", "workRoot", "runsRoot", "egressProxy", "allowInsecureBackend"] as const;

const setting = (what: string) => optional(string({ error: `must be a string: ${what}` }));

/** The config file `unidesk-ci/config.json`. */
export const configFileSchema = strictObject(
  {
    backendUrl: setting("the backend-core base URL, e.g. https://backend.example.com"),
    token: setting("the bearer token (prefer tokenFile)"),
    tokenFile: setting("a path to a file holding the token (relative to this file's directory)"),
    providerId: setting(`the host.ssh provider id, e.g. ${DEFAULT_PROVIDER_ID}`),
    workRoot: setting(`an absolute path, e.g. ${DEFAULT_WORKSPACE.workRoot}`),
    runsRoot: setting(`an absolute path, e.g. ${DEFAULT_WORKSPACE.runsRoot}`),
    egressProxy: setting(`an http://host:port URL, e.g. ${DEFAULT_WORKSPACE.egressProxy}`),
    allowInsecureBackend: optional(boolean({ error: "must be true or false: whether the token may go over plain http:// to a host that is not loopback" })),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `${describeUnknownKeys(issue.keys)}; allowed keys: ${CONFIG_KEYS.join(", ")}`
        : "must be a JSON object, e.g. { \"backendUrl\": \"https://…\", \"tokenFile\": \"token\" }",
  },
);

type FileConfig = ReturnType<typeof configFileSchema.parse>;

/** Edit distance of two short strings (for "did you mean"). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * Names only the unknown keys that are near-misses of a real key (`backendURL`): any other key is counted,
 * not echoed, since a key can be a pasted token (`{ "ghp_…": "" }`) and no message quotes the file.
 */
function describeUnknownKeys(keys: readonly PropertyKey[]): string {
  const named: string[] = [];
  let hidden = 0;
  for (const key of keys) {
    const text = String(key);
    const near = text.length <= 32 ? CONFIG_KEYS.find((k) => editDistance(k.toLowerCase(), text.toLowerCase()) <= 2) : undefined;
    if (near === undefined) hidden += 1;
    else named.push(`'${text}' (did you mean ${near}?)`);
  }
  const notShown = "not shown: a key may be a pasted secret";
  if (named.length === 0) return `${hidden === 1 ? "an unknown key" : `${hidden} unknown keys`} (${notShown})`;
  return `unknown key ${named.join(", ")}${hidden > 0 ? ` and ${hidden} more (${notShown})` : ""}`;
}

/** `$XDG_CONFIG_HOME/unidesk-ci/config.json`, else `$HOME/.config/unidesk-ci/config.json`; undefined without either. */
export function configFilePath(vars: Env["vars"]): string | undefined {
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = vars.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "unidesk-ci", "config.json");
  if (vars.HOME) return join(vars.HOME, ".config", "unidesk-ci", "config.json");
  return undefined;
}

/** How to fix a config or token file that cannot be read. */
function readFix(error: FileReadError): string {
  if (error.code === "ENOENT") return "fix the path";
  if (error.code === "ENOTREG" || error.code === "EISDIR") return "use a regular file";
  if (error.code === "EFBIG") return "name the right file (config and token files are a few lines)";
  if (error.code === "EILSEQ") return "save it as UTF-8";
  if (error.code === "EFOREIGN") return "use a file of your own";
  if (error.code === "EWRITABLE") return "chmod go-w it";
  if (error.code === "EREADABLE") return "chmod 600 it";
  return "fix its permissions";
}

/** Reads a config or token file, bounded; a FileReadError is returned, not thrown. Its reason never quotes the content. */
async function readSmallFile(path: string, env: Env, guard: FileGuard): Promise<{ text: string } | { error: FileReadError }> {
  try {
    return { text: await env.readFile(path, { maxBytes: CONFIG_FILE_MAX_BYTES, guard }) };
  } catch (error) {
    // Interrupted: the caller reports exit 130, not a config problem.
    if (env.signal.aborted || !(error instanceof FileReadError)) throw error;
    return { error };
  }
}

async function readConfigFile(file: string | undefined, env: Env): Promise<FileConfig> {
  if (file === undefined) return {};
  // It says where the token goes: a file another user could write is refused (docs/configuration.md#the-token).
  const read = await readSmallFile(file, env, "owned");
  if ("error" in read) {
    if (read.error.code === "ENOENT") return {};
    throw new ConfigError(`${file}: ${read.error.reason}; ${readFix(read.error)} or remove it`);
  }
  // Neither message nor cause carries the runtime's parse error: it quotes the text, which may hold the token.
  const json = parseJson(read.text);
  if (!json.ok) throw new ConfigError(`${file}: is not valid JSON${json.where}; fix the syntax or remove the file`);
  const parsed = configFileSchema.safeParse(json.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new ConfigError(`${file}: ${key}${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The first value that is set (empty environment variables count as unset), with where it came from. */
function pick(...candidates: [string | undefined, string][]): [string, string] | undefined {
  for (const [value, source] of candidates) if (value !== undefined && value !== "") return [value, source];
  return undefined;
}

/** The backend URL, normalized; a ConfigError naming the source for a bad one (the flag's value parser applies the same rule). */
function backendUrlFrom(value: string, source: string): string {
  const problem = checkBackendUrl(value);
  if (problem !== undefined) throw new ConfigError(`backend URL from ${source} ${problem}`);
  return new URL(value).href.replace(/\/+$/, "");
}

function checkSetting(name: string, value: string, source: string, problem: string | undefined): string {
  if (problem !== undefined) throw new ConfigError(`${name} from ${source} ${problem}`);
  return value;
}

/** Visible ASCII only: anything else cannot go into an HTTP header and is a copy-paste accident. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

async function readToken(env: Env, found: [string, string] | undefined, isFile: boolean): Promise<Pick<Config, "token" | "tokenSource" | "tokenError">> {
  if (found === undefined) return {};
  const [value, source] = found;
  let token = value;
  if (isFile) {
    const read = await readSmallFile(value, env, "secret");
    if ("error" in read) {
      return { tokenSource: source, tokenError: new ConfigError(`token file ${value} (from ${source}) ${read.error.reason}; ${readFix(read.error)} or unset it`) };
    }
    token = read.text;
  }
  token = token.trim();
  if (token === "") return { tokenSource: source, tokenError: new AuthError(`the token from ${source} is empty; put the bearer token there`) };
  if (!TOKEN_CHARS.test(token)) {
    return { tokenSource: source, tokenError: new AuthError(`the token from ${source} contains spaces, line breaks or non-ASCII characters; it must be one line of printable ASCII`) };
  }
  // Not a secret the outputs can mask without showing it: refused before it joins env.secrets (its length is not said).
  if (token.length < TOKEN_MIN_CHARS) {
    return { tokenSource: source, tokenError: new AuthError(`the token from ${source} is shorter than ${TOKEN_MIN_CHARS} characters; put the whole bearer token there`) };
  }
  // A quote or a backslash would be escaped in --json (and `<`, `&` in reports): the redaction would miss it there.
  if (!BEARER_TOKEN.test(token)) {
    return { tokenSource: source, tokenError: new AuthError(`the token from ${source} is not a bearer token (RFC 6750: letters, digits, '-', '.', '_', '~', '+', '/', then '=' padding); put the bearer token there as the backend issued it`) };
  }
  return { token, tokenSource: source };
}

/**
 * Resolves every setting: flags > environment > config file > defaults. Throws ConfigError on bad values. Until it
 * settled no child starts (`env.secretReads`): a token it reads from a file becomes a secret first.
 */
export function resolveConfig(flags: ConfigFlags, env: Env): Promise<Config> {
  const config = readConfig(flags, env);
  env.secretReads.push(config.catch(() => undefined));
  return config;
}

async function readConfig(flags: ConfigFlags, env: Env): Promise<Config> {
  const v = env.vars;
  const configFile = configFilePath(v);
  const file = await readConfigFile(configFile, env);
  const inFile = (key: string) => `${configFile} (${key})`;

  const backend = pick([flags.backendUrl, "--backend-url"], [v.UNIDESK_BACKEND_URL, "UNIDESK_BACKEND_URL"], [file.backendUrl, inFile("backendUrl")]);
  const provider = pick([flags.providerId, "--provider"], [v.UNIDESK_CI_PROVIDER, "UNIDESK_CI_PROVIDER"], [file.providerId, inFile("providerId")]) ?? [DEFAULT_PROVIDER_ID, "default"];
  const workRoot = pick([v.UNIDESK_CI_WORK_ROOT, "UNIDESK_CI_WORK_ROOT"], [file.workRoot, inFile("workRoot")]) ?? [DEFAULT_WORKSPACE.workRoot, "default"];
  const runsRoot = pick([v.UNIDESK_CI_RUNS_ROOT, "UNIDESK_CI_RUNS_ROOT"], [file.runsRoot, inFile("runsRoot")]) ?? [DEFAULT_WORKSPACE.runsRoot, "default"];
  const egressProxy = pick([v.UNIDESK_CI_EGRESS_PROXY, "UNIDESK_CI_EGRESS_PROXY"], [file.egressProxy, inFile("egressProxy")]) ?? [DEFAULT_WORKSPACE.egressProxy, "default"];

  // The token: the first of these that is set wins; a file path is read relative to where it was written.
  const fileDir = configFile === undefined ? env.cwd : dirname(configFile);
  const tokenCandidates: [string | undefined, string, boolean][] = [
    [flags.tokenFile && resolve(env.cwd, flags.tokenFile), `--token-file ${flags.tokenFile}`, true],
    [v.UNIDESK_TOKEN, "UNIDESK_TOKEN", false],
    [v.UNIDESK_TOKEN_FILE && resolve(env.cwd, v.UNIDESK_TOKEN_FILE), "UNIDESK_TOKEN_FILE", true],
    [file.token, inFile("token"), false],
    [file.tokenFile && resolve(fileDir, file.tokenFile), inFile("tokenFile"), true],
  ];
  const tokenFound = tokenCandidates.find(([value]) => value !== undefined && value !== "");
  // A token written in the config file makes that file a secret: checked once more, as a token file is.
  const exposed = tokenFound?.[1] === inFile("token") && configFile !== undefined ? await readSmallFile(configFile, env, "secret") : undefined;
  const token =
    exposed && "error" in exposed
      ? { tokenSource: inFile("token"), tokenError: new ConfigError(`config file ${configFile} ${exposed.error.reason}; ${readFix(exposed.error)} or move the token to a tokenFile`) }
      : await readToken(env, tokenFound && [tokenFound[0] as string, tokenFound[1]], tokenFound?.[2] ?? false);
  // From here on no output shows it, whatever echoes it back (docs/security.md).
  if (token.token !== undefined) env.secrets.add(token.token);

  const insecure = flags.allowInsecureBackend
    ? "--allow-insecure-backend"
    : v.UNIDESK_ALLOW_INSECURE_BACKEND === "1"
      ? "UNIDESK_ALLOW_INSECURE_BACKEND=1"
      : file.allowInsecureBackend === true
        ? inFile("allowInsecureBackend")
        : undefined;
  const backendUrl = backend && backendUrlFrom(...backend);
  const proxy = backendUrl?.startsWith("http:") ? cleartextProxy(v, new URL(backendUrl).hostname) : undefined;
  return {
    ...(insecure ? { allowInsecureBackend: insecure } : {}),
    ...(backendUrl ? { backendUrl } : {}),
    ...(proxy ? { cleartextProxy: proxy } : {}),
    ...token,
    providerId: checkSetting("provider id", provider[0], provider[1], PROVIDER_ID.test(provider[0]) ? undefined : "must be 1-64 letters, digits, '.', '_' or '-', e.g. D601"),
    workRoot: checkSetting("work root", workRoot[0], workRoot[1], checkAbsolutePath(workRoot[0])),
    runsRoot: checkSetting("runs root", runsRoot[0], runsRoot[1], checkAbsolutePath(runsRoot[0])),
    egressProxy: checkSetting("egress proxy", egressProxy[0], egressProxy[1], checkProxyUrl(egressProxy[0])),
    ...(configFile ? { configFile } : {}),
  };
}

/** True for a loopback host as URL spells it: localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

/**
 * The proxy variable (`NAME=url`, userinfo redacted) a runtime may send a plain http:// request to `host` through:
 * Deno and Bun (so the standalone executable) honour `http_proxy`/`HTTP_PROXY`/`all_proxy`/`ALL_PROXY`. Such a
 * proxy, even one on loopback, may carry the request on in cleartext, token and all. The backend counts as exempt
 * only when every one of `no_proxy` and `NO_PROXY` that is set (empty counts) lists its host name exactly: the
 * runtimes read these lists differently (which variable wins, `*`, ports, suffixes, case, separators), so only what
 * all of them read alike is believed. Undefined when no proxy applies.
 */
export function cleartextProxy(vars: Readonly<Record<string, string | undefined>>, hostname: string): string | undefined {
  const name = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"].find((n) => vars[n]);
  if (name === undefined) return undefined;
  const lists = [vars.no_proxy, vars.NO_PROXY].filter((l): l is string => l !== undefined);
  const exempt = lists.length > 0 && lists.every((l) => l.split(",").some((entry) => entry.trim() === hostname));
  return exempt ? undefined : `${name}=${redactUserinfo(vars[name]!)}`;
}

/** The backend and credentials a dispatch needs; ConfigError without a backend URL, AuthError without a usable token. */
export function requireDispatchTarget(config: Config): DispatchTarget {
  const where = config.configFile ?? "$XDG_CONFIG_HOME/unidesk-ci/config.json";
  if (config.backendUrl === undefined) {
    throw new ConfigError(`no backend URL configured; set UNIDESK_BACKEND_URL, pass --backend-url URL, or add "backendUrl" to ${where}`);
  }
  // The bearer token goes in every request: in cleartext only to this machine, or when the operator said so.
  const url = new URL(config.backendUrl);
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && config.allowInsecureBackend === undefined) {
    throw new ConfigError(`refusing to send the token in cleartext to ${config.backendUrl} (plain http:// to a host that is not loopback)`, {
      hint: "use the https:// URL of backend-core; if this network is trusted, pass --allow-insecure-backend or set UNIDESK_ALLOW_INSECURE_BACKEND=1",
    });
  }
  if (config.cleartextProxy !== undefined && config.allowInsecureBackend === undefined) {
    throw new ConfigError(`refusing to send the token in cleartext to ${config.backendUrl} through the proxy ${config.cleartextProxy} (Deno and Bun send plain http:// requests through it)`, {
      hint: "list the backend's host name exactly in NO_PROXY (and in no_proxy, if set), e.g. NO_PROXY=127.0.0.1,localhost; or unset the proxy variable for unidesk-ci, or use the https:// URL; if the proxy is trusted, pass --allow-insecure-backend",
    });
  }
  if (config.tokenError !== undefined) throw config.tokenError;
  if (config.token === undefined) {
    throw new AuthError(`no token configured; set UNIDESK_TOKEN_FILE (a file holding the token) or UNIDESK_TOKEN, pass --token-file FILE, or add "tokenFile" to ${where}`);
  }
  return { backendUrl: config.backendUrl, token: config.token, providerId: config.providerId, ...(config.tokenSource ? { tokenSource: config.tokenSource } : {}) };
}
