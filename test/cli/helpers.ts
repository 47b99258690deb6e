/** In-process command tests: a real spawn for git, and a fake backend whose readers run in real bash. */
import type { Env, Spawn } from "../../src/env.ts";
import { runMain } from "../../src/cli/program.ts";
import { HttpMock, REST } from "../http-mock.ts";
import { checkJsonRun } from "../io/json-check.ts";
import { makeSpawn } from "../../src/spawn.ts";
import { runProcess } from "../support/spawn.ts";

/** The real Spawn (git and bash run for real in command tests), as main.ts wires it. */
export const realSpawn: Spawn = makeSpawn(process.env, new Set(), []);

/** One dispatch the fake backend received (token checked, then dropped). */
export interface Dispatched {
  providerId: string;
  capability: string;
  command: string;
  timeoutMs: number;
  kind: "launcher" | "watch" | "logs" | "cancel" | "runs";
}

/** Options for {@link fakeBackend}. */
export interface FakeBackendOptions {
  token: string;
  /** The launcher's answer; default: started. */
  launcherState?: "started" | "duplicate";
  /** Called before each watch-reader answer with its 1-based number, to move the run along on "disk". */
  beforeAnswer?: (n: number) => void;
}

/**
 * The dispatch contract on the httpmock registry (test/http-mock.ts): every `POST /api/dispatch` is answered,
 * launchers with a canned state line, readers and cancel by running them in real bash.
 */
export function fakeBackend(options: FakeBackendOptions) {
  const received: Dispatched[] = [];
  let answers = 0;
  const mock = new HttpMock().registerEvery(REST("POST", "/api/dispatch"), async (req) => {
    if (req.headers.get("authorization") !== `Bearer ${options.token}`) return Response.json({ ok: false, error: { code: "unauthorized", message: "bad token" } }, { status: 401 });
    const body = JSON.parse(req.body) as Omit<Dispatched, "kind">;
    const kind = (["watch", "logs", "cancel", "runs"] as const).find((k) => body.command.includes(`unidesk-ci-${k}`)) ?? "launcher";
    received.push({ ...body, kind });
    if (kind === "launcher") {
      const runId = /^UCI_RUN_ID='([^']+)'$/m.exec(body.command)?.[1];
      const resultDir = /^UCI_RUNS_ROOT='([^']+)'$/m.exec(body.command)?.[1] + "/" + runId;
      const line = JSON.stringify({ runId, state: options.launcherState ?? "started", resultDir });
      return Response.json({ ok: true, exitCode: 0, stdout: line + "\n", stderr: "", durationMs: 5 });
    }
    if (kind === "watch") options.beforeAnswer?.(++answers);
    const out = await runProcess("bash", ["-c", body.command]);
    // The watch reader waited in real time; a fake clock must see that time pass too (or a deadline never comes).
    const waited = /^waited\t(\d+)$/m.exec(out.stdout);
    if (kind === "watch" && waited && clock) await clock.sleep(Number(waited[1]));
    return Response.json({ ok: true, exitCode: out.code ?? 1, stdout: out.stdout, stderr: out.stderr, durationMs: 5 });
  });
  let clock: Pick<Env, "sleep"> | undefined;
  /** Lets `env`'s (fake) clock advance by each watch answer's real wait on the "host"; returns env. */
  const tie = <E extends Pick<Env, "sleep">>(env: E): E => ((clock = env), env);
  return { fetch: mock.fetch, received, tie, mock };
}

/** Runs the CLI as main.ts does (errors reported, the exit code returned); a `--json` run must print one valid document (test/io/json-check.ts). */
export async function runMainChecked(args: string[], env: Env & { out(): string }): Promise<number> {
  const code = await runMain(args, env);
  checkJsonRun(args, { code, stdout: env.out() });
  return code;
}
