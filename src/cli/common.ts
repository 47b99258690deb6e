/** Options shared by the commands that reach backend-core. */
import { message, option, optional, text, type Message, type NonEmptyString, type ValueParser } from "@optique/core";
import { maxLength, maximum, minLength, number, pipe, regex, string as zString, transform } from "zod/mini";
import "../zod-locale.ts";
import { RUN_ID, RUN_ID_MAX, WAIT_MS_MAX, checkBackendUrl, checkRunRef } from "../rules.ts";
import { redactUserinfo } from "../redact.ts";
import { zodValue } from "./zod-value.ts";

/** `--json`: exactly one JSON document on stdout. */
export const jsonOption = () => option("--json", { description: message`Print one JSON document on stdout (errors too), no color, no progress.` });

// Value parsers go through the zod adapter rather than Optique's url()/integer(): zod is in the bundle anyway.

/** `--backend-url`: the rule the environment and the config file get too (a bad flag is a usage error, exit 2); credentials are not echoed. */
const backendUrlValue: ValueParser<"sync", string> = {
  mode: "sync",
  metavar: "URL",
  placeholder: "https://backend.invalid",
  parse(input) {
    const problem = checkBackendUrl(input);
    return problem === undefined ? { success: true, value: input } : { success: false, error: message`${text(redactUserinfo(input))} ${text(problem)}` };
  },
  format: String,
};

/** A non-empty string argument (a path, an id), optionally matching `pattern`. */
export function textValue(metavar: NonEmptyString, pattern?: { regex: RegExp; error: string }) {
  const nonEmpty = zString().check(minLength(1, { error: "must not be empty" }));
  return zodValue(pattern ? nonEmpty.check(regex(pattern.regex, { error: pattern.error })) : nonEmpty, metavar, "");
}

/** One of `values` (completed from them): Optique's choice() without the 4 KB of value-parser tables it pulls in. */
export function choiceValue<const T extends string>(values: readonly T[], metavar: NonEmptyString): ValueParser<"sync", T> {
  return {
    mode: "sync",
    metavar,
    placeholder: values[0]!,
    parse: (input) =>
      (values as readonly string[]).includes(input) ? { success: true, value: input as T } : { success: false, error: message`${input} is not one of ${text(values.join(", "))}` },
    format: String,
    *suggest(prefix) {
      for (const v of values) if (v.startsWith(prefix)) yield { kind: "literal", text: v };
    },
  };
}

/** Names of an option that may be repeated (`--task a --task b`), as one comma list: see {@link foldRepeated}. */
export function namesValue(metavar: NonEmptyString, pattern: { regex: RegExp; error: string }): ValueParser<"sync", string[]> {
  return {
    mode: "sync",
    metavar,
    placeholder: [],
    parse(input) {
      const names = input.split(",");
      const bad = names.find((n) => !pattern.regex.test(n));
      return bad === undefined ? { success: true, value: [...new Set(names)] } : { success: false, error: message`${bad} ${text(pattern.error)}` };
    },
    format: (v) => v.join(","),
  };
}

/** Options that may be given more than once. */
export const REPEATABLE_OPTIONS = ["--task"] as const;

/**
 * Folds every repeat of a repeatable option into its first one as a comma list (`--task a --task=b` → `--task a,b`),
 * before `--`. Optique's multiple() would do it at 11 KB of bundle; names never hold a comma.
 */
export function foldRepeated(args: readonly string[]): string[] {
  const end = args.includes("--") ? args.indexOf("--") : args.length;
  const out: string[] = [];
  const first = new Map<string, number>();
  for (let i = 0; i < end; i++) {
    const arg = args[i]!;
    const name = REPEATABLE_OPTIONS.find((o) => arg === o || arg.startsWith(`${o}=`));
    if (name === undefined || (arg === name && i + 1 >= end)) {
      out.push(arg);
      continue;
    }
    const value = arg === name ? args[++i]! : arg.slice(name.length + 1);
    const at = first.get(name);
    if (at === undefined) {
      first.set(name, out.length + 1);
      out.push(name, value);
    } else out[at] = `${out[at]},${value}`;
  }
  return [...out, ...args.slice(end)];
}

/** A whole number of milliseconds from 0 to `max`, for `--wait-ms`-like options. */
export function millisecondsValue(max: number) {
  const digits = zString().check(regex(/^[0-9]{1,12}$/, { error: `is not a whole number of milliseconds from 0 to ${max}` }));
  return zodValue(pipe(pipe(digits, transform(Number)), number().check(maximum(max, { error: `is more than ${max} ms` }))), "MS", 0);
}

/** `--wait-ms MS`, the operator's deadline (0 … WAIT_MS_MAX), for the three commands that take it (run-dev-e2e, logs, cancel), each saying what it waits for. */
export function waitMsOption(description: Message) {
  return optional(option("--wait-ms", millisecondsValue(WAIT_MS_MAX), { description }));
}

/** Where and as whom to dispatch (fields for a command's object()); each overrides its environment variable and the config file. */
export const backendOptions = () => ({
  backendUrl: optional(option("--backend-url", backendUrlValue, { description: message`backend-core base URL (env UNIDESK_BACKEND_URL).` })),
  provider: optional(option("--provider", textValue("ID", { regex: /^[A-Za-z0-9._-]{1,64}$/, error: "is not a provider id (letters, digits, '.', '_', '-'; e.g. D601)" }), { description: message`host.ssh provider id (env UNIDESK_CI_PROVIDER, default D601).` })),
  tokenFile: optional(option("--token-file", textValue("FILE"), { description: message`File holding the bearer token (env UNIDESK_TOKEN_FILE; or UNIDESK_TOKEN).` })),
  allowInsecureBackend: option("--allow-insecure-backend", { description: message`Send the token over plain http:// to a host that is not loopback (env UNIDESK_ALLOW_INSECURE_BACKEND=1).` }),
});

/** The flags of {@link backendOptions} as the config resolver takes them. */
export function backendFlags(opts: { backendUrl?: string; provider?: string; tokenFile?: string; allowInsecureBackend?: boolean }): { backendUrl?: string; providerId?: string; tokenFile?: string; allowInsecureBackend?: boolean } {
  return { backendUrl: opts.backendUrl, providerId: opts.provider, tokenFile: opts.tokenFile, ...(opts.allowInsecureBackend ? { allowInsecureBackend: true } : {}) };
}

/** A run id argument: DNS-safe, at most 40 characters (docs/manifest.md#run-ids). */
export const runIdValue = zodValue(
  zString().check(
    maxLength(RUN_ID_MAX, { error: `is longer than ${RUN_ID_MAX} characters` }),
    regex(RUN_ID, { error: "is not a DNS-safe run id (lowercase letters, digits, '-'; e.g. dev-20261127-162626-k3x9a2)" }),
  ),
  "RUN_ID",
  "run",
);

/** A run id or a run reference (`@latest`, `@latest-failed`), for the commands whose host script resolves it (docs/commands.md#latest). */
export const runRefValue: ValueParser<"sync", string> = {
  mode: "sync",
  metavar: "RUN_ID",
  placeholder: "run",
  parse(input) {
    const problem = checkRunRef(input);
    if (problem === undefined) return { success: true, value: input };
    // A bad reference's problem already names the references.
    return { success: false, error: message`${input} ${text(problem)}${text(input.startsWith("@") ? "" : " (or @latest / @latest-failed)")}` };
  },
  format: String,
};
