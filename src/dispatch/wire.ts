/** The backend-core dispatch wire format (docs/dispatch.md), kept in this one module so it can be adapted in one place. */
import { int, literal, looseObject, maximum, minimum, minLength, number, string, strictObject, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";

/** Path of the dispatch endpoint under the backend base URL. */
export const DISPATCH_PATH = "/api/dispatch";

/** The only capability this CLI uses. */
export const CAPABILITY = "host.ssh";

/** Hard budget of one host.ssh call on the backend. */
export const HOST_SSH_BUDGET_MS = 60_000;

/** Error codes backend-core documents; others are passed through as given. */
export const DISPATCH_ERROR_CODES = ["unauthorized", "forbidden", "bad_request", "provider_unavailable", "timeout", "internal"] as const;

/** The request body. */
export const dispatchRequestSchema = strictObject({
  providerId: string().check(minLength(1)),
  capability: literal(CAPABILITY),
  command: string().check(minLength(1)),
  timeoutMs: int().check(minimum(1), maximum(HOST_SSH_BUDGET_MS)),
});

/** A request body as sent. */
export type DispatchRequestBody = Infer<typeof dispatchRequestSchema>;

/** `200 → { ok: true, exitCode, stdout, stderr, durationMs }`; unknown extra fields are tolerated. */
export const dispatchSuccessSchema = looseObject({
  ok: literal(true),
  exitCode: int(),
  stdout: string(),
  stderr: string(),
  durationMs: number().check(minimum(0)),
});

/** `4xx/5xx → { ok: false, error: { code, message } }`. */
export const dispatchFailureSchema = looseObject({
  ok: literal(false),
  error: looseObject({ code: string(), message: string() }),
});

/** A successful answer. */
export type DispatchSuccess = Infer<typeof dispatchSuccessSchema>;
/** A failure answer. */
export type DispatchFailure = Infer<typeof dispatchFailureSchema>;

/** The body of a host.ssh dispatch running `command` on `providerId` with a budget of `timeoutMs`. */
export function dispatchRequestBody(providerId: string, command: string, timeoutMs: number): DispatchRequestBody {
  return { providerId, capability: CAPABILITY, command, timeoutMs };
}

/** `<backendUrl>/api/dispatch`, keeping any path prefix of the base URL. */
export function dispatchUrl(backendUrl: string): string {
  return backendUrl.replace(/\/+$/, "") + DISPATCH_PATH;
}

/** The headers of a dispatch request. */
export function dispatchHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" };
}

/** A dispatch request as `--dry-run --json` shows it: the token replaced by `***`. */
export interface RedactedRequest {
  method: "POST";
  /** null when no backend URL is configured (a dry run needs none). */
  url: string | null;
  headers: Record<string, string>;
  body: DispatchRequestBody;
}

/** The request that would be sent, with `Authorization: Bearer ***` (never the token). */
export function redactedRequest(backendUrl: string | undefined, body: DispatchRequestBody): RedactedRequest {
  return { method: "POST", url: backendUrl === undefined ? null : dispatchUrl(backendUrl), headers: dispatchHeaders("***"), body };
}
