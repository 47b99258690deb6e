/** JSON.parse whose failure says where, never what: runtimes quote the text around a syntax error, and it may be a token. */

/** The parsed value, or where the syntax error is (`" at line 3, column 7"`, or `""` when the runtime does not say). */
export type JsonParse = { ok: true; value: unknown } | { ok: false; where: string };

/** Parses JSON text; a syntax error yields its line and column only (V8 reports them; Bun does not). */
export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : "";
    const lineColumn = /\(line (\d+) column (\d+)\)/.exec(detail);
    if (lineColumn) return { ok: false, where: ` at line ${lineColumn[1]}, column ${lineColumn[2]}` };
    const position = /at position (\d+)/.exec(detail);
    if (!position) return { ok: false, where: "" };
    const before = text.slice(0, Number(position[1])).split("\n");
    return { ok: false, where: ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}` };
  }
}
