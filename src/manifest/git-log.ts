/**
 * The subjects of the manifest commits between the last green run and a failed one, from the operator's clone
 * (`git log old..new -- deploy.json`, never a fetch). One small git call through the manifest loader's raw reading
 * (makeGit + GIT_READ_ENV: no replace objects, grafts, hooks or outside config), without mailmap, signatures or colour.
 */
import type { Env } from "../env.ts";
import { CHANGES_COMMITS_MAX, FULL_SHA } from "../rules.ts";
import type { RunChanges } from "../runs/changes.ts";
import { CLONE_READ, GIT_READ_ENV, makeGit } from "./load.ts";

/**
 * The commits after `from` up to `to` that touched deploy.json, oldest first (at most CHANGES_COMMITS_MAX, the
 * newest kept), or null when the clone at `repoDir` does not have both commits or git cannot run.
 */
export async function manifestCommitLog(repoDir: string, from: string, to: string, env: Env): Promise<{ sha: string; subject: string }[] | null> {
  if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) return null;
  const args = ["-c", "log.showSignature=false", "log", "--no-decorate", "--no-color", "--no-mailmap", `--max-count=${CHANGES_COMMITS_MAX}`, "--format=%H%x09%s", `${from}..${to}`, "--", "deploy.json"];
  let out;
  try {
    out = await makeGit(repoDir, env, CLONE_READ)(args, GIT_READ_ENV);
  } catch {
    return null;
  }
  if (out.code !== 0) return null;
  return out.stdout
    .split("\n")
    .flatMap((line) => {
      const m = /^([0-9a-f]{40})\t(.*)$/.exec(line);
      return m ? [{ sha: m[1]!, subject: m[2]! }] : [];
    })
    .reverse();
}

/** `changes` with `commits` filled from the clone at `repoDir` when it has both manifest commits (else left null). */
export async function addCommitSubjects(changes: RunChanges, toCommit: string | null, repoDir: string, env: Env): Promise<RunChanges> {
  const from = changes.since?.manifestCommit;
  if (!from || !toCommit || from === toCommit) return changes;
  return { ...changes, commits: await manifestCommitLog(repoDir, from, toCommit, env) };
}
