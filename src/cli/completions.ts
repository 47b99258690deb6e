/** `unidesk-ci completions bash|zsh|fish`: small scripts that ask the CLI itself for candidates at each Tab. */
import { parse } from "@optique/core";
import type { Env } from "../env.ts";
import { resolveConfig, requireDispatchTarget } from "../config.ts";
import { fetchRunLogs } from "../runs/read.ts";
import { taskStates } from "../runs/tasks.ts";
import { taskSourceOf } from "../io/render-logs.ts";
import { backendFlags, foldRepeated } from "./common.ts";
import { logsCommand } from "./logs.ts";

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

/** Budget of the one dispatch behind `logs <runId> --file|--task <Tab>`: one attempt, no retry. */
export const COMPLETION_DISPATCH_MS = 3000;

/**
 * `logs <runId|@latest> --file|--task <Tab>`: the run's file paths or pipeline task names from one logs-reader
 * dispatch, only with the run named on the line and a configured backend, within COMPLETION_DISPATCH_MS;
 * nothing at all on any failure (a shell shows no error). `words`: as typed, the last one being completed.
 */
export async function runNameCandidates(words: readonly string[], env: Env): Promise<{ text: string }[]> {
  const flag = words.at(-2);
  if (words[0] !== "logs" || (flag !== "--file" && flag !== "--task")) return [];
  try {
    const parsed = parse(logsCommand(), foldRepeated(words.slice(0, -2)));
    if (!parsed.success) return [];
    const config = await resolveConfig(backendFlags(parsed.value), env);
    const target = { ...requireDispatchTarget(config), requestTimeoutMs: COMPLETION_DISPATCH_MS, maxRetries: 0 };
    const logs = await fetchRunLogs(target, { runsRoot: config.runsRoot, runId: parsed.value.runId }, env);
    if (!logs.found) return [];
    const source = taskSourceOf(logs);
    const names = flag === "--file" ? logs.files.map((f) => f.path) : source ? taskStates(source).map((t) => t.task) : [];
    return names.filter((n) => n.startsWith(words.at(-1)!)).map((text) => ({ text }));
  } catch {
    return [];
  }
}
