/** Attack: duplicate keys hide what one reader sees from another (JSON.parse keeps the last). Refused anywhere, exit 2, the path named. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManifestError } from "../../src/errors.ts";
import { fakeEnv } from "../../src/env.ts";
import { findDuplicateKey } from "../../src/json-text.ts";
import { parseManifestText } from "../../src/manifest/load.ts";
import { runMain } from "../../src/cli/program.ts";
import { goodManifest } from "./git-fixture.ts";

const good = JSON.stringify(goodManifest());
/** `good` with `extra` spliced in as the first members of environments.dev.ci. */
const withCi = (extra: string) => good.replace('"ci":{', `"ci":{${extra},`);

describe("findDuplicateKey", () => {
  const cases: [string, string, { key: string; path: (string | number)[] } | undefined][] = [
    ["none", '{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}', undefined],
    ["root", '{"a":1,"a":2}', { key: "a", path: [] }],
    ["decoded equal", '{"a":1,"\\u0061":2}', { key: "a", path: [] }],
    ["in an array element", '{"x":[{"k":1},{"k":1,"k":2}]}', { key: "k", path: ["x", 1] }],
    ["keys inside strings are not keys", '{"a":"{\\"b\\":1,\\"b\\":2}","c":"\\\\","d":1}', undefined],
    ["__proto__ twice", '{"__proto__":1,"__proto__":2}', { key: "__proto__", path: [] }],
  ];
  for (const [name, text, expected] of cases) it(name, () => assert.deepEqual(findDuplicateKey(text), expected));
  it("300 nested arrays before the duplicate: found, no recursion", () => {
    const deep = "[".repeat(300) + "]".repeat(300);
    assert.deepEqual(findDuplicateKey(`{"notes":${deep},"notes":"x"}`), { key: "notes", path: [] });
    const deepObj = '{"a":'.repeat(5000) + '{"k":1,"k":2}' + "}".repeat(5000);
    assert.equal(findDuplicateKey(deepObj)?.path.length, 5000);
  });
});

describe("deploy.json with a duplicate key is refused (exit 2, wording and path)", () => {
  const cases: [string, string, RegExp][] = [
    ["a top-level key", `{"schemaVersion":2,${good.slice(1)}`, /duplicate key "schemaVersion" at \(root\)/],
    ["scriptPath twice", withCi('"scriptPath":"scripts/ci/evil.sh"'), /duplicate key "scriptPath" at environments\.dev\.ci\b/],
    ["notes hiding 300 nested arrays", withCi(`"notes":${"[".repeat(300)}${"]".repeat(300)},"notes":"x"`), /duplicate key "notes" at environments\.dev\.ci\b/],
    ["deep inside prod", good.replace('"untouched":true', '"untouched":true,"untouched":false'), /duplicate key "untouched" at environments\.prod\b/],
  ];
  for (const [name, text, pattern] of cases) {
    it(name, async () => {
      assert.doesNotThrow(() => JSON.parse(text));
      assert.throws(() => parseManifestText(text, "deploy.json"), (e) => e instanceof ManifestError && e.exitCode === 2 && pattern.test(e.message));
      const env = fakeEnv({ files: { "/work/deploy.json": text } });
      assert.equal(await runMain(["validate", "/work/deploy.json"], env), 2);
      assert.match(env.out() + env.err(), pattern);
    });
  }
  it("a path nested hundreds deep is shown bounded", () => {
    const text = good.replace('"untouched":true', `"untouched":${'{"a":'.repeat(200)}{"k":1,"k":2}${"}".repeat(200)}`);
    assert.throws(() => parseManifestText(text, "deploy.json"), (e) => e instanceof ManifestError && /duplicate key "k" at environments\.prod\.untouched(\.a){13}…;/.test(e.message) && e.message.length < 400);
  });
});
