/** Checks of the workspace settings the launcher and readers substitute (docs/launcher.md). */
import { UsageError } from "../errors.ts";

/** An absolute path of plain segments ([A-Za-z0-9._-]), no trailing slash, no `.` or `..` segment. */
export const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/** Longest accepted workRoot/runsRoot, so derived paths stay far from PATH_MAX. */
export const ABSOLUTE_PATH_MAX = 200;

/** The egress proxy: `http://host:port` (optionally with a trailing slash), no credentials. */
export const PROXY_URL = /^http:\/\/[A-Za-z0-9.-]+:([0-9]{1,5})\/?$/;

/** Why `path` is not an acceptable workspace root, or undefined when it is fine. */
export function checkAbsolutePath(path: string): string | undefined {
  if (path.length > ABSOLUTE_PATH_MAX) return `is ${path.length} characters long; at most ${ABSOLUTE_PATH_MAX} are allowed`;
  if (!ABSOLUTE_PATH.test(path)) return "must be an absolute path of letters, digits, '.', '_', '-' and '/' without a trailing slash, e.g. /tmp/unidesk-ci";
  if (path.split("/").some((s) => s === "." || s === "..")) return "must not contain '.' or '..' segments";
  return undefined;
}

/** Why `url` is not an acceptable egress proxy URL, or undefined when it is fine. */
export function checkProxyUrl(url: string): string | undefined {
  const match = PROXY_URL.exec(url);
  const port = match ? Number(match[1]) : 0;
  if (!match || port < 1 || port > 65535) return "must be an http://host:port URL with a port of 1-65535 and no credentials, e.g. http://127.0.0.1:18789";
  return undefined;
}

/** Throws a UsageError naming `field` when `problem` is set. */
export function rejectSetting(field: string, value: unknown, problem: string | undefined): void {
  if (problem !== undefined) throw new UsageError(`${field} ${JSON.stringify(value)} ${problem}`);
}

/** Checks a string setting's type, then its content with `check`. */
export function checkStringSetting(field: string, value: unknown, check: (v: string) => string | undefined): void {
  if (typeof value !== "string") throw new UsageError(`${field} must be a string, got ${typeof value}`);
  rejectSetting(field, value, check(value));
}

/** Checks a byte cap setting: an integer within [min, max]. */
export function checkCapSetting(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${field} ${JSON.stringify(value)} must be an integer number of bytes from ${min} to ${max}`);
  }
}
