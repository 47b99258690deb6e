import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { parseRepoUrl, sameRepository } from "../../src/manifest/repo-url.ts";
import { checkRepoUrl, HTTPS_REPO } from "../../src/rules.ts";

const MANIFEST = "https://github.com/pikasTech/unidesk";

describe("sameRepository", () => {
  const same: [string, string][] = [
    [MANIFEST, "https://github.com/pikasTech/unidesk"],
    [MANIFEST, "https://github.com/pikasTech/unidesk.git"],
    [MANIFEST, "https://github.com/pikasTech/unidesk/"],
    [MANIFEST, "https://github.com/pikasTech/unidesk.git/"],
    [MANIFEST, "https://GitHub.COM/pikasTech/unidesk"],
    [MANIFEST, "https://github.com:443/pikasTech/unidesk"],
    [MANIFEST, "https://x-access-token:ghp_abc@github.com/pikasTech/unidesk.git"],
    [MANIFEST, "https://oauth2@github.com/pikasTech/unidesk"],
    [MANIFEST, "git@github.com:pikasTech/unidesk.git"],
    [MANIFEST, "git@github.com:pikasTech/unidesk"],
    [MANIFEST, "git@github.com:/pikasTech/unidesk.git"],
    [MANIFEST, "github.com:pikasTech/unidesk.git"],
    [MANIFEST, "ssh://git@github.com/pikasTech/unidesk.git"],
    [MANIFEST, "ssh://git@github.com:22/pikasTech/unidesk.git"],
    [MANIFEST, "ssh://git@GITHUB.com:2222/pikasTech/unidesk"],
    [MANIFEST, "git+ssh://git@github.com/pikasTech/unidesk.git"],
    [MANIFEST, " https://github.com/pikasTech/unidesk\n"],
    ["https://127.0.0.1:8443/pikasTech/unidesk.git", "https://127.0.0.1:8443/pikasTech/unidesk"],
    ["git@github.com:pikasTech/unidesk.git", "ssh://git@github.com/pikasTech/unidesk"],
  ];
  const different: [string, string][] = [
    [MANIFEST, "https://github.com/pikasTech/unidesk-fork"],
    [MANIFEST, "https://github.com/someone/unidesk"],
    [MANIFEST, "https://gitlab.com/pikasTech/unidesk"],
    [MANIFEST, "https://github.com/pikastech/unidesk"],
    [MANIFEST, "https://github.com/pikasTech/unidesk/extra"],
    [MANIFEST, "git@github.com:pikasTech/other.git"],
    [MANIFEST, "ssh://git@gitlab.com/pikasTech/unidesk.git"],
    [MANIFEST, "/srv/git/pikasTech/unidesk.git"],
    [MANIFEST, "file:///srv/git/pikasTech/unidesk.git"],
    [MANIFEST, "../unidesk"],
    [MANIFEST, ""],
    [MANIFEST, "https://github.com/"],
    ["https://127.0.0.1:8443/pikasTech/unidesk", "https://127.0.0.1:9443/pikasTech/unidesk"],
    ["https://127.0.0.1/pikasTech/unidesk", "https://127.0.0.1:8443/pikasTech/unidesk"],
    // Two URLs judged the same repository: https's default port is 443, not http's 80; `.git` alone is a segment.
    [MANIFEST, "https://github.com:80/pikasTech/unidesk"],
    ["https://github.com:80/pikasTech/unidesk", "https://github.com:443/pikasTech/unidesk"],
    ["http://github.com:443/pikasTech/unidesk", "http://github.com/pikasTech/unidesk"],
    [MANIFEST, "https://github.com/pikasTech/unidesk/.git"],
    [MANIFEST, "https://github.com/pikasTech/unidesk/.git/"],
    [MANIFEST, "git@github.com:pikasTech/unidesk/.git"],
    ["ssh://git@github.com:2222/pikasTech/unidesk", "ssh://git@github.com/pikasTech/unidesk"],
  ];
  for (const [a, b] of same) {
    it(`same: ${JSON.stringify(b)}`, () => {
      assert.equal(sameRepository(a, b), true);
      assert.equal(sameRepository(b, a), true, "symmetric");
    });
  }
  for (const [a, b] of different) {
    it(`different: ${JSON.stringify(b)}`, () => {
      assert.equal(sameRepository(a, b), false);
      assert.equal(sameRepository(b, a), false, "symmetric");
    });
  }
});

describe("the https repo rule (HTTPS_REPO, checkRepoUrl)", () => {
  const valid = [
    MANIFEST,
    "https://github.com/pikasTech/unidesk.git",
    "https://github.com/pikasTech/unidesk/",
    "https://github.com:443/pikasTech/unidesk",
    "https://h.test:1/a",
    "https://h.test:65535/a",
    "https://h.test:9999/a",
    "https://h.test/a~b_c-d.e",
  ];
  const invalid = [
    // A segment may not start with a dot: the rule that keeps out `.git`, `.` and `..` in one ERE.
    "https://github.com/pikasTech/.github",
    "https://h.test/..x/a",
    "https://github.com/pikasTech/unidesk/.git",
    "https://github.com/pikasTech/unidesk/.git/",
    "https://github.com/.git/unidesk",
    "https://github.com/pikasTech/./unidesk",
    "https://github.com/pikasTech/../unidesk",
    "https://github.com/pikasTech/unidesk/..",
    "https://github.com:0/a/b",
    "https://github.com:00443/a/b",
    "https://github.com:65536/a/b",
    "https://github.com:99999/a/b",
    "https://github.com:/a/b",
    "https://github.com",
    "https://github.com/",
    "https://u:p@github.com/a/b",
    "http://github.com/a/b",
    "https://github.com/a b",
    "https://github.com/a;b",
    "https://github.com/a//b",
  ];
  for (const url of valid) it(`valid: ${url}`, () => assert.equal(checkRepoUrl(url), undefined));
  for (const url of invalid) it(`invalid: ${url}`, () => assert.match(checkRepoUrl(url) ?? "(accepted)", /must|port/));

  it("is a POSIX ERE: bash's [[ =~ ]] gives every verdict JavaScript gives", () => {
    const urls = [...valid, ...invalid];
    // The host scripts get the regex source; bash has no lookaheads, \d or lazy quantifiers.
    const ere = HTTPS_REPO.source.replace(/\\\//g, "/");
    assert.doesNotMatch(ere, /\(\?|\\[dDwWsSb]|[*+?}]\?/, "no JS-only syntax");
    const script = 're="$1"; shift; for u in "$@"; do if [[ $u =~ $re ]]; then echo 1; else echo 0; fi; done';
    const verdicts = execFileSync("bash", ["-c", script, "bash", ere, ...urls], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(verdicts, urls.map((u) => (HTTPS_REPO.test(u) ? "1" : "0")));
  });
});

describe("parseRepoUrl", () => {
  it("normalizes host and path", () => {
    assert.deepEqual(parseRepoUrl("git@GitHub.com:pikasTech/unidesk.git"), { scheme: "ssh", host: "github.com", port: undefined, path: "pikasTech/unidesk" });
    assert.deepEqual(parseRepoUrl("https://u:p@example.test:8443/a/b.git/"), { scheme: "https", host: "example.test", port: "8443", path: "a/b" });
    assert.deepEqual(parseRepoUrl("https://example.test:80/a/b"), { scheme: "https", host: "example.test", port: "80", path: "a/b" });
    assert.deepEqual(parseRepoUrl("https://example.test:443/a/b"), { scheme: "https", host: "example.test", port: undefined, path: "a/b" });
    assert.deepEqual(parseRepoUrl("https://example.test/a/.git"), { scheme: "https", host: "example.test", port: undefined, path: "a/.git" });
  });
  it("rejects unsupported schemes", () => {
    assert.equal(parseRepoUrl("ftp://example.test/a/b"), undefined);
  });
});
