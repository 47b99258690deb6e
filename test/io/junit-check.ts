/** An independent JUnit consumer for the report tests: Debian's python3-junitparser, and xmllint for well-formedness. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's python3 (python3-junitparser is installed for it, whatever python3 is first on PATH). */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** What junitparser reads from a JUnit file: suite counts and each case's result kind. */
export function junitparserRead(xml: string): { tests: number; failures: number; errors: number; skipped: number; cases: [string, string][] } {
  const dir = mkdtempSync(join(tmpdir(), "uci-junit-"));
  try {
    const path = join(dir, "junit.xml");
    writeFileSync(path, xml);
    const script = `
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
suites = list(xml) if hasattr(xml, "__iter__") else [xml]
cases = []
t = f = e = s = 0
for suite in xml:
    suite.update_statistics()
    t += suite.tests; f += suite.failures; e += suite.errors; s += suite.skipped
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        cases.append([case.name, kinds[0] if kinds else "passed"])
print(json.dumps({"tests": t, "failures": f, "errors": e, "skipped": s, "cases": cases}))
`;
    return JSON.parse(execFileSync(PYTHON, ["-c", script, path], { encoding: "utf8" })) as ReturnType<typeof junitparserRead>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** xmllint --noout: throws unless the document is well-formed XML. */
export function xmllint(xml: string): void {
  execFileSync("xmllint", ["--noout", "-"], { input: xml, stdio: ["pipe", "pipe", "pipe"] });
}
