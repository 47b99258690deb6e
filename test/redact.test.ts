import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { redactSecrets, redactUserinfo, untrustedLine } from "../src/redact.ts";
import { UNTRUSTED_TEXT_MAX_CHARS } from "../src/rules.ts";

describe("redactUserinfo: the whole userinfo of every URL, up to the last @ before the host", () => {
  const cases: [string, string][] = [
    ["https://user:s3cret@github.com/a/b.git", "https://***@github.com/a/b.git"],
    ["https://ghp_token@github.com/a/b", "https://***@github.com/a/b"],
    ["https://alice:p@ssw0rdX@host.test/a/b", "https://***@host.test/a/b"],
    ["https://alice:p@ss@w0rd@host.test", "https://***@host.test"],
    ["http://u:p@w@host.test?q=1", "http://***@host.test?q=1"],
    ["ssh://git:pw@d@github.com/a/b", "ssh://***@github.com/a/b"],
    ["ssh://a@b@github.com/a/b", "ssh://***@github.com/a/b"],
    ["https://github.com/a/b", "https://github.com/a/b"],
    ["ssh://git@github.com/a/b", "ssh://git@github.com/a/b"],
    ["git@github.com:a/b.git", "git@github.com:a/b.git"],
    ["fatal: unable to access 'https://u:pw@h.test/x/': failed", "fatal: unable to access 'https://***@h.test/x/': failed"],
    ["two https://a:b@x.test/ and HTTPS://c:d@e@y.test/z", "two https://***@x.test/ and HTTPS://***@y.test/z"],
  ];
  for (const [input, output] of cases) it(input, () => assert.equal(redactUserinfo(input), output));
});

describe("untrustedLine: one redacted, one-line, bounded text from outside", () => {
  const token = "tok-SECRET-123";
  it("redacts the token everywhere and URL userinfo", () => {
    assert.equal(untrustedLine(`Bearer ${token} at https://x:${token}@h.test/`, [token]), "Bearer *** at https://***@h.test/");
    assert.equal(redactSecrets(`${token}${token}`, [token, ""]), "******");
  });
  it("never lets a line break start a fake second line (LF, CR, NEL, LS, PS, VT, FF)", () => {
    const line = untrustedLine("a\nerror: forged\r\u0085b\u2028c\u2029d\ve\ff", []);
    assert.equal(line, "a error: forged b c d e f");
  });
  it(`is at most ${UNTRUSTED_TEXT_MAX_CHARS} characters, cut after redaction so no part of a secret survives`, () => {
    const long = "x".repeat(UNTRUSTED_TEXT_MAX_CHARS - 3) + token;
    const line = untrustedLine(long, [token]);
    assert.ok(!line.includes("tok-"), line);
    assert.equal(untrustedLine("é".repeat(500)).length, UNTRUSTED_TEXT_MAX_CHARS + 1);
    assert.ok(untrustedLine("é".repeat(500)).endsWith("…"));
  });
});
