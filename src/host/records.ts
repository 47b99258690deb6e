/** The line protocol the fixed readers print (docs/readers.md): header, tab-separated records, `end`. */
import { untrustedLine } from "../redact.ts";
import { ConfigError, DispatchError } from "../errors.ts";
import type { Liveness, ResultFile } from "./result.ts";
import { RUN_ID, RUN_REF } from "../rules.ts";
import { changesFromFiles, type RunChanges } from "../runs/changes.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A malformed reader answer: the host or transport garbled it (exit 5). */
export function malformed(reader: string, detail: string): DispatchError {
  // The detail quotes the host's answer: outside text, one bounded line (redact.ts), whatever the caller quoted.
  return new DispatchError(`the ${reader} answered something unexpected: ${untrustedLine(detail)}`, {
    hint: "the host may run a different bash/coreutils, or the dispatch output was cut; retry, then report it",
  });
}

/** What a reader answers instead of reading a runs root, run directory or result.json another user could have written. */
export const UNSAFE_RECORD = "unsafe";

/**
 * Splits a reader's stdout into records between its `<header>\t1` line and its `end` record
 * (inclusive), ignoring anything a login shell printed before the header. An `unsafe` record (src/host/runs-root.sh)
 * is a ConfigError (exit 4): nothing the reader saw is believed.
 */
export function readerRecords(stdout: string, header: string, reader: string): string[][] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l === `${header}\t1`);
  if (start < 0) throw malformed(reader, `no '${header}' header line`);
  const records: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    const fields = line.split("\t");
    if (fields[0] === UNSAFE_RECORD) {
      // Our fixed script's line, quoting paths and owners: one line, bounded like the launcher's refusal (submit.ts).
      throw new ConfigError(`the ${reader} refused: ${fields.slice(1).join(" ").replace(/\s+/g, " ").trim().slice(0, 600)}; nothing of it was believed`, {
        hint: "another local user on the host could have written it and forged a verdict; see docs/security.md#readers-believe-only-this-users-runs",
      });
    }
    records.push(fields);
    if (fields[0] === "end") return records;
  }
  throw malformed(reader, "no 'end' line (the answer was cut short)");
}

/** Decodes base64 without Buffer, so it runs on Node, Deno and Bun alike. */
export function decodeBase64(text: string, reader: string): Uint8Array {
  if (!BASE64.test(text)) throw malformed(reader, "invalid base64 data");
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A `b64:<data>` field as bytes, `-` as null. */
export function decodeField(field: string | undefined, reader: string): Uint8Array | null {
  if (field === "-") return null;
  if (field === undefined || !field.startsWith("b64:")) throw malformed(reader, `expected 'b64:…' or '-', got ${JSON.stringify(field)}`);
  return decodeBase64(field.slice(4), reader);
}

/** A non-negative decimal integer field. */
export function decodeCount(field: string | undefined, reader: string): number {
  if (field === undefined || !/^[0-9]{1,15}$/.test(field)) throw malformed(reader, `expected a number, got ${JSON.stringify(field)}`);
  return Number(field);
}

/**
 * UTF-8 text when the bytes are text (valid UTF-8 without NUL), else the bytes. A kept tail may
 * start inside a multi-byte character, so up to three leading continuation bytes are dropped first.
 */
export function textOrBytes(bytes: Uint8Array, isTail: boolean): string | Uint8Array {
  let start = 0;
  while (isTail && start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  const body = bytes.subarray(start);
  if (body.includes(0)) return bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return bytes;
  }
}

/** UTF-8 text of bytes, replacing invalid sequences. */
export function lenientText(bytes: Uint8Array): string {
  return new TextDecoder("utf-8").decode(bytes);
}

/** The fields of a `result` record (result-record.sh) as a ResultFile; null when there is no result.json. */
export function decodeResultRecord([field, size]: string[], reader: string): ResultFile | null {
  const sizeBytes = decodeCount(size, reader);
  if (field === "!") return { bytes: null, sizeBytes };
  const bytes = decodeField(field, reader);
  return bytes === null ? null : { bytes, sizeBytes };
}

/** The fields of a `liveness` record (run-liveness.sh): `live|dead` and why, by the runner's liveness rule. */
export function decodeLiveness(fields: string[] | undefined, reader: string): Liveness {
  const [state, ...why] = fields ?? [];
  if (state !== "live" && state !== "dead") throw malformed(reader, `liveness is ${JSON.stringify(state)}`);
  return { live: state === "live", why: why.join("\t") };
}

/** The fields of a `ref` record (run-ref.sh): the reference asked for; the run id it resolved to is the `runid` record. */
export function decodeReference([reference, resolved]: string[], reader: string): string {
  if (reference === undefined || !RUN_REF.test(reference)) throw malformed(reader, `bad run reference ${JSON.stringify(reference)}`);
  if (resolved !== "-" && (resolved === undefined || !RUN_ID.test(resolved))) throw malformed(reader, `bad resolved run id ${JSON.stringify(resolved)}`);
  return reference;
}

/** The fields of a `changes` record (run-ref.sh): the last green run and both deploy.json copies, as the changes since it. */
export function decodeChangesRecord([greenId, greenResult, greenDeploy, deploy]: string[], reader: string): RunChanges {
  const text = (field: string | undefined) => {
    const bytes = decodeField(field, reader);
    return bytes === null ? null : lenientText(bytes);
  };
  if (greenId !== "-" && (greenId === undefined || !RUN_ID.test(greenId))) throw malformed(reader, `bad green run id ${JSON.stringify(greenId)}`);
  const green = greenId === "-" ? null : { runId: greenId, resultJson: text(greenResult), deployJson: text(greenDeploy) };
  return changesFromFiles({ green, deployJson: text(deploy) });
}
