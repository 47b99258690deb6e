// The output object (src/io/output.ts) alone: which mode each request gets, and what each mode lets through.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { outputFor, outputMode, type OutputRequest } from "../../src/io/output.ts";

/** Every method once, and what reached stdout and stderr. */
function exercise(req: OutputRequest, tty: boolean): { mode: string; human: boolean; out: string; err: string; built: string[] } {
  const env = fakeEnv({ tty });
  const o = outputFor(env, req);
  const built: string[] = [];
  o.event({ event: "resolved", reference: "@latest", runId: "r-1" });
  o.print("printed\n");
  o.note("noted\n");
  o.result(() => (built.push("doc"), { ok: true, runs: [], total: 0 }), () => (built.push("text"), "result text\n"));
  o.document({ ok: true, schemas: [] });
  return { mode: o.mode, human: o.human, out: env.out(), err: env.err(), built };
}

describe("output: one decision per command", () => {
  it("picks the mode from --json, --follow and whether stderr is a terminal", () => {
    const cases: [OutputRequest, boolean, string][] = [
      [{ json: true }, false, "json"],
      [{ json: true }, true, "json"],
      [{ json: true, follow: true }, true, "ndjson"],
      [{ json: false }, true, "tty"],
      [{ json: false, follow: true }, true, "plain"],
      [{ json: false }, false, "plain"],
    ];
    for (const [req, tty, mode] of cases) assert.equal(outputMode(req, { isStderrTTY: tty }), mode, JSON.stringify({ req, tty }));
  });

  it("json: only the documents on stdout, nothing on stderr, the text never built", () => {
    const r = exercise({ json: true }, true);
    assert.equal(r.out, '{"ok":true,"runs":[],"total":0}\n{"ok":true,"schemas":[]}\n');
    assert.equal(r.err, "");
    assert.deepEqual(r.built, ["doc"]);
    assert.equal(r.human, false);
  });

  it("ndjson: the events, then the documents, one per line", () => {
    const r = exercise({ json: true, follow: true }, false);
    assert.deepEqual(r.out.trimEnd().split("\n").map((l) => Object.keys(JSON.parse(l))[0]), ["event", "ok", "ok"]);
    assert.equal(r.err, "");
  });

  for (const [name, tty] of [["tty", true], ["plain", false]] as const) {
    it(`${name}: text on stdout and notes on stderr, no JSON, the document never built`, () => {
      const r = exercise({ json: false }, tty);
      assert.equal(r.mode, name);
      assert.equal(r.out, "printed\nresult text\n");
      assert.equal(r.err, "noted\n");
      assert.deepEqual(r.built, ["text"]);
      assert.equal(r.human, true);
    });
  }
});
