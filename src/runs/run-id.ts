/** New run ids: DNS-safe, short, unique across parallel invocations (docs/manifest.md#run-ids; the rule is src/rules.ts). */

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
