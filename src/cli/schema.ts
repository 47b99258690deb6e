/** `unidesk-ci schema`: the JSON Schema generated from the zod manifest schema. */
import { command, constant, message, object, type InferValue } from "@optique/core";
import { jsonOption } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { generateManifestJsonSchema } from "../manifest/json-schema.ts";

/** The generated document as JSON text, injected by esbuild (build/build.ts); undefined when running from sources. */
declare const __UNIDESK_CI_MANIFEST_SCHEMA__: string | undefined;

/** Parser of `schema`. */
export const schemaCommand = lazy(() =>
  command(
    "schema",
    object({ command: constant("schema" as const), json: jsonOption() }),
    { brief: message`Print the JSON Schema of deploy.json (what this runner reads).`, description: message`Generated from the zod schemas the CLI validates with. The output is JSON either way; --json prints it on one line.` },
  ),
);

/** Parsed options of `schema`. */
export type SchemaOptions = InferValue<ReturnType<typeof schemaCommand>>;

/** The JSON Schema document of deploy.json. */
export function manifestJsonSchema(): Record<string, unknown> {
  // The bundle carries the schema pre-generated so that zod's JSON Schema generator (~20 KB) is left out. Keep the
  // ternary: esbuild drops the dead branch's import only for a folded condition, not for code after an early return.
  return typeof __UNIDESK_CI_MANIFEST_SCHEMA__ === "string" ? (JSON.parse(__UNIDESK_CI_MANIFEST_SCHEMA__) as Record<string, unknown>) : generateManifestJsonSchema();
}

/** Runs `schema`. */
export async function runSchema(opts: SchemaOptions, env: Env): Promise<void> {
  const doc = manifestJsonSchema();
  env.stdout.write((opts.json ? JSON.stringify(doc) : JSON.stringify(doc, null, 2)) + "\n");
}
