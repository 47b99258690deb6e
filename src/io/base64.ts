/** Base64 for the JSON renderers of run files (render-logs, render-follow). */

/** Base64 of bytes with web standards only (btoa), chunked to stay under argument limits. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
