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

const SECRET_PATTERNS = new Map<string, RegExp>();
/** RFC 3986's unreserved characters: the only ones every percent-encoder writes as themselves. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/**
 * A secret in every spelling an echo may use: each character outside RFC 3986's unreserved ones (`+`, `/`, `=` in
 * a token) as itself or as its `%XX`, in either hex case, character by character. A URL or form quoting the token
 * encodes all of them (`encodeURIComponent`), some (Python's `quote` keeps `/`) or in lower-case hex.
 */
function secretPattern(secret: string): RegExp {
  let pattern = SECRET_PATTERNS.get(secret);
  if (pattern === undefined) {
    const source = Array.from(secret, (c) => {
      const literal = c.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
      if (UNRESERVED.test(c)) return literal;
      const hex = Array.from(new TextEncoder().encode(c), (b) => `%${b.toString(16).padStart(2, "0").replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`)}`);
      return `(?:${literal}|${hex.join("")})`;
    }).join("");
    pattern = new RegExp(source, "g");
    SECRET_PATTERNS.set(secret, pattern);
  }
  return pattern;
}

/** Replaces every occurrence of each secret (the token), in each spelling {@link secretPattern} knows, by `***`; empty secrets are ignored. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.replace(secretPattern(secret), REDACTED);
  return out;
}

/** Whether a text holds one of the secrets, in any spelling {@link redactSecrets} redacts. */
export function holdsSecret(text: string, secrets: Iterable<string>): boolean {
  for (const secret of secrets) if (secret !== "" && text.search(secretPattern(secret)) >= 0) return true;
  return false;
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
