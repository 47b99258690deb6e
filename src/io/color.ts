/** Color helpers that return text unchanged when color is off, so render code never branches on it. */
import { ownSequence } from "./terminal.ts";

/** A palette bound to one decision about color. */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

// Marked as the CLI's own: the terminal boundary (io/terminal.ts) escapes every other ESC, whatever the text holds.
const wrap = (on: boolean, open: number, close: number) => (text: string) => (on ? `${ownSequence(`\x1b[${open}m`)}${text}${ownSequence(`\x1b[${close}m`)}` : text);

/** The palette for `color` (decided once in realEnv). */
export function palette(color: boolean): Palette {
  return {
    bold: wrap(color, 1, 22),
    dim: wrap(color, 2, 22),
    green: wrap(color, 32, 39),
    red: wrap(color, 31, 39),
    yellow: wrap(color, 33, 39),
  };
}

/** Aligned `label: value` lines, one per pair, ending with a newline. */
export function keyValueLines(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`).join("");
}
