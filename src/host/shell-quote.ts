/** The one shell-quote helper every rendered template goes through (docs/launcher.md). */

/**
 * Quotes a string as one bash word in single-quote style: `'…'`, each `'` written as `'\''`.
 * Inside single quotes bash expands nothing, so every string (newlines, `$()`, backticks, unicode)
 * reads back byte-identical. NUL cannot be held by a bash word at all, so it is refused.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("shellQuote: a NUL character cannot be passed to bash");
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
