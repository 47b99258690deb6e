/** `progress.json`: what the runner records while it waits (docs/runner.md), its schema and parser. */
import { array, looseObject, nullable, optional, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { parseRunJson } from "./run-json.ts";

const taskRunSchema = looseObject({
  name: string(),
  pipelineTask: string(),
  /** The Succeeded condition: Unknown (running), True, False. */
  status: string(),
  reason: string(),
  message: optional(nullable(string())),
  startTime: optional(nullable(string())),
  completionTime: optional(nullable(string())),
  pod: optional(nullable(string())),
});

/** `progress.json` as the runner writes it (unknown fields kept). */
export const progressSchema = looseObject({
  updatedAt: string(),
  runId: string(),
  manifestCommit: optional(string()),
  startedAt: optional(string()),
  pipelineRun: nullable(
    looseObject({
      name: string(),
      status: string(),
      reason: string(),
      message: optional(nullable(string())),
      startTime: optional(nullable(string())),
      completionTime: optional(nullable(string())),
    }),
  ),
  tasks: array(string()),
  taskRuns: array(taskRunSchema),
  pods: optional(
    array(
      looseObject({
        namespace: string(),
        name: string(),
        phase: optional(nullable(string())),
        containers: array(looseObject({ name: string(), state: string(), log: string() })),
      }),
    ),
  ),
});

/** A parsed progress.json. */
export type RunProgress = Infer<typeof progressSchema>;
/** One TaskRun of progress.json. */
export type TaskRunProgress = Infer<typeof taskRunSchema>;

/** Parses progress.json text: the progress, or why it is unusable. */
export function checkProgressJson(text: string): { progress: RunProgress | null; progressProblem: string | null } {
  const { value, problem } = parseRunJson(text, progressSchema, "progress.json", "its schema");
  return { progress: value, progressProblem: problem };
}
