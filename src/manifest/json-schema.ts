/** The JSON Schema of deploy.json, generated from `manifestSchema`; the build runs this once and bundles the result (build/build.ts). */
import { toJSONSchema } from "zod/mini";
import { manifestSchema } from "./schema.ts";

/** Generates the JSON Schema document of deploy.json (what `unidesk-ci schema` prints). */
export function generateManifestJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://github.com/pikasTech/unidesk/deploy.schema.json",
    title: "UniDesk deploy.json (dev CI runner view)",
    ...toJSONSchema(manifestSchema, { io: "input", unrepresentable: "any" }),
  };
}
