/** `unidesk-ci schema [NAME]`: a JSON Schema generated from the zod schemas: deploy.json (default), result.json, each `--json` document. */
import { argument, command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { jsonOption, textValue } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { UsageError } from "../errors.ts";
import { writeJsonSchema } from "../io/json.ts";
import { outputFor } from "../io/output.ts";
import { generateJsonSchemas } from "../io/json-schemas.ts";
import { schemas as packedSchemas } from "../packed.ts";

/** Defined by esbuild (build/build.ts) in the bundle, whose packed blob holds the JSON Schemas; undefined when running from sources. */
declare const __UNIDESK_CI_PACKED__: boolean | undefined;

/** The name printed without NAME. */
const DEFAULT_SCHEMA = "deploy";

/** Parser of `schema`. */
export const schemaCommand = lazy(() =>
  command(
    "schema",
    object({
      command: constant("schema" as const),
      name: optional(argument(textValue("NAME"), { description: message`deploy (default), result, error, or a command's name for its --json document; see --list.` })),
      list: option("--list", { description: message`List the names with what each describes.` }),
      json: jsonOption(),
    }),
    {
      brief: message`Print a JSON Schema: deploy.json (default), result.json, or a command's --json document.`,
      description: message`Generated from the zod schemas the CLI validates and writes with (docs/json.md). The output is JSON either way; --json prints it on one line.`,
    },
  ),
);

/** Parsed options of `schema`. */
export type SchemaOptions = InferValue<ReturnType<typeof schemaCommand>>;

/** Every JSON Schema `schema` prints, by name. */
export async function jsonSchemas(): Promise<Record<string, Record<string, unknown>>> {
  // The bundle carries them pre-generated in its packed blob (build/packed.ts) so that zod's JSON Schema generator
  // (~20 KB) is left out. Keep the ternary: esbuild drops the dead branch's import only for a folded condition,
  // not for code after an early return.
  return typeof __UNIDESK_CI_PACKED__ === "boolean" ? (JSON.parse(packedSchemas!) as Record<string, Record<string, unknown>>) : generateJsonSchemas();
}

/** Runs `schema`. */
export async function runSchema(opts: SchemaOptions, env: Env): Promise<void> {
  const schemas = await jsonSchemas();
  const names = Object.keys(schemas);
  const out = outputFor(env, opts);
  if (opts.list && opts.name !== undefined) throw new UsageError("schema takes either NAME or --list, not both", { hint: "drop one of the two" });
  if (opts.list) {
    const list = names.map((name) => ({ name, title: String(schemas[name]!.title ?? "") }));
    out.result(() => ({ ok: true, schemas: list }), () => list.map((s) => `${s.name.padEnd(12)} ${s.title}\n`).join(""));
    return;
  }
  const name = opts.name ?? DEFAULT_SCHEMA;
  const doc = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
  if (!doc) throw new UsageError(`unknown schema '${name}'; the names are: ${names.join(", ")}`, { hint: "list them with: unidesk-ci schema --list" });
  writeJsonSchema(env, doc, { oneLine: !out.human });
}
