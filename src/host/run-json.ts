/** The one parse of a run's small JSON files (result.json, progress.json), apart from the reader records so the result module and the records module do not import each other. */

/** Every line break a viewer may break on: LF, CR, VT, FF, NEL, LS, PS. */
const LINE_BREAK = /[\n\r\v\f\u0085\u2028\u2029]/g;

/**
 * JSON text of a run file (result.json, progress.json, taskruns.json) parsed with every line break inside a string
 * made a space: each string of these files is one line by contract (a reason, a Tekton message, a name, one log
 * line of a tail), and Tekton's messages come from the cluster, so a newline in one must never start a fake line
 * (`✓ all tasks passed`) in what the CLI prints. The one place the CLI reads them (docs/security.md); throws like
 * JSON.parse.
 */
export function parseRunFileJson(text: string): unknown {
  return JSON.parse(text, (_, v: unknown) => (typeof v === "string" ? v.replace(LINE_BREAK, " ") : v));
}

/**
 * Parses the text of a small JSON file of a run (result.json, progress.json) against its schema: the value, or
 * why it is unusable (`<file> is not valid JSON`, `<file> does not match <schemaName>: path: message; …`).
 */
export function parseRunJson<T>(text: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } } }, file: string, schemaName: string): { value: T | null; problem: string | null } {
  let json: unknown;
  try {
    json = parseRunFileJson(text);
  } catch {
    return { value: null, problem: `${file} is not valid JSON` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { value: null, problem: `${file} does not match ${schemaName}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}` };
  return { value: parsed.data, problem: null };
}
