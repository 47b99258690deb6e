/** `unidesk-ci doctor`: checks the laptop, then D601 with one fixed read-only probe, before a first run (docs/setup-d601.md). */
import { command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, textValue } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { withContext } from "../errors.ts";
import { outputFor } from "../io/output.ts";
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

/** Runs `doctor`: the report on stdout; exit 0 all pass, 1 a check failed, 4 configuration or credentials, 5 backend or host unreachable. */
export async function runDoctor(opts: DoctorOptions, env: Env): Promise<void> {
  // In text mode the laptop's lines at once, and what is being probed, before the probe's answer.
  const out = outputFor(env, opts);
  let shown = 0;
  const report = await runDoctorChecks(opts.repoDir ?? env.cwd, backendFlags(opts), env, (laptop, pending, config) => {
    shown = laptop.length;
    out.print(renderDoctor([...laptop, ...pending], { color: env.color, to: shown }));
    out.note(`probing ${config.providerId} through ${config.backendUrl}…\n`);
  });
  const { error } = report;
  out.print(renderDoctor(report.checks, { color: env.color, from: shown }));
  if (!error) out.document({ ok: true, checks: report.checks });
  // main prints the error line and its hint in text mode, and with --json the document { ok: false, checks, error }.
  if (error) throw withContext(error, { checks: report.checks });
}
