/**
 * The one poll-until of the tests: wait for an event the test cannot subscribe to (a file appearing, a process
 * exiting, a request reaching a fake). The limit is a sanity bound that turns a hang into a failure naming what
 * never happened, never a timing claim: a test asserts counts, order and events, not how long they took.
 */

/** Options of {@link until}. */
export interface UntilOptions {
  /** Give up after this long (a sanity bound, generous so a loaded machine stays green). @default 60000 */
  limitMs?: number;
  /** Look again after this pause. @default 25 */
  everyMs?: number;
}

/** A value `until` keeps waiting on: not yet. */
type NotYet = undefined | null | false;

/**
 * Polls `check` until it returns something other than undefined, null or false, and resolves with it; rejects
 * with "timed out waiting for <what>" after `limitMs`.
 */
export async function until<T>(what: string, check: () => T | NotYet | Promise<T | NotYet>, options: UntilOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.limitMs ?? 60_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.everyMs ?? 25));
  }
}
