/** Renders the fixed read-only status reader (status-reader.sh), one per `--wait-ms` poll (docs/readers.md). */
import template from "./status-reader.sh";
import { fillRunTemplate } from "./template.ts";
import { checkCapSetting } from "./validate.ts";

/** Bytes of result.json the status reader returns at most. */
export const STATUS_RESULT_CAP_BYTES = 65_536;
/** Bytes of the last runner.log / launcher.log line the status reader returns at most. */
export const STATUS_LINE_CAP_BYTES = 1_024;

/** What the status reader is rendered from. */
export interface StatusReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to look at. */
  runId: string;
  /** @default STATUS_RESULT_CAP_BYTES */
  resultCapBytes?: number;
  /** @default STATUS_LINE_CAP_BYTES */
  lineCapBytes?: number;
}

/** The status reader script for one run; throws a UsageError naming a bad field. */
export function renderStatusReader(settings: StatusReaderSettings): string {
  const resultCap = settings.resultCapBytes ?? STATUS_RESULT_CAP_BYTES;
  const lineCap = settings.lineCapBytes ?? STATUS_LINE_CAP_BYTES;
  checkCapSetting("resultCapBytes", resultCap, 1, 1_048_576);
  checkCapSetting("lineCapBytes", lineCap, 1, 65_536);
  return fillRunTemplate(template, "status-reader.sh", settings, { RESULT_CAP_BYTES: String(resultCap), LINE_CAP_BYTES: String(lineCap) });
}
