/** Options shared by the commands that reach backend-core. */
import { message, option, optional, text, type NonEmptyString, type ValueParser } from "@optique/core";
import { maxLength, maximum, minLength, number, pipe, regex, string as zString, transform } from "zod/mini";
import "../zod-locale.ts";
import { RUN_ID, RUN_ID_MAX, checkBackendUrl } from "../rules.ts";
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

/** A whole number of milliseconds from 0 to `max`, for `--wait-ms`-like options. */
export function millisecondsValue(max: number) {
  const digits = zString().check(regex(/^[0-9]{1,12}$/, { error: `is not a whole number of milliseconds from 0 to ${max}` }));
  return zodValue(pipe(pipe(digits, transform(Number)), number().check(maximum(max, { error: `is more than ${max} ms` }))), "MS", 0);
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
