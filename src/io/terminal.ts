/**
 * The terminal boundary (docs/security.md): every text a human-mode command writes passes
 * {@link guardTerminalText}. Pod log lines, condition messages, reasons, task names, backend, launcher and git
 * text can carry escape sequences (OSC 52 clipboard writes, OSC 8 links, title changes, cursor moves, erases),
 * bare CRs, C1 controls and bidi overrides; they are shown visibly escaped (`\x1b`, `\u202e`). The CLI's own
 * sequences (colours, the progress block's redraw) are written with {@link ownSequence}, which marks their ESC
 * with a per-process random marker no outside text can know; only marked ESCs reach the terminal raw.
 */

/**
 * Replaces ESC in the CLI's own sequences until the boundary; random per process, so outside text cannot forge it.
 * Drawn on the first own ESC: a command that prints none (--help without colour, NO_COLOR, a pipe) never loads
 * WebCrypto (~1 ms of start-up), and while there is no mark no text can carry one.
 */
let escMark: string | undefined;

/** An escape sequence of the CLI's own (`\x1b[31m`), marked so that {@link guardTerminalText} lets it through. */
export const ownSequence = (sequence: string): string =>
  sequence.includes("\x1b") ? sequence.replaceAll("\x1b", (escMark ??= `\uE000${globalThis.crypto.randomUUID()}\uE001`)) : sequence;

/**
 * What hides or disguises text without being a control or a bidi character, shown escaped by every writer of
 * outside text (this boundary, the reports, `--json`): soft hyphen, Hangul fillers, Mongolian vowel separator,
 * zero-width space, word joiner and invisible operators, deprecated format controls, interlinear annotation
 * (a character class body); and the tag characters U+E0000–U+E007F, invisible text of their own (a UTF-16 pair).
 * Zero-width (non-)joiners and variation selectors stay: scripts and emoji need them.
 */
export const HIDDEN_CHARS = "\\xad\\u115f\\u1160\\u180e\\u200b\\u2060-\\u2064\\u206a-\\u206f\\u3164\\uffa0\\ufff9-\\ufffb";
export const TAG_CHAR = "\\udb40[\\udc00-\\udc7f]";
/** The bidi marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), a character class body. */
export const BIDI_CHARS = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";

/**
 * C0 controls but tab and line feed (CR only when not part of CRLF), DEL, C1 controls (U+0080–U+009F, e.g.
 * U+009B CSI), bidi embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
 * U+061C), {@link HIDDEN_CHARS}, tag characters and lone surrogates.
 */
const UNSAFE = new RegExp(`[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f${BIDI_CHARS}${HIDDEN_CHARS}]|${TAG_CHAR}|\\r(?!\\n)|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]`, "g");

/** `\x1b` for C0 and DEL, `\u009b` / `\u202e` above, `\u{e0041}` for a tag character. */
export function visible(char: string): string {
  const code = char.codePointAt(0)!;
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Outside text made harmless for a terminal: every control, C1 and bidi character shown visibly escaped; `\n`, `\t`, CRLF kept. */
export function sanitizeTerminalText(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** What a human-mode writer prints: everything sanitized, then the CLI's own marked sequences turned into ESC. */
export function guardTerminalText(text: string): string {
  return escMark === undefined ? sanitizeTerminalText(text) : text.split(escMark).map(sanitizeTerminalText).join("\x1b");
}
