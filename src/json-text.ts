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

/** A key that occurs twice in one object: the key and the path of that object (keys and array indexes). */
export interface DuplicateKey {
  key: string;
  path: (string | number)[];
}

type Frame = { kind: "object"; keys: Set<string>; key?: string; expectKey: boolean } | { kind: "array"; index: number };

/**
 * The first key that occurs twice in one object of valid JSON `text` (call it after JSON.parse succeeded), at
 * any depth; undefined when there is none. JSON.parse silently keeps the last one, so two readers of one file
 * could see different documents. Keys compare decoded (`"a"` and `"\u0061"` are one key). One pass, no
 * recursion: linear in the text, whatever its nesting.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack.at(-1);
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (top?.kind === "object" && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, path: stack.slice(0, -1).map((f) => (f.kind === "object" ? f.key! : f.index)) };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{") stack.push({ kind: "object", keys: new Set(), expectKey: true });
    else if (c === "[") stack.push({ kind: "array", index: 0 });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") {
      if (top?.kind === "object") top.expectKey = true;
      else if (top?.kind === "array") top.index += 1;
    }
  }
  return undefined;
}
