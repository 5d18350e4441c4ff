/**
 * The pace of a replay (docs/design.md#hold-and-release): at most `perSecond` invocations start
 * in any second. Each take() gets the next start slot, 1000/perSecond ms after the previous one
 * (no burst: a target that has just recovered from an incident is not hit by a queue's backlog at
 * once), and waits for it on the injected clock.
 */

export interface SleepClock {
  /** Monotonic ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export class RateLimiter {
  readonly #interval: number;
  readonly #clock: SleepClock;
  #next = Number.NEGATIVE_INFINITY;

  /** @throws RangeError when perSecond is not a positive finite number */
  constructor(perSecond: number, clock: SleepClock) {
    if (!(perSecond > 0 && Number.isFinite(perSecond))) throw new RangeError(`rate ${perSecond}: use a number > 0`);
    this.#interval = 1000 / perSecond;
    this.#clock = clock;
  }

  /** Resolves at this caller's start slot. Slots are handed out in call order. */
  async take(): Promise<void> {
    const now = this.#clock.now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.#interval;
    if (at > now) await this.#clock.sleep(at - now);
  }
}
