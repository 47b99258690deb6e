/** The one parse of a run's small JSON files (result.json, progress.json), apart from the reader records so the result module and the records module do not import each other. */

/**
 * Parses the text of a small JSON file of a run (result.json, progress.json) against its schema: the value, or
 * why it is unusable (`<file> is not valid JSON`, `<file> does not match <schemaName>: path: message; …`).
 */
export function parseRunJson<T>(text: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } } }, file: string, schemaName: string): { value: T | null; problem: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { value: null, problem: `${file} is not valid JSON` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { value: null, problem: `${file} does not match ${schemaName}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}` };
  return { value: parsed.data, problem: null };
}
