/** Run ids: DNS-safe, short, unique across parallel invocations (docs/manifest.md#run-ids). */

/** Any acceptable run id: a DNS label of at most 40 characters, so derived names stay ≤ 63. */
export const RUN_ID = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Longest run id; `unidesk-ci-<runId>` (namespace) and `e2e-<runId>` (PipelineRun) stay ≤ 63. */
export const RUN_ID_MAX = 40;

/** Generated ids: `dev-YYYYMMDD-HHMMSS-<6 base36>` (UTC), e.g. dev-20261127-162626-k3x9a2. */
export const GENERATED_RUN_ID = /^dev-[0-9]{8}-[0-9]{6}-[a-z0-9]{6}$/;

/** Makes a new run id from the clock and 6 random base36 characters (~31 bits). */
export function newRunId(now: Date, random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const iso = now.toISOString(); // 2026-11-27T16:26:26.123Z
  const date = iso.slice(0, 10).replaceAll("-", "");
  const time = iso.slice(11, 19).replaceAll(":", "");
  const bytes = random(new Uint8Array(6));
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  let suffix = "";
  for (const b of bytes) suffix += alphabet[b % 36];
  return `dev-${date}-${time}-${suffix}`;
}

/** Why a run id is unacceptable, or undefined when it is fine. */
export function checkRunId(id: string): string | undefined {
  if (id.length === 0) return "is empty";
  if (id.length > RUN_ID_MAX) return `is ${id.length} characters long; at most ${RUN_ID_MAX} are allowed`;
  if (!RUN_ID.test(id)) return "must be lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. dev-20261127-162626-k3x9a2)";
  return undefined;
}
