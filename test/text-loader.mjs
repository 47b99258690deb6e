// Lets tests import `*.sh` templates as text, the way the bundle embeds them (build/packed.ts: without
// full-line comments, build/strip-comments.mjs).
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      import { readFile } from "node:fs/promises";
      import { stripComments } from ${JSON.stringify(new URL("../build/strip-comments.mjs", import.meta.url).href)};
      export async function load(url, context, next) {
        if (url.endsWith(".sh")) {
          const text = await readFile(new URL(url), "utf8");
          return { format: "module", source: "export default " + JSON.stringify(stripComments(text)) + ";", shortCircuit: true };
        }
        return next(url, context);
      }
    `),
);
