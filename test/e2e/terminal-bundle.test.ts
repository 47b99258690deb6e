/** Attack through the real bundle and a real HTTP backend (readers in real bash): a pod log with every escape family reaches no terminal raw, on every runtime. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeBackend } from "../cli/helpers.ts";
import { HOSTILE } from "../io/hostile-text.ts";
import { serveFetch } from "./backend-server.ts";
import { availableRuntimes, runCli } from "./helpers.ts";

const TOKEN = "tok-term-bundle-5";
const RUN = "term-run-1";

describe("the real bundle escapes outside text on the terminal and keeps its own colours", () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof serveFetch>>;
  let vars: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-term-"));
    const runsRoot = join(dir, "runs");
    mkdirSync(join(runsRoot, RUN, "pods"), { recursive: true });
    writeFileSync(join(runsRoot, RUN, "runner.log"), `runner ${Object.values(HOSTILE).join(" ")} ${TOKEN}\n`);
    server = await serveFetch(fakeBackend({ token: TOKEN }).fetch);
    vars = { HOME: dir, UNIDESK_BACKEND_URL: server.url, UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: runsRoot, CLICOLOR_FORCE: "1", NO_COLOR: "" };
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const runtime of availableRuntimes()) {
    it(`${runtime}: logs`, async () => {
      const r = await runCli(runtime, ["logs", RUN], { env: vars });
      assert.equal(r.code, 0, r.stderr);
      const all = r.stdout + r.stderr;
      assert.match(all, /\\x1b\]52;c;/, "OSC 52 shown escaped");
      assert.match(all, /\\u202e/, "bidi shown escaped");
      assert.ok(!all.includes(TOKEN), "the token is redacted");
      const stripped = all.replace(/\x1b\[(1|2|22|31|32|33|39)m/g, "");
      assert.doesNotMatch(stripped, /[\x1b\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/);
    });
  }
});
