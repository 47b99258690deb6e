/**
 * The answers of a follow (runs/follow.ts), one at a time, with the retry rule of docs/commands.md (`--wait-ms`):
 * the first answer at once, later ones waiting on the host up to `answerWaitMs` (never past the deadline); up to
 * MAX_FAILED_POLLS failed answers in a row tolerated, each followed by a pause that grows ×1.5 from 1 s to 10 s.
 * The dispatch, the clock and the pause are injected: tests need neither a backend nor a fake clock.
 */
import { DispatchError } from "../errors.ts";
import type { WatchAnswer } from "../host/watch-reader.ts";

/** Consecutive failed answers tolerated before the follow gives up with exit 5 (a blip must not end a long wait). */
export const MAX_FAILED_POLLS = 3;

/** Pause before asking again after an answer that came back at once with nothing new (no run directory yet) or a failed one; grows ×1.5 to 10 s. */
export const IDLE_MS = [1_000, 10_000] as const;

/** What the stream is built from. */
export interface AnswerSource {
  /** One answer that may wait up to `answerWaitMs` on the host; a DispatchError is a failed answer, any other error ends the stream. */
  ask(answerWaitMs: number): Promise<WatchAnswer>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Pauses (env.sleep with Ctrl-C's signal): its rejection ends the stream. */
  pause(ms: number): Promise<void>;
  /** Give up asking after this instant (ms since the epoch; Infinity: never). */
  deadline: number;
  /** How long a later answer may wait on the host. */
  answerWaitMs: number;
}

/** An answer, with how long it was allowed to wait (one that waited less had nothing to wait for). */
export interface Answered {
  answer: WatchAnswer;
  answerWaitMs: number;
}

export class AnswerStream {
  /** Answers received so far (failed ones not counted). */
  answers = 0;
  #failures = 0;
  #idleMs: number = IDLE_MS[0];

  constructor(private readonly source: AnswerSource) {}

  /** How long the next answer may wait: 0 for the first (the CLI knows nothing yet), then up to the deadline. */
  nextWaitMs(): number {
    return this.answers === 0 ? 0 : Math.max(0, Math.min(this.source.answerWaitMs, this.source.deadline - this.source.now()));
  }

  /**
   * The next answer, or null when the deadline passed while answers failed. Rethrows an error that is not a
   * DispatchError at once, and the failed answer MAX_FAILED_POLLS + 1 in a row.
   */
  async next(): Promise<Answered | null> {
    for (;;) {
      const answerWaitMs = this.nextWaitMs();
      try {
        const answer = await this.source.ask(answerWaitMs);
        this.#failures = 0;
        this.answers += 1;
        return { answer, answerWaitMs };
      } catch (error) {
        if (!(error instanceof DispatchError) || ++this.#failures > MAX_FAILED_POLLS) throw error;
        if (this.source.now() >= this.source.deadline) return null;
        await this.idle();
      }
    }
  }

  /** A pause before asking again (an answer that brought nothing without waiting, or a failed one), never past the deadline; the next one is longer. */
  async idle(): Promise<void> {
    await this.source.pause(Math.min(this.#idleMs, this.source.deadline - this.source.now()));
    this.#idleMs = Math.min(Math.round(this.#idleMs * 1.5), IDLE_MS[1]);
  }

  /** Something new came: the next pause is short again. */
  settle(): void {
    this.#idleMs = IDLE_MS[0];
  }
}
