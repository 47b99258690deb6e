import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dispatchFailureSchema, dispatchRequestBody, dispatchRequestSchema, dispatchSuccessSchema, dispatchUrl, redactedRequest } from "../../src/dispatch/wire.ts";

describe("dispatch wire format", () => {
  it("builds the request body of docs/dispatch.md", () => {
    const body = dispatchRequestBody("D601", "bash script", 60_000);
    assert.deepEqual(body, { providerId: "D601", capability: "host.ssh", command: "bash script", timeoutMs: 60_000 });
    assert.ok(dispatchRequestSchema.safeParse(body).success);
    assert.ok(!dispatchRequestSchema.safeParse(dispatchRequestBody("D601", "x", 60_001)).success, "over the host.ssh budget");
  });

  it("joins the endpoint onto the base URL, keeping a path prefix", () => {
    assert.equal(dispatchUrl("https://b.example"), "https://b.example/api/dispatch");
    assert.equal(dispatchUrl("https://b.example/"), "https://b.example/api/dispatch");
    assert.equal(dispatchUrl("https://b.example/core//"), "https://b.example/core/api/dispatch");
  });

  it("parses success and failure answers, tolerating extra fields", () => {
    assert.ok(dispatchSuccessSchema.safeParse({ ok: true, exitCode: 0, stdout: "", stderr: "", durationMs: 1, host: "d601" }).success);
    assert.ok(!dispatchSuccessSchema.safeParse({ ok: true, exitCode: 0.5, stdout: "", stderr: "", durationMs: 1 }).success);
    assert.ok(!dispatchSuccessSchema.safeParse({ ok: true, exitCode: 0, stdout: null, stderr: "", durationMs: 1 }).success);
    assert.ok(dispatchFailureSchema.safeParse({ ok: false, error: { code: "forbidden", message: "no" } }).success);
    assert.ok(!dispatchFailureSchema.safeParse({ ok: false, error: "no" }).success);
  });

  it("redacts the token in the request shown by --dry-run --json", () => {
    const body = dispatchRequestBody("D601", "launcher", 60_000);
    const shown = redactedRequest("https://b.example", body);
    assert.deepEqual(shown, {
      method: "POST",
      url: "https://b.example/api/dispatch",
      headers: { Authorization: "Bearer ***", "Content-Type": "application/json", Accept: "application/json" },
      body,
    });
    assert.equal(redactedRequest(undefined, body).url, null);
  });
});
