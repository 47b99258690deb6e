/**
 * The one redaction and the one cleaning of text that comes from outside (docs/security.md): backend
 * `error.code` and `error.message`, launcher and reader stderr, git's stderr, runtime network errors. Nothing
 * from outside is shown without {@link untrustedLine}; the output writers redact {@link Env.secrets} again.
 */
import { UNTRUSTED_TEXT_MAX_CHARS } from "./rules.ts";

/** What replaces a secret or a URL's userinfo. */
export const REDACTED = "***";

/**
 * Replaces the userinfo of every URL in a text (`https://alice:p@ss@host/…` → `https://***@host/…`). The
 * userinfo ends at the LAST `@` before the host's path, query or fragment (RFC 3986: `@` cannot be part of a
 * host), so a password holding `@` goes whole. An ssh/git user name alone (`ssh://git@host`) is kept: no secret.
 */
export function redactUserinfo(text: string): string {
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#\s]*)@/g, (whole, scheme: string, userinfo: string) =>
    /^https?$/i.test(scheme) || userinfo.includes(":") || userinfo.includes("@") ? `${scheme}://${REDACTED}@` : whole,
  );
}

/**
 * Every spelling of a secret an echo may use: as itself and percent-encoded with upper- and lower-case hex (a URL
 * or a form quoting a token with `+`, `/`, `=`). All of them go into `Env.secrets`, so each redaction finds them.
 */
export function secretSpellings(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  return [...new Set([secret, encoded, encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())])];
}

/** Replaces every occurrence of each secret (the token) by `***`; empty secrets are ignored. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join(REDACTED);
  return out;
}

/** Every kind of line break and run of white space, including NEL, LS and PS, which some viewers break on. */
const BREAKS = /[\s\u0085\u2028\u2029]+/g;

/**
 * Outside text as one clean line: secrets and URL userinfo redacted, every line break and run of white space
 * one space (a newline never starts a fake second line), at most UNTRUSTED_TEXT_MAX_CHARS characters (`…`
 * after a cut; cut after redaction, so no part of a secret survives). Terminal controls are left to the output
 * boundary (io/terminal.ts), so `--json` keeps them as data.
 */
export function untrustedLine(text: string, secrets: Iterable<string> = []): string {
  const line = redactUserinfo(redactSecrets(String(text), secrets)).replace(BREAKS, " ").trim();
  const chars = Array.from(line);
  return chars.length > UNTRUSTED_TEXT_MAX_CHARS ? `${chars.slice(0, UNTRUSTED_TEXT_MAX_CHARS).join("")}…` : line;
}
