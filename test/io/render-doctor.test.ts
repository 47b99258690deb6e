import { guardTerminalText } from "../../src/io/terminal.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderDoctor } from "../../src/io/render-doctor.ts";

const checks = [
  { id: "git-clone", ok: true, detail: "/work/unidesk is a git work tree" },
  { id: "host.tool.jq", ok: false, detail: "jq not found on PATH (/usr/bin:/bin)", hint: "install jq on D601 for the dispatch user (apt-get install -y jq)" },
  { id: "host.namespace", ok: false, detail: "not checked: the API server does not answer", hint: "fix host.kube-api first" },
];

describe("renderDoctor", () => {
  it("words, aligned ids, the hint under a failure only, and the count", () => {
    assert.equal(
      renderDoctor(checks, { color: false }),
      [
        "ok    git-clone       /work/unidesk is a git work tree",
        "FAIL  host.tool.jq    jq not found on PATH (/usr/bin:/bin)",
        "                      hint: install jq on D601 for the dispatch user (apt-get install -y jq)",
        "skip  host.namespace  not checked: the API server does not answer",
        "",
        "3 checks: 1 ok, 1 failed, 1 not checked",
        "",
      ].join("\n"),
    );
  });

  it("colors only when asked, and all green reads as such", () => {
    const green = guardTerminalText(renderDoctor([checks[0]!], { color: true }));
    assert.match(green, /\x1b\[32mok {2}\x1b\[39m/);
    assert.match(green, /\x1b\[32m1 checks: 1 ok, 0 failed\x1b\[39m\n$/);
    assert.doesNotMatch(renderDoctor(checks, { color: false }), /\x1b/);
  });
});
