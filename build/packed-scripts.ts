/**
 * esbuild plugin: the host scripts (src/host/*.sh) travel in the bundle as ONE raw-deflated blob, inflated once
 * when the bundle loads (well under a millisecond); each `.sh` import becomes its entry of it, without its full-line
 * comments (build/strip-comments.mjs, as tests load it). Bash compresses ~3× and the scripts share their includes,
 * so the bundle is ~25 KB smaller (docs/building.md).
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { deflateRawSync } from "node:zlib";
import type { Plugin } from "esbuild";
import { stripComments } from "./strip-comments.mjs";

const BLOB = "unidesk-ci:packed-scripts";

/** Packs every src/host/*.sh into one blob module that the `.sh` imports read from. */
export function packedScripts(hostDir = "src/host"): Plugin {
  return {
    name: "packed-scripts",
    setup(build) {
      let packed = "";
      build.onStart(async () => {
        const names = (await readdir(hostDir)).filter((n) => n.endsWith(".sh")).sort();
        const scripts = Object.fromEntries(await Promise.all(names.map(async (n) => [n, stripComments(await readFile(`${hostDir}/${n}`, "utf8"))] as const)));
        packed = deflateRawSync(JSON.stringify(scripts), { level: 9 }).toString("base64");
      });
      build.onResolve({ filter: /\.sh$/ }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        if (resolve(dirname(path)) !== resolve(hostDir)) return undefined;
        return { path, namespace: "packed-script" };
      });
      build.onLoad({ filter: /.*/, namespace: "packed-script" }, (args) => ({
        contents: `import blob from ${JSON.stringify(BLOB)}; export default blob[${JSON.stringify(basename(args.path))}];`,
        loader: "js",
      }));
      build.onResolve({ filter: new RegExp(`^${BLOB}$`) }, () => ({ path: BLOB, namespace: "packed-blob" }));
      build.onLoad({ filter: /.*/, namespace: "packed-blob" }, () => ({
        contents: `import { inflateRawSync } from "node:zlib"; export default JSON.parse(new TextDecoder().decode(inflateRawSync(Uint8Array.from(atob(${JSON.stringify(packed)}), (c) => c.charCodeAt(0)))));`,
        loader: "js",
      }));
    },
  };
}
