/**
 * The one poll-until of the tests: wait for an event the test cannot subscribe to (a file appearing, a process
 * exiting, a request reaching a fake). The limit is a sanity bound that turns a hang into a failure naming what
 * never happened, never a timing claim: a test asserts counts, order and events, not how long they took.
 */

/**
 * The one sanity bound of the tests' waits (polls, result files, spawned CLIs): three minutes, far beyond what any
 * of them takes on a quiet machine (seconds), so a machine loaded by a second suite beside this one, or a slow
 * one (a fresh VM spent 19 minutes on the whole suite where another spent 5), stays green.
 */
export const SANITY_MS = 180_000;

/**
 * The `--wait-ms` a test gives a CLI that must see its run end (the sanity bound, as the argument's text): a run
 * takes seconds on a quiet machine and more than a minute on a loaded slow one (CI: 64 s for one of five).
 */
export const RUN_END_WAIT_MS = String(SANITY_MS);

/** When a spawned CLI is killed: after {@link RUN_END_WAIT_MS}, so a CLI that waits that long reports it first. */
export const CLI_KILL_MS = SANITY_MS + 60_000;

/** Options of {@link until}. */
export interface UntilOptions {
  /** Give up after this long (a sanity bound, generous so a loaded machine stays green). @default {@link SANITY_MS} */
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
  const deadline = Date.now() + (options.limitMs ?? SANITY_MS);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.everyMs ?? 25));
  }
}
