/**
 * `npm run demo`: builds the bundle if needed, starts the sandbox, runs the built
 * `dist/unidesk-ci.mjs run-dev-e2e --wait-ms …` and then `logs <runId>`, prints where everything
 * is, and stops cleanly. `--keep` keeps the sandbox directory for inspection.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { startSandbox } from "./sandbox.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const bundle = `${repoRoot}dist/unidesk-ci.mjs`;
const keep = process.argv.includes("--keep");
const waitMs = 120_000;

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

/** Runs a program with inherited output; resolves with its exit code. */
function run(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

// `npm run demo` builds first; started directly, build when the bundle is missing.
if (!existsSync(bundle)) {
  say("dist/unidesk-ci.mjs missing: npm run build");
  if ((await run("npm", ["run", "build"])) !== 0) throw new Error("build failed");
}

say("starting the sandbox (git over HTTPS, egress proxy, D601 over ssh2, backend-core, fake Kubernetes)");
const sb = await startSandbox({ keep });
let exitCode = 1;
try {
  say(`sandbox in ${sb.root}`);
  say(`operator clone ${sb.operatorRepoDir} (origin ${sb.originUrl})`);
  say(`backend-core ${sb.backendUrl}, D601 ssh 127.0.0.1:${sb.d601.port}, egress proxy ${sb.proxyUrl}, kube API 127.0.0.1:${sb.kube?.port}`);
  const env = sb.cliEnv();
  say(`$ unidesk-ci run-dev-e2e --wait-ms ${waitMs}`);
  exitCode = await run(process.execPath, [bundle, "run-dev-e2e", "--wait-ms", String(waitMs)], { cwd: sb.operatorRepoDir, env });
  say(`run-dev-e2e exited ${exitCode}`);
  const runIds = existsSync(sb.runsRoot) ? await readdir(sb.runsRoot) : [];
  for (const runId of runIds) {
    say(`$ unidesk-ci logs ${runId}`);
    const logsCode = await run(process.execPath, [bundle, "logs", runId], { cwd: sb.operatorRepoDir, env });
    say(`logs exited ${logsCode}`);
    say(`run files on D601: ${sb.runsRoot}/${runId}`);
  }
  say(`dispatch calls: ${sb.backend.callCount()}; egress proxy requests: ${sb.proxy.requests.length}; git requests bypassing the proxy: ${sb.requestsBypassingProxy().length}`);
} finally {
  await sb.stop();
  say(keep ? `stopped; files kept in ${sb.root}` : "stopped; sandbox removed (use --keep to keep it)");
}
process.exitCode = exitCode;
