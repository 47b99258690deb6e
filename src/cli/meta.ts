/** Top-level `--help` and `--version`: static text, so main.ts answers them without loading the commands. */
import { versionLine } from "../version.ts";
import { formatJson } from "../io/json.ts";

const EXAMPLES = `Examples:
  unidesk-ci doctor                                   check the laptop and D601 before a first run
  unidesk-ci run-dev-e2e                              submit a run and return at once
  unidesk-ci run-dev-e2e --wait-ms 600000             submit and wait up to ten minutes
  unidesk-ci run-dev-e2e --dry-run --run-id demo-1    print the launcher offline, send nothing
  unidesk-ci logs dev-20261127-162626-k3x9a2          status, tasks and logs of a run
  unidesk-ci logs dev-20261127-162626-k3x9a2 -f       stream its lines live until it ends (exit 0/1)
  unidesk-ci report RUN_ID --junit junit.xml          a run as JUnit XML for another CI system
  unidesk-ci runs --limit 5                           the five newest runs and their status
  unidesk-ci validate deploy.json                     check a manifest before pushing
  eval "$(unidesk-ci completions bash)"               shell completion (bash, zsh, fish)
`;

/** The exit-code table, shown in every help page. */
export const EXIT_CODES = `Exit codes:
  0    run succeeded / command ok
  1    run failed (failed, timeout, cancelled, error, lost, or no usable result.json); doctor: a check failed
  2    usage or manifest error (nothing dispatched)
  3    --wait-ms ran out (the run goes on; follow it with logs --follow)
  4    authentication or configuration
  5    backend-core or D601 unreachable, timeout, 5xx, malformed answer
  130  interrupted
  141  stdout or stderr closed by its reader (e.g. | head): the command stopped quietly
`;

const OVERVIEW = `unidesk-ci proves the UniDesk dev desired state (origin/master:deploy.json#environments.dev) with one
smoke e2e run on D601. Configuration: flags > UNIDESK_* environment > $XDG_CONFIG_HOME/unidesk-ci/config.json.

Commands:
  doctor               check the laptop and D601 before a first run (one read-only probe)
  run-dev-e2e          run the dev smoke e2e for origin/master's deploy.json on D601
  logs RUN_ID          a run's status, tasks and logs in one round trip; --follow streams them live
  cancel RUN_ID        cancel a run: its runner cancels the PipelineRun and cleans up
  runs                 recent runs, newest first, with their status
  report RUN_ID        a run as JUnit XML, Markdown and/or one HTML page (--junit/--markdown/--html FILE)
  validate [FILE]      check a deploy.json against the manifest contract
  schema [NAME]        a JSON Schema: deploy.json (default), result.json, each --json document (--list)
  completions SHELL    shell completion script (bash, zsh, fish)

Global: --help, -h (also after a command), --version. Every command takes --json (docs/json.md), --help too.
`;

/** The overview page of `--help`. */
export const OVERVIEW_HELP = `${OVERVIEW}\n${EXAMPLES}\n${EXIT_CODES}`;

/** Output for a top-level `--version`, `--help`, `-h` or `help` alone, else undefined. */
export function metaOutput(args: readonly string[]): string | undefined {
  const [first, ...rest] = args;
  if (first === "--version" || first === "-V") {
    return rest.includes("--json") ? formatJson({ ok: true, version: versionLine().split(" ")[1]!, line: versionLine() }) : versionLine() + "\n";
  }
  if (rest.length === 0 && (first === "--help" || first === "-h" || first === "help")) return OVERVIEW_HELP;
  return undefined;
}
