/** `unidesk-ci completions bash|zsh|fish`: small scripts that ask the CLI itself for candidates at each Tab. */

/** Shells with a completion script. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;
/** One of {@link COMPLETION_SHELLS}. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** The script for `shell`; candidates come from `<program> completions <shell> --complete -- <words…>`. */
export function completionScript(shell: CompletionShell, program: string): string {
  const callback = `${program} completions ${shell} --complete --`;
  switch (shell) {
    case "bash":
      return `# bash completion for ${program}; load with: eval "$(${program} completions bash)"
_unidesk_ci_complete() {
  local IFS=$'\\n'
  local words=("\${COMP_WORDS[@]:1:COMP_CWORD}")
  # shellcheck disable=SC2207
  COMPREPLY=($(${callback} "\${words[@]}" 2>/dev/null))
}
complete -o default -F _unidesk_ci_complete ${program}
`;
    case "zsh":
      return `#compdef ${program}
# zsh completion for ${program}; load with: eval "$(${program} completions zsh)"
_unidesk_ci_complete() {
  local -a candidates
  candidates=("\${(@f)$(${callback} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  _describe '${program}' candidates
}
compdef _unidesk_ci_complete ${program}
`;
    case "fish":
      return `# fish completion for ${program}; load with: ${program} completions fish | source
complete -c ${program} -f -a '(${callback} (commandline -opc)[2..-1] (commandline -ct))'
`;
  }
}

/** Candidate lines in the shell's format: bash plain, zsh `value:description`, fish `value<TAB>description`. */
export function renderSuggestions(shell: CompletionShell, candidates: readonly { text: string; description?: string }[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of candidates) {
    if (seen.has(c.text)) continue;
    seen.add(c.text);
    if (shell === "bash" || !c.description) lines.push(shell === "zsh" ? c.text.replaceAll(":", "\\:") : c.text);
    else if (shell === "zsh") lines.push(`${c.text.replaceAll(":", "\\:")}:${c.description}`);
    else lines.push(`${c.text}\t${c.description}`);
  }
  return lines.map((l) => l + "\n").join("");
}
