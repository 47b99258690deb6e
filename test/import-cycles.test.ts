// No import cycle in src/ (docs/building.md#conventions): the graph is built from the TypeScript sources themselves,
// type-only imports and re-exports included, since a cycle of types is still two modules that need each other.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every relative `.ts` module `file` imports or re-exports (static and dynamic `import()`), as paths relative to the repository. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) spec = node.moduleSpecifier;
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) spec = node.arguments[0];
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith(".") && spec.text.endsWith(".ts")) {
      out.push(relative(ROOT, resolve(dirname(file), spec.text)));
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return out;
}

/** The cycles of `graph`, each once, as the path around it starting at its smallest module. */
export function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const walk = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const cycle = stack.slice(stack.indexOf(next));
        const first = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        cycles.set(rotated.join(" → "), rotated);
      } else if (!state.has(next)) walk(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) walk(node);
  return [...cycles.values()];
}

describe("the import graph of src/", () => {
  const graph = new Map(sourceFiles(SRC).map((f) => [relative(ROOT, f), importsOf(f, readFileSync(f, "utf8"))]));

  it("is read from the sources (a known edge is there)", () => {
    assert.ok(graph.size > 50, `${graph.size} modules`);
    assert.ok(graph.get("src/host/result.ts")?.includes("src/host/run-json.ts"));
  });

  it("has no cycle", () => {
    assert.deepEqual(cyclesOf(graph).map((c) => [...c, c[0]].join(" → ")), []);
  });

  it("finds a cycle when there is one, type-only imports included", () => {
    const a = importsOf("/x/src/a.ts", `import type { B } from "./b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\nimport x from "node:fs";`);
    assert.deepEqual(a, ["src/b.ts", "src/c.ts", "src/d.ts"].map((p) => relative(ROOT, join("/x", p))));
    assert.deepEqual(cyclesOf(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]])), [["a", "b", "c"]]);
    assert.deepEqual(cyclesOf(new Map([["a", ["b"]], ["b", []]])), []);
  });
});
