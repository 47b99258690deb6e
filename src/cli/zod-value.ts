/** The small Optique ↔ zod adapter: a value parser over `safeParse` (optique's zod add-on does not fit its 1.x core). */
import { message, text, type NonEmptyString, type ValueParser } from "@optique/core";
import type { ZodMiniType } from "zod/mini";

/** Wraps a zod schema of strings as an Optique value parser; the first issue becomes the error. */
export function zodValue<T>(schema: ZodMiniType<T, string>, metavar: NonEmptyString, placeholder: T, format: (value: T) => string = String): ValueParser<"sync", T> {
  return {
    mode: "sync",
    metavar,
    placeholder,
    parse(input) {
      const parsed = schema.safeParse(input);
      if (parsed.success) return { success: true, value: parsed.data };
      const first = parsed.error.issues[0]?.message ?? "is invalid";
      return { success: false, error: message`${input} ${text(first)}` };
    },
    format,
  };
}
