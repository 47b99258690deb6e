/**
 * What the bundle carries packed: build/packed.ts swaps this module for the decoder of its one compressed blob
 * (the host scripts, the JSON Schemas, src/'s long literals). Running from sources nothing is packed.
 */

/** The host scripts by file name (from sources each `.sh` import reads its file). */
export const scripts: Record<string, string> = {};
/** Every JSON Schema by name, as JSON text (from sources: generated on demand, src/cli/schema.ts). */
export const schemas: string | undefined = undefined;
/** src/'s long string literals, in the order the bundle's code reads them. */
export const texts: readonly string[] = [];
