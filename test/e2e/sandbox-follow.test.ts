import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { lineText } from "../../src/io/render-follow.ts";
import { scriptedTasks } from "../kube/fake-tekton.ts";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, show, startCli, sharedE2e, type LiveCli } from "./sandbox-helpers.ts";

/**
 * The live view through the whole sandbox: `logs --follow`, `run-dev-e2e --follow` and `--wait-ms` against runs whose
 * tasks print a line every 200 ms. Lines must reach the CLI before the run ends (arrival order against result.json's
 * mtime), and what was followed must equal the saved logs at the end — no line lost or repeated across answers, through
 * answers cut by the cap (a 600 KB line) and binary content. The cases follow runs of their own (own run ids, no
 * dispatch counts), so they share one sandbox and run at once: most of each is waiting for its run.
 */
describe("e2e: following a run live", { concurrency: true }, () => {
  const e2e = sharedE2e();
  const TASKS = ["check-inputs", "smoke-namespace", "report"];

  /** Submits a run whose tasks print `lines` lines 200 ms apart (plus `extra`), without waiting. */
  async function submit(runId: string, extra: Parameters<typeof scriptedTasks>[0] = {}): Promise<void> {
    e2e().sb.kube!.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 6, intervalMs: 200, ...extra }) });
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", runId]);
    assert.equal(r.code, 0, show(r));
  }

  /** Starts the CLI and stamps every stdout line with the time it arrived. */
  function stamped(args: string[]): LiveCli & { lines: { at: number; text: string }[] } {
    const live = startCli(e2e(), args);
    const lines: { at: number; text: string }[] = [];
    let partial = "";
    live.child.stdout!.on("data", (s: string) => {
      const parts = (partial + s).split("\n");
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at: Date.now(), text });
    });
    return Object.assign(live, { lines });
  }

  const resultWrittenAt = (runId: string) => statSync(join(e2e().sb.runsRoot, runId, "result.json")).mtimeMs;
  const podFiles = (runId: string) => readdirSync(join(e2e().sb.runsRoot, runId, "pods")).map((f) => `pods/${f}`);
  const saved = (runId: string, path: string) => readFileSync(join(e2e().sb.runsRoot, runId, path));

  it("logs --follow: every line with its source, before the run ends; the followed lines equal the saved logs; exit 0", async () => {
    const runId = "e2e-follow-1";
    let live: ReturnType<typeof stamped> | undefined;
    const firstLine = "[check-inputs/check-inputs] [check-inputs] line 1 of 6";
    // smoke-namespace ends only once the CLI showed it running, and the last task only once the CLI showed the
    // first task's first line: however slow the machine, both are seen before the run ends.
    await submit(runId, {
      endsWhen: {
        "smoke-namespace": () => /^\[\d+s\] task smoke-namespace running$/m.test(live?.stderr() ?? ""),
        report: () => live?.lines.some((l) => l.text.startsWith(firstLine)) ?? false,
      },
    });
    live = stamped(["logs", runId, "--follow"]);
    const r = await live.done;
    assert.equal(r.code, 0, show(r));
    const endAt = resultWrittenAt(runId);
    const first = live.lines.find((l) => l.text.startsWith(firstLine));
    assert.ok(first, show(r));
    assert.ok(first.at < endAt, "the first task's first line arrived before result.json was written");
    assert.match(r.stdout, /\n\nstatus: +succeeded\n/);
    assert.match(r.stderr, /^\[\d+s\] task smoke-namespace running$/m);
    // Per source, the followed lines are exactly the saved file's lines, in order, none lost or repeated.
    const followed = (source: string) => live.lines.filter((l) => l.text.startsWith(`[${source}] `)).map((l) => l.text.slice(source.length + 3));
    for (const path of podFiles(runId)) {
      const [, pod, container] = /^pods\/([^_]+)_(.+)\.log$/.exec(path)!;
      const task = TASKS.find((t) => pod === `e2e-${runId}-${t}-pod`);
      const source = task ? `${task}/${container!.replace(/^step-/, "")}` : `${pod}/${container}`;
      const expected = saved(runId, path).toString("utf8").replace(/\n$/, "").split("\n");
      assert.deepEqual(followed(source), expected, `${path} as [${source}]`);
    }
    // runner.log goes on after result.json (its last words): what was followed is its beginning.
    const runner = followed("runner").join("\n");
    assert.ok(runner.length > 0 && saved(runId, "runner.log").toString("utf8").startsWith(runner), "runner.log followed as its prefix");
  });

  it("--json through a 600 KB line (answers cut by the cap) and binary content: the events rebuild each saved log byte for byte", async () => {
    const runId = "e2e-follow-2";
    await submit(runId, { binary: true, longLineBytes: 600_000, lines: 3 });
    const r = await cli(e2e(), ["logs", runId, "--follow", "--json"]);
    assert.equal(r.code, 0, show(r).slice(0, 4000));
    const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
    const rebuilt = new Map<string, Buffer[]>();
    for (const d of docs.filter((d) => d.event === "line")) {
      const bytes = Buffer.from(d.content, d.encoding === "base64" ? "base64" : "utf8");
      rebuilt.set(d.path, [...(rebuilt.get(d.path) ?? []), bytes, Buffer.from(d.eol ? "\n" : "")]);
    }
    const answers = docs.at(-1)!.polls as number;
    assert.ok(answers >= 4, `${answers} answers`);
    for (const path of podFiles(runId)) assert.deepEqual(Buffer.concat(rebuilt.get(path) ?? []), saved(runId, path), path);
    assert.ok(docs.some((d) => d.event === "line" && d.encoding === "base64"), "the binary line travels as base64");
    assert.ok(docs.some((d) => d.event === "line" && d.content.length === 600_000 && d.eol), "the long line arrives whole");
    assert.deepEqual(docs.filter((d) => d.event === "task" && d.state === "succeeded").map((d) => d.task), TASKS);
    assert.deepEqual([docs.at(-1)!.ok, docs.at(-1)!.event, docs.at(-1)!.result.status], [true, "result", "succeeded"]);

    // Human output of the same run, with the binary line escaped, never raw.
    const text = await cli(e2e(), ["logs", runId, "--follow"]);
    assert.equal(text.code, 0);
    const binaryLine = saved(runId, `pods/e2e-${runId}-smoke-namespace-pod_step-smoke-namespace.log`).toString("latin1").split("\n").find((l) => l.startsWith("bin:"))!;
    assert.ok(text.stdout.includes(`[smoke-namespace/smoke-namespace] ${lineText(Buffer.from(binaryLine, "latin1"))}\n`), "binary line escaped");
    assert.ok(!text.stdout.includes("\u0000"), "no raw NUL on stdout");
  });

  it("--wait-ms shows task changes as they happen, before the run ends", async () => {
    const runId = "e2e-follow-3";
    let live: LiveCli | undefined;
    // check-inputs ends only once the CLI showed it running (however slow the machine, the change is seen).
    const shown = () => /^\[\d+s\] task check-inputs running$/m.test(live?.stderr() ?? "");
    e2e().sb.kube!.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 6, intervalMs: 200, endsWhen: { "check-inputs": shown } }) });
    live = startCli(e2e(), ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    const seen: { at: number; text: string }[] = [];
    live.child.stderr!.on("data", (s: string) => seen.push(...s.split("\n").filter(Boolean).map((text) => ({ at: Date.now(), text }))));
    const r = await live.done;
    assert.equal(r.code, 0, show(r));
    const started = seen.find((l) => /^\[\d+s\] task check-inputs running$/.test(l.text));
    assert.ok(started && started.at < resultWrittenAt(runId), show(r));
    assert.match(r.stderr, /^\[\d+s\] task report succeeded \(\d+s\)$/m);
  });

  it("exit codes: 1 for a failed run, 3 when --wait-ms runs out (the run goes on), 130 on Ctrl-C (with a hint to resume)", async () => {
    const failed = "e2e-follow-fail";
    await submit(failed, { failTask: "smoke-namespace" });
    const f = await cli(e2e(), ["logs", failed, "-f"]);
    assert.equal(f.code, 1, show(f));
    assert.match(f.stdout, /^status: +failed$/m);
    assert.match(f.stderr, /task smoke-namespace failed/);

    const slow = "e2e-follow-slow";
    // Its last task ends only after the Ctrl-C below: the bounded follow runs out and the interrupted one is
    // interrupted while the run goes on, however slow the machine.
    let interrupted: Awaited<LiveCli["done"]> | undefined;
    await submit(slow, { lines: 12, endsWhen: { report: () => interrupted !== undefined } });
    const bounded = await cli(e2e(), ["logs", slow, "--follow", "--wait-ms", "1500"]);
    assert.equal(bounded.code, 3, show(bounded));
    assert.match(bounded.stderr, /gave up following after \S+; run e2e-follow-slow was not cancelled and goes on\nhint: resume following with: unidesk-ci logs e2e-follow-slow --follow/);

    const live = stamped(["logs", slow, "--follow"]);
    await until("line 2 of 12 followed", () => live.lines.some((l) => l.text.includes("line 2 of 12")));
    live.child.kill("SIGINT");
    interrupted = await live.done;
    assert.equal(interrupted.code, 130, show(interrupted));
    assert.match(interrupted.stderr, /stopped following run e2e-follow-slow, which goes on on the host\nhint: resume following with: unidesk-ci logs e2e-follow-slow --follow/);
    assert.equal((await e2e().sb.waitForResult(slow)).status, "succeeded", "Ctrl-C stopped the following, not the run");
  });

  it("run-dev-e2e --follow --json: the submitted event first, then the run's events, the result last", async () => {
    const runId = "e2e-follow-submit";
    e2e().sb.kube!.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 2, intervalMs: 200 }) });
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", runId, "--follow", "--json"]);
    assert.equal(r.code, 0, show(r));
    const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual([docs[0].event, docs[0].runId, docs[0].state], ["submitted", runId, "started"]);
    assert.ok(docs.some((d) => d.event === "line" && d.source === "report/report"));
    assert.deepEqual([docs.at(-1).event, docs.at(-1).ok, docs.at(-1).result.runId], ["result", true, runId]);
  });
});
