/**
 * The text of a fixed host script. From sources (tests, tsx) a `*.sh` import is its text; in the bundle every
 * script but the launcher is packed into one deflated blob (build/build.ts, ≈ 3× smaller) and a `*.sh` import
 * is only its name there. The blob is inflated once, on the first script rendered; `--help` never pays for it.
 */
import { createRequire } from "node:module";

/** A `*.sh` import: the script's text, or its name among the bundle's packed scripts. */
export type ScriptSource = string | { readonly packed: string };

/** The packed scripts as base64 of deflated JSON `{ name: text }`, injected by esbuild; undefined from sources. */
declare const __UNIDESK_CI_HOST_SCRIPTS__: string | undefined;

let unpacked: Readonly<Record<string, string>> | undefined;

/** The text of a fixed script. */
export function scriptText(source: ScriptSource): string {
  if (typeof source === "string") return source;
  unpacked ??= unpack();
  const text = unpacked[source.packed];
  if (text === undefined) throw new Error(`host script ${source.packed} is not in the bundle`);
  return text;
}

function unpack(): Record<string, string> {
  if (typeof __UNIDESK_CI_HOST_SCRIPTS__ !== "string") throw new Error("no packed host scripts: this is not the bundle");
  // node:zlib is on Node, Deno and Bun alike; loaded here, not at start-up.
  const { inflateRawSync } = createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
  const bytes = Uint8Array.from(atob(__UNIDESK_CI_HOST_SCRIPTS__), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(inflateRawSync(bytes))) as Record<string, string>;
}
