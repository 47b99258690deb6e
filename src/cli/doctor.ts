/** `unidesk-ci doctor`: checks the laptop, then D601 with one fixed read-only probe, before a first run (docs/setup-d601.md). */
import { command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, textValue } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { AuthError, CheckFailedError, ConfigError, DispatchError, type CliError } from "../errors.ts";
import { runDoctorChecks } from "../runs/doctor.ts";
import { renderDoctor } from "../io/render-doctor.ts";

/** Parser of `doctor`. */
export const doctorCommand = lazy(() =>
  command(
    "doctor",
    object({
      command: constant("doctor" as const),
      repoDir: optional(option("--repo-dir", textValue("DIR"), { description: message`Operator clone to check (default: the current directory).` })),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`Check the laptop and D601 before a first run: every missing piece, each with a fix.`,
      description: message`Checks the clone (origin/master, deploy.json, origin = ci.repo) and the configuration, then dispatches one fixed read-only probe to D601: tools, runs and work roots, the cluster (namespace, Tekton, Pipeline, ServiceAccount, the runner's permissions) and the egress proxy. Changes nothing anywhere.`,
    },
  ),
);

/** Parsed options of `doctor`. */
export type DoctorOptions = InferValue<ReturnType<typeof doctorCommand>>;

/** The same failure, silent: the report already says everything. */
function silenced(error: CliError): CliError {
  const options = { hint: error.hint, cause: error, silent: true };
  if (error instanceof AuthError) return new AuthError(error.message, options);
  if (error instanceof ConfigError) return new ConfigError(error.message, options);
  if (error instanceof DispatchError) return new DispatchError(error.message, options);
  return new CheckFailedError(error.message, options);
}

/** Runs `doctor`: the report on stdout; exit 0 all pass, 1 a check failed, 4 configuration or credentials, 5 backend or host unreachable. */
export async function runDoctor(opts: DoctorOptions, env: Env): Promise<void> {
  const report = await runDoctorChecks(opts.repoDir ?? env.cwd, backendFlags(opts), env);
  const { error } = report;
  if (opts.json) {
    const failure = error ? { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), exitCode: error.exitCode } } : {};
    env.stdout.write(JSON.stringify({ ok: report.ok, checks: report.checks, ...failure }) + "\n");
  } else {
    env.stdout.write(renderDoctor(report.checks, { color: env.color }));
  }
  // main prints the error line and its hint in text mode; the JSON document above already holds them.
  if (error) throw opts.json ? silenced(error) : error;
}
