/** See strip-comments.mjs. */
export function stripComments(text: string): string;
