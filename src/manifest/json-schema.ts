/** The JSON Schema of deploy.json, generated from `manifestSchema`; the build runs this once and bundles the result (build/build.ts). */
import { toJSONSchema } from "zod/mini";
import { MANIFEST_MAX_BYTES, MANIFEST_MAX_DEPTH } from "../rules.ts";
import { manifestSchema } from "./schema.ts";

/** Generates the JSON Schema document of deploy.json (what `unidesk-ci schema` prints). */
export function generateManifestJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://github.com/pikasTech/unidesk/deploy.schema.json",
    title: "UniDesk deploy.json (dev CI runner view)",
    // Bounds JSON Schema cannot express; the CLI and the runner check them (docs/manifest.md#bounds).
    description: `UTF-8 (a leading BOM is dropped), at most ${MANIFEST_MAX_BYTES} bytes, arrays and objects nested at most ${MANIFEST_MAX_DEPTH} levels deep anywhere (the top level is 1).`,
    ...toJSONSchema(manifestSchema, { io: "input", unrepresentable: "any" }),
  };
}
