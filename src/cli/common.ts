/** Options shared by the commands that reach backend-core. */
import { message, object, option, optional, string, url } from "@optique/core";
import { maxLength, regex, string as zString } from "zod/mini";
import "../zod-locale.ts";
import { RUN_ID, RUN_ID_MAX } from "../runs/run-id.ts";
import { zodValue } from "./zod-value.ts";

/** `--json`: exactly one JSON document on stdout. */
export const jsonOption = option("--json", { description: message`Print one JSON document on stdout (errors too), no color, no progress.` });

/** Where and as whom to dispatch; each overrides its environment variable and the config file. */
export const backendOptions = object({
  backendUrl: optional(option("--backend-url", url({ metavar: "URL" }), { description: message`backend-core base URL (env UNIDESK_BACKEND_URL).` })),
  provider: optional(option("--provider", string({ metavar: "ID", pattern: /^[A-Za-z0-9._-]{1,64}$/ }), { description: message`host.ssh provider id (env UNIDESK_CI_PROVIDER, default D601).` })),
  tokenFile: optional(option("--token-file", string({ metavar: "FILE" }), { description: message`File holding the bearer token (env UNIDESK_TOKEN_FILE; or UNIDESK_TOKEN).` })),
});

/** The flags of {@link backendOptions} as the config resolver takes them. */
export function backendFlags(opts: { backendUrl?: URL; provider?: string; tokenFile?: string }): { backendUrl?: string; providerId?: string; tokenFile?: string } {
  return { backendUrl: opts.backendUrl?.href.replace(/\/$/, ""), providerId: opts.provider, tokenFile: opts.tokenFile };
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
