/** In-process command tests: a real spawn for git, and a fake backend whose readers run in real bash. */
import { execFile, spawn as spawnChild } from "node:child_process";
import type { Env, Spawn } from "../../src/env.ts";
import { runMain } from "../../src/cli/program.ts";
import { checkJsonRun } from "../io/json-check.ts";

/** A real Spawn (git and bash run for real in command tests). */
export const realSpawn: Spawn = (cmd, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawnChild(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr });
    });
  });

/** One dispatch the fake backend received (token checked, then dropped). */
export interface Dispatched {
  providerId: string;
  capability: string;
  command: string;
  timeoutMs: number;
  kind: "launcher" | "status" | "watch" | "logs" | "cancel" | "runs";
}

/** Options for {@link fakeBackend}. */
export interface FakeBackendOptions {
  token: string;
  /** The launcher's answer; default: started. */
  launcherState?: "started" | "duplicate";
  /** Called before each watch-reader answer with its 1-based number, to move the run along on "disk". */
  beforeAnswer?: (n: number) => void;
}

/** A fetch that implements the dispatch contract: launchers get a canned state line, readers and cancel run in real bash. */
export function fakeBackend(options: FakeBackendOptions) {
  const received: Dispatched[] = [];
  let answers = 0;
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    if (!url.endsWith("/api/dispatch")) return new Response("not found", { status: 404 });
    const auth = new Headers(init?.headers).get("authorization");
    if (auth !== `Bearer ${options.token}`) return Response.json({ ok: false, error: { code: "unauthorized", message: "bad token" } }, { status: 401 });
    const body = JSON.parse(String(init?.body)) as Omit<Dispatched, "kind">;
    const kind = (["status", "watch", "logs", "cancel", "runs"] as const).find((k) => body.command.includes(`unidesk-ci-${k}`)) ?? "launcher";
    received.push({ ...body, kind });
    if (kind === "launcher") {
      const runId = /^UCI_RUN_ID='([^']+)'$/m.exec(body.command)?.[1];
      const resultDir = /^UCI_RUNS_ROOT='([^']+)'$/m.exec(body.command)?.[1] + "/" + runId;
      const line = JSON.stringify({ runId, state: options.launcherState ?? "started", resultDir });
      return Response.json({ ok: true, exitCode: 0, stdout: line + "\n", stderr: "", durationMs: 5 });
    }
    if (kind === "watch") options.beforeAnswer?.(++answers);
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile("bash", ["-c", body.command], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    // The watch reader waited in real time; a fake clock must see that time pass too (or a deadline never comes).
    const waited = /^waited\t(\d+)$/m.exec(out.stdout);
    if (kind === "watch" && waited && clock) await clock.sleep(Number(waited[1]));
    return Response.json({ ok: true, exitCode: out.code, stdout: out.stdout, stderr: out.stderr, durationMs: 5 });
  }) as typeof fetch;
  let clock: Pick<Env, "sleep"> | undefined;
  /** Lets `env`'s (fake) clock advance by each watch answer's real wait on the "host"; returns env. */
  const tie = <E extends Pick<Env, "sleep">>(env: E): E => ((clock = env), env);
  return { fetch: fetchFn, received, tie };
}

/** Runs the CLI as main.ts does (errors reported, the exit code returned); a `--json` run must print one valid document (test/io/json-check.ts). */
export async function runMainChecked(args: string[], env: Env & { out(): string }): Promise<number> {
  const code = await runMain(args, env);
  checkJsonRun(args, { code, stdout: env.out() });
  return code;
}
