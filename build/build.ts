/** `npm run build`: bundle src/main.ts into dist/unidesk-ci.mjs (+ the dist/unidesk-ci link) for Node, Deno and Bun. */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { build, type BuildOptions } from "esbuild";
import { lazySegmenter } from "./lazy-segmenter.ts";
import { keptScripts, keptTexts, packed } from "./packed.ts";

/** Where the bundle goes. */
export const BUNDLE = "dist/unidesk-ci.mjs";

function gitCommit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "build", "package.json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return "unknown";
  }
}

// The schemas import host modules, which import their .sh templates: load those as text, as esbuild does.
await import(new URL("../test/text-loader.mjs", import.meta.url).href);
const { generateJsonSchemas } = await import("../src/io/json-schemas.ts");
const { assembleRunner, RUNNER_PATH } = await import("./runner.ts");

// The runner's generated regions, from the rules and the liveness include (build/runner.ts); commit the result.
const runner = readFileSync(RUNNER_PATH, "utf8");
const assembled = assembleRunner(runner);
if (assembled !== runner) {
  writeFileSync(RUNNER_PATH, assembled);
  process.stderr.write(`rewrote the generated regions of ${RUNNER_PATH}: commit it\n`);
}

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
mkdirSync("dist", { recursive: true });
const options: BuildOptions = {
  entryPoints: ["src/main.ts"],
  outfile: BUNDLE,
  bundle: true,
  format: "esm",
  platform: "node",
  target: ["node20", "es2022"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  banner: { js: "#!/usr/bin/env node" },
  define: {
    __UNIDESK_CI_VERSION__: JSON.stringify(pkg.version),
    __UNIDESK_CI_COMMIT__: JSON.stringify(gitCommit()),
    // The JSON Schemas come pre-generated in the packed blob, so the bundle needs no JSON Schema generator (src/cli/schema.ts).
    __UNIDESK_CI_PACKED__: "true",
  },
  // Optique's value-parser module keeps tables built with Object.keys()/new RegExp() at load time even
  // when nothing uses them (esbuild cannot know those calls are pure); they are, so let it drop them (≈5 KB).
  pure: ["Object.keys", "RegExp"],
  logLevel: "warning",
};
// Two builds (build/packed.ts): the first learns which long literals of src/ the bundle keeps, the second packs them.
const schemas = JSON.stringify(generateJsonSchemas());
const marked: string[] = [];
const first = await build({ ...options, write: false, plugins: [lazySegmenter, packed({ schemas, texts: "mark", marked })] });
const texts = keptTexts(first.outputFiles[0]!.text, marked);
// The host scripts go in prepared (src/host/template.ts): only those the kept code reads, includes and rules put in.
const { prepareScript } = await import("../src/host/template.ts");
const hostScripts = readdirSync("src/host").filter((n) => n.endsWith(".sh"));
const scripts = { kept: keptScripts(first.outputFiles[0]!.text, hostScripts), prepare: prepareScript };
const result = await build({ ...options, metafile: Boolean(process.env.UNIDESK_CI_METAFILE), plugins: [lazySegmenter, packed({ schemas, texts, scripts })] });
// UNIDESK_CI_METAFILE=1 npm run build: where the bundle's bytes come from, biggest first (docs/building.md).
if (result.metafile) {
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const rows = Object.entries(inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, Number(process.env.UNIDESK_CI_METAFILE) > 1 ? 1000 : 30);
  for (const [path, { bytesInOutput }] of rows) process.stderr.write(`${String(bytesInOutput).padStart(8)}  ${path}\n`);
}
chmodSync(BUNDLE, 0o755);
rmSync("dist/unidesk-ci", { force: true });
symlinkSync("unidesk-ci.mjs", "dist/unidesk-ci");
process.stderr.write(`built ${BUNDLE} (${statSync(BUNDLE).size} bytes)\n`);
