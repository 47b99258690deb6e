/** A bare origin and an operator clone holding a deploy.json, for the bench and tests (origin is a local path). */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The manifest's repository; the operator clone maps it to the local bare repo with insteadOf. */
export const FIXTURE_REPO = "https://github.com/pikasTech/unidesk";

/** A valid schema-2 deploy.json pointing at scripts/ci/dev-e2e.sh. */
export function fixtureManifest(overrides: { timeoutMs?: number; services?: unknown[] } = {}): Record<string, unknown> {
  return { schemaVersion: 2, environments: { dev: { ci: { repo: FIXTURE_REPO, scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: overrides.timeoutMs ?? 1_800_000 }, services: overrides.services ?? [] } } };
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=fixture", "-c", "user.email=fixture@localhost", "-c", "init.defaultBranch=master", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** Options for {@link makeOperatorRepo}. */
export interface FixtureOptions {
  /** deploy.json contents (a string is written as is). @default fixtureManifest() */
  deploy?: unknown;
  /** Extra files by repo path. @default a runner at scripts/ci/dev-e2e.sh */
  files?: Record<string, string>;
}

/** Creates `<dir>/origin.git` and `<dir>/operator` (origin configured as {@link FIXTURE_REPO}); returns the operator clone. */
export function makeOperatorRepo(dir: string, options: FixtureOptions = {}): string {
  const seed = join(dir, "seed");
  const deploy = options.deploy ?? fixtureManifest();
  const files: Record<string, string> = {
    "deploy.json": typeof deploy === "string" ? deploy : JSON.stringify(deploy, null, 2) + "\n",
    ...(options.files ?? { "scripts/ci/dev-e2e.sh": "#!/usr/bin/env bash\nexit 0\n" }),
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(seed, path)), { recursive: true });
    writeFileSync(join(seed, path), text);
  }
  git(dir, "init", "-q", "seed");
  git(seed, "add", "-A");
  git(seed, "commit", "-qm", "seed");
  git(dir, "clone", "-q", "--bare", "seed", "origin.git");
  git(dir, "clone", "-q", "origin.git", "operator");
  const operator = join(dir, "operator");
  git(operator, "remote", "set-url", "origin", FIXTURE_REPO);
  git(operator, "config", `url.${join(dir, "origin.git")}.insteadOf`, FIXTURE_REPO);
  return operator;
}
