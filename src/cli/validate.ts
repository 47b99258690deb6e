/** `unidesk-ci validate [file]`: check a deploy.json, or origin/master's, against the manifest contract. */
import { argument, command, constant, message, object, optional, option, type InferValue } from "@optique/core";
import { jsonOption, textValue } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { ManifestError, UsageError } from "../errors.ts";
import { loadFromFile, loadFromOrigin } from "../manifest/load.ts";
import type { Manifest } from "../manifest/schema.ts";
import { renderValidation, type ValidationReport } from "../io/render-validate.ts";
import { outputFor } from "../io/output.ts";
import type { ValidateDocument } from "../io/json-schemas.ts";

/** Parser of `validate`. */
export const validateCommand = lazy(() =>
  command(
    "validate",
    object({
      command: constant("validate" as const),
      file: optional(argument(textValue("FILE"), { description: message`A deploy.json to check, or - for standard input (default: origin/master:deploy.json of --repo-dir, as run-dev-e2e reads it, without fetching).` })),
      repoDir: optional(option("--repo-dir", textValue("DIR"), { description: message`Operator clone to read origin/master from (default: the current directory).` })),
      json: jsonOption(),
    }),
    { brief: message`Check a deploy.json against the manifest contract.`, description: message`Prints every problem as path: message and exits 2 when there is one. Without FILE it checks origin/master:deploy.json exactly as run-dev-e2e would (repository match, scriptPath present), but offline.` },
  ),
);

/** Parsed options of `validate`. */
export type ValidateOptions = InferValue<ReturnType<typeof validateCommand>>;

/** Runs `validate`. */
export async function runValidate(opts: ValidateOptions, env: Env): Promise<void> {
  if (opts.file !== undefined && opts.repoDir !== undefined) {
    throw new UsageError("validate takes either FILE or --repo-dir, not both", { hint: "give a file to check it, or --repo-dir to check origin/master:deploy.json there" });
  }
  const out = outputFor(env, opts);
  let report: ValidationReport;
  try {
    report = opts.file !== undefined ? await validateFile(opts.file, env) : await validateOrigin(opts.repoDir ?? env.cwd, env);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    const issues = error.issues ?? [{ path: "(root)", message: error.message }];
    const failed: ValidationReport = { ok: false, source: error.source ?? opts.file ?? "origin/master:deploy.json", issues };
    // With --json the reporter prints the report: { ok: false, source, issues, error }.
    out.print(renderValidation(failed));
    throw new ManifestError(error.message, { cause: error, hint: error.hint, context: { source: failed.source, issues } });
  }
  out.result(() => report as ValidateDocument, () => renderValidation(report));
}

async function validateFile(file: string, env: Env): Promise<ValidationReport> {
  const loaded = await loadFromFile(file, env);
  return okReport(loaded.source, loaded.manifest);
}

async function validateOrigin(repoDir: string, env: Env): Promise<ValidationReport> {
  const loaded = await loadFromOrigin(repoDir, env, { fetch: false });
  return okReport(`origin/master:deploy.json (${loaded.commit})`, loaded.manifest);
}

function okReport(source: string, manifest: Manifest): ValidationReport {
  const dev = manifest.environments.dev;
  return { ok: true, source, issues: [], ci: dev.ci, services: dev.services.map((s) => s.id) };
}

