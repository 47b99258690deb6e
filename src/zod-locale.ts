/** Imported for its effect: zod's English default messages ("Invalid input: expected string, received number"). */
import { config } from "zod/mini";
import { en } from "zod/locales";

// Classic zod registers English itself; zod/mini leaves every default message at "Invalid input".
// The messages surface in result.json and dispatch-answer problems, so keep them as they were.
config(en());
