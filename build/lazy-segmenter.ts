/** esbuild plugin: Optique builds an Intl.Segmenter when its module loads (~12 ms of ICU set-up on every start); make it lazy. */
import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";

const EAGER = 'const segmenter = new Intl.Segmenter(void 0, { granularity: "grapheme" });';
// Same object on first use: only measuring text (help and error formatting) pays for it.
const LAZY = 'let segmenterInstance; const segmenter = { segment: (text) => (segmenterInstance ??= new Intl.Segmenter(void 0, { granularity: "grapheme" })).segment(text) };';

/** Rewrites the one eager line of @optique/core/dist/displaywidth.js; fails the build if Optique changed it. */
export const lazySegmenter: Plugin = {
  name: "lazy-segmenter",
  setup(build) {
    build.onLoad({ filter: /@optique[\\/]core[\\/]dist[\\/]displaywidth\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes(EAGER)) throw new Error(`${args.path}: the Intl.Segmenter line changed; update build/lazy-segmenter.ts`);
      return { contents: source.replace(EAGER, LAZY), loader: "js" };
    });
  },
};
