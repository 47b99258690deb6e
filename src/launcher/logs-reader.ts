/** Renders the fixed read-only logs reader (logs-reader.sh) for `logs <runId>` (docs/readers.md). */
import template from "./logs-reader.sh";
import { fillRunTemplate } from "./template.ts";
import { checkCapSetting } from "./validate.ts";

/** Bytes kept per file (its tail): 256 KiB. */
export const LOGS_FILE_CAP_BYTES = 262_144;
/** Bytes kept over all files: 2 MiB, about 2.7 MiB of base64, far inside a 60 s dispatch. */
export const LOGS_TOTAL_CAP_BYTES = 2_097_152;
/** Highest accepted total cap: 16 MiB. */
export const LOGS_CAP_MAX_BYTES = 16_777_216;

/** What the logs reader is rendered from. */
export interface LogsReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to read. */
  runId: string;
  /** @default LOGS_FILE_CAP_BYTES */
  fileCapBytes?: number;
  /** @default LOGS_TOTAL_CAP_BYTES */
  totalCapBytes?: number;
}

/** The logs reader script for one run; throws a UsageError naming a bad field. */
export function renderLogsReader(settings: LogsReaderSettings): string {
  const fileCap = settings.fileCapBytes ?? LOGS_FILE_CAP_BYTES;
  const totalCap = settings.totalCapBytes ?? LOGS_TOTAL_CAP_BYTES;
  checkCapSetting("fileCapBytes", fileCap, 1, LOGS_CAP_MAX_BYTES);
  checkCapSetting("totalCapBytes", totalCap, 1, LOGS_CAP_MAX_BYTES);
  return fillRunTemplate(template, "logs-reader.sh", settings, { FILE_CAP_BYTES: String(fileCap), TOTAL_CAP_BYTES: String(totalCap) });
}
