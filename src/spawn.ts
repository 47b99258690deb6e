/** The real Env.spawn (main.ts wires it; command tests run git through it too): no shell, a bounded answer, no secret. */
import { childEnvironment, SpawnOutputError, type Spawn } from "./env.ts";
import { SPAWN_STDOUT_MAX_BYTES } from "./rules.ts";

/**
 * A Spawn whose children get `vars` minus every `UNIDESK_*` variable, every variable holding one of `secrets` and
 * those `dropEnv` names (docs/security.md); each starts only once `secretReads` (resolveConfig reading a token
 * file) settled, so a copy of a token read from a file is never in a child's environment. stdout beyond
 * `maxStdoutBytes` (default SPAWN_STDOUT_MAX_BYTES) kills the child and rejects with a SpawnOutputError: a 600 MB
 * deploy.json is refused, not buffered until the runtime gives up. node:child_process is loaded on first use:
 * --help and --version never pay for it.
 */
export const makeSpawn = (vars: Readonly<Record<string, string | undefined>>, secrets: ReadonlySet<string>, secretReads: readonly Promise<unknown>[]): Spawn => async (cmd, args, options = {}) => {
  const { spawn: spawnChild } = await import("node:child_process");
  await Promise.all(secretReads);
  const max = options.maxStdoutBytes ?? SPAWN_STDOUT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    const child = spawnChild(cmd, args, {
      cwd: options.cwd,
      env: childEnvironment(vars, secrets, options.env, options.dropEnv),
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    if (options.stdin !== undefined) {
      // A child that exits without reading all of it (git refusing the repository) must not crash the CLI.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(options.stdin);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    child.stdout!.on("data", (b: Buffer) => {
      size += b.length;
      if (size <= max) return void out.push(b);
      child.kill("SIGKILL");
      reject(new SpawnOutputError(max));
    });
    let errSize = 0;
    child.stderr!.on("data", (b: Buffer) => void ((errSize += b.length) <= max && err.push(b)));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr: Buffer.concat(err).toString("utf8") });
    });
  });
};
