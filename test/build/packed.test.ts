import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { transform } from "esbuild";
import { extractTexts, keptTexts } from "../../build/packed.ts";

// build/packed.ts moves src/'s long literals into the bundle's text table: the rewritten code must compute the
// same values, and literals that are not expressions (property names, types, specifiers) must stay.
const SAMPLE = `import { message } from "@optique/core";
const moved = "a string long enough to be moved into the table";
const kept = "short one";
const obj = { "a property name long enough to stay put": moved, short: kept };
type Long = "a literal type long enough that it must stay";
const tpl = \`a template head long enough \${moved.length} and a tail that is long enough\`;
const nested = \`\${\`an inner template long enough to be moved\`} x\`;
const msg = message\`an Optique message long enough \${"a value long enough to move as well"} and a tail long enough\`;
const short = message\`tiny \${kept}\`;
const raw = String.raw\`a raw template long enough to keep \\n \${kept} and its raw tail long enough\`;
const { "a binding property name long enough": bound = "a default value that is long enough" } = {} as Record<string, string>;
out = { moved, kept, obj, tpl, nested, msg, short, raw, bound, long: undefined as Long | undefined };
`;

/** Runs the sample's code with `T` as the text table and a message() that records what it was given. */
async function evaluate(source: string, table: string[]): Promise<unknown> {
  const { code } = await transform(source.replace(/^import .*\n/, ""), { loader: "ts" });
  const message = (strings: readonly string[], ...values: unknown[]) => ({ strings: [...strings], values });
  return new Function("T", "message", `let out; ${code}; return out;`)(table, message);
}

describe("extractTexts (build/packed.ts)", () => {
  it("reads long literals from the table, with the same values as before", async () => {
    const table: string[] = [];
    const rewritten = extractTexts(SAMPLE, "sample.ts", (text) => `T[${table.push(text) - 1}]`, 24);
    assert.deepEqual(await evaluate(rewritten, table), await evaluate(SAMPLE, []));
    assert.ok(table.includes("a string long enough to be moved into the table"));
    assert.ok(table.includes(" and a tail that is long enough"));
    assert.ok(table.includes("an inner template long enough to be moved"));
    assert.ok(table.includes("an Optique message long enough "));
    assert.ok(table.includes("a value long enough to move as well"));
    assert.ok(!rewritten.includes("a string long enough to be moved"), rewritten);
  });

  it("keeps short literals, property names, literal types and message parts that are all short", () => {
    const table: string[] = [];
    const rewritten = extractTexts(SAMPLE, "sample.ts", (text) => `T[${table.push(text) - 1}]`, 24);
    for (const stays of ['"short one"', '"a property name long enough to stay put"', '"a literal type long enough that it must stay"', '"a binding property name long enough"', "message`tiny ${kept}`", "String.raw`a raw template long enough to keep \\n ${kept} and its raw tail long enough`"]) {
      assert.ok(rewritten.includes(stays), `${stays} moved:\n${rewritten}`);
    }
  });

  it("keeps only the texts whose markers survived the first build, in order of first use", () => {
    assert.deepEqual(keptTexts(`x("@uci-text-2@");y(\`@uci-text-0@ z\`);w("@uci-text-2@")`, ["a", "b", "c"]), ["c", "a"]);
  });
});
