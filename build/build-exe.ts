/** `npm run build:exe`: standalone executables from the bundle with `bun build --compile`, plus SHA256SUMS. */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// UNIDESK_CI_EXE_OUT lets tests build into a temporary directory.
const OUT = process.env.UNIDESK_CI_EXE_OUT ?? "dist/exe";
const BUN = "node_modules/.bin/bun";
// linux-x64 is the operators' laptops' and CI's target; the others are built when bun can fetch their runtime.
const TARGETS = (process.env.UNIDESK_CI_EXE_TARGETS ?? "linux-x64,linux-arm64,darwin-arm64,darwin-x64,windows-x64").split(",");

if (!existsSync("dist/unidesk-ci.mjs")) execFileSync("npm", ["run", "build"], { stdio: "inherit" });
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const built: string[] = [];
for (const target of TARGETS) {
  const name = `unidesk-ci-${target}${target.startsWith("windows") ? ".exe" : ""}`;
  const r = spawnSync(BUN, ["build", "--compile", `--target=bun-${target}`, "dist/unidesk-ci.mjs", "--outfile", join(OUT, name)], { encoding: "utf8" });
  if (r.status === 0 && existsSync(join(OUT, name))) built.push(name);
  else process.stderr.write(`skipped ${target}: ${(r.stderr || r.stdout).trim().split("\n").at(-1)}\n`);
}
if (!built.includes("unidesk-ci-linux-x64")) throw new Error("the linux-x64 executable did not build");
const sums = built.map((name) => `${createHash("sha256").update(readFileSync(join(OUT, name))).digest("hex")}  ${name}`).join("\n") + "\n";
writeFileSync(join(OUT, "SHA256SUMS"), sums);
process.stdout.write(sums);
