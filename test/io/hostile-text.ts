/** Text from outside that tries to drive the operator's terminal: one per escape family (docs/security-cli.md). */

/** One hostile text per escape family. */
export const HOSTILE: Record<string, string> = {
  "OSC 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
  "OSC 8 link": "\x1b]8;;https://evil.test/\x1b\\click\x1b]8;;\x1b\\",
  "OSC 0 title": "\x1b]0;pwned\x07",
  "CSI cursor up": "\x1b[2A",
  "CSI erase line": "\x1b[2K",
  "SGR forged": "\x1b[32mok\x1b[0m",
  "bare CR": "fake\rok",
  "C1 CSI": "\u009b2J",
  "C1 OSC": "\u009d0;t\u009c",
  "bidi override": "\u202eevil\u202c",
  "bidi isolate": "\u2066x\u2069",
  "DEL and BEL": "\x7f\x07",
};
