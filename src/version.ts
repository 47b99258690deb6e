/** Version and source commit, injected by esbuild at build time (build/build.ts). */
declare const __UNIDESK_CI_VERSION__: string | undefined;
declare const __UNIDESK_CI_COMMIT__: string | undefined;

/** The package version, or `0.0.0-dev` when running from sources. */
export const VERSION: string = typeof __UNIDESK_CI_VERSION__ === "string" ? __UNIDESK_CI_VERSION__ : "0.0.0-dev";

/** The git commit the bundle was built from (`unknown` from sources or outside git). */
export const COMMIT: string = typeof __UNIDESK_CI_COMMIT__ === "string" ? __UNIDESK_CI_COMMIT__ : "unknown";

/** One line for `--version`: `unidesk-ci 0.1.0 (commit 1a2b3c4…)`. */
export function versionLine(): string {
  return `unidesk-ci ${VERSION} (commit ${COMMIT})`;
}
