/** Tests of the sandbox itself dispatch a rendered launcher straight to backend-core, as the CLI would. */
import { renderLauncher } from "../../src/host/launcher.ts";
import type { Sandbox } from "./sandbox.ts";

/** Dispatches a rendered launcher the way the CLI does, with the sandbox's settings. */
export async function launch(sb: Sandbox, runId: string, manifestCommit: string) {
  const command = renderLauncher({
    repo: sb.originUrl,
    manifestCommit,
    scriptPath: "scripts/ci/dev-e2e.sh",
    runId,
    environment: "dev",
    timeoutMs: sb.runTimeoutMs,
    keepNamespace: false,
    workRoot: sb.workRoot,
    runsRoot: sb.runsRoot,
    egressProxy: sb.proxyUrl,
  });
  const res = await fetch(`${sb.backendUrl}/api/dispatch`, {
    method: "POST",
    headers: { authorization: `Bearer ${sb.token}`, "content-type": "application/json" },
    body: JSON.stringify({ providerId: sb.providerId, capability: "host.ssh", command, timeoutMs: 60_000 }),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; exitCode: number; stdout: string; stderr: string } };
}

