import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { it } from "node:test";

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, "../../.ci/install-kubectl.sh");

it(".ci/install-kubectl.sh keeps a working kubectl on PATH and prints its directory last", async () => {
  const { stdout: which } = await run("bash", ["-c", "command -v kubectl"]);
  const { stdout, stderr } = await run("bash", [SCRIPT]);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.at(-1), dirname(which.trim()));
  assert.match(stderr, /install-kubectl: kubectl ready: .*kubectl \(Client Version: v1\.\d+/);
  const { stdout: version } = await run(join(lines.at(-1)!, "kubectl"), ["version", "--client"]);
  assert.match(version, /Client Version: v1\./);
});
