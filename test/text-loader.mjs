// Lets tests import `*.sh` templates as text, the way esbuild's text loader bundles them.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      import { readFile } from "node:fs/promises";
      export async function load(url, context, next) {
        if (url.endsWith(".sh")) {
          const text = await readFile(new URL(url), "utf8");
          return { format: "module", source: "export default " + JSON.stringify(text) + ";", shortCircuit: true };
        }
        return next(url, context);
      }
    `),
);
