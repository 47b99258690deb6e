/**
 * The host scripts as they are sent (docs/building.md#host-scripts): src/host/*.sh keep their comments for readers
 * of the source; what the bundle embeds and tests load (test/text-loader.mjs) is the same text without full-line
 * comments, so the bundle and every dispatch carry only code. Kept: the shebang, `# shellcheck` directives,
 * `# @@…@@` injection lines, `# uci:include` lines and a script's `# unidesk-ci …` title line (it names the script
 * and its doc wherever the text is seen on D601). The scripts have no heredoc, so a line starting with `#`
 * is a bash comment (or a comment of an awk/jq program in a quoted string, which means nothing there either).
 */
export function stripComments(text) {
  return text
    .split("\n")
    .filter((line, i) => !/^\s*#/.test(line) || (i === 0 && line.startsWith("#!")) || /^\s*# (shellcheck |@@|uci:include |unidesk-ci )/.test(line))
    .join("\n");
}
