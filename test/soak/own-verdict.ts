/**
 * The soak's `own-verdict` invariant on the CLI's documents (docs/soak.md): every run id and manifest commit a
 * document names as its own is this run's and the commit submitted. Two places name another run by design and are
 * judged by their own rule: `changes.since` of a failure digest (the newest earlier run that succeeded: another run
 * that did succeed, never the run itself) and the rows of `runs` (every run on the host). Pure: no I/O.
 */

/** What the judge knows besides the document. */
export interface OwnVerdictContext {
  /** The run ids of this run (two for a pair). */
  ids: readonly string[];
  /** The manifest commit every run of the soak submits. */
  commit: string;
  /** Whether the soak saw run `runId` end `succeeded`. */
  succeeded(runId: string): boolean;
}

type Node = unknown;

/** Why the output of CLI `args` names another run's verdict or another commit (empty when it names only its own). */
export function ownVerdictProblems(args: readonly string[], stdout: string, ctx: OwnVerdictContext): string[] {
  const cmd = args.join(" ");
  const lister = args[0] === "runs";
  const problems: string[] = [];
  // Every commit anywhere (documents or text): the soak submits one commit, so `since`'s is the same.
  for (const m of stdout.matchAll(/"manifestCommit":"([0-9a-f]{40})"/g)) {
    if (m[1] !== ctx.commit) problems.push(`${cmd} named commit ${m[1]}`);
  }
  const since = (node: Node, owner: string | undefined) => {
    const id = (node as { runId?: unknown } | null)?.runId;
    if (typeof id !== "string") return;
    if (id === owner) problems.push(`${cmd}: changes.since of ${owner} names the run itself`);
    // A row of `runs` compares with the run before it, whatever its end; a digest with the last green run.
    else if (!lister && !ctx.succeeded(id)) problems.push(`${cmd}: changes.since names ${id}, a run the soak did not see succeed`);
  };
  const visit = (node: Node, parentKey: string | undefined, owner: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const x of node) visit(x, parentKey, owner);
      return;
    }
    if (node === null || typeof node !== "object") return;
    const obj = node as Record<string, unknown>;
    const own = typeof obj["runId"] === "string" ? (obj["runId"] as string) : owner;
    for (const [key, value] of Object.entries(obj)) {
      if (key === "since" && parentKey === "changes") since(value, own);
      else if (key === "runId" && typeof value === "string" && !lister && !ctx.ids.includes(value)) problems.push(`${cmd} named run ${value}`);
      else visit(value, key, own);
    }
  };
  for (const line of stdout.split("\n")) {
    let doc: Node;
    try {
      doc = JSON.parse(line);
    } catch {
      continue; // text output (logs without --json): no document
    }
    visit(doc, undefined, undefined);
  }
  return problems;
}
