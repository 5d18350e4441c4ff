/**
 * psarnd's rollout driver (docs/design.md#rollouts): takes each running rollout's next step when
 * it is due. A primary's job only (a secondary never drives: its routes are its primary's).
 *
 * - One timer, armed at `store.nextOperationDue()`. A rollout the CLI starts or resumes is
 *   another process's commit: `notice()` (called at the daemon's change-poll tick) sees this
 *   connection's data_version move and re-arms; an idle tick costs one PRAGMA.
 * - A due rollout: a held route waits another `every`; a route changed by someone else since the
 *   last step pauses the rollout with who did it; then the gate (when the rollout has one) is
 *   asked BEFORE the step: fired aborts, not evaluable pauses; then the step and the rollout's
 *   state commit in one transaction (rollout-ops.ts), due again `every` from now.
 * - After a restart the state is in SQLite: a rollout whose due time passed while psarnd was down
 *   takes ONE step (after its gate) and then waits `every` again; steps are never skipped or
 *   bunched, so each gets its full interval to be watched.
 * - Each write is then picked up at once (`changed`, ZoneSync.poll(true)), as an UPDATE's is:
 *   served and NOTIFYed without waiting for the next poll.
 */
import type { Store } from '../store/store.js';
import type { ZoneParams } from '../store/types.js';
import { driverActor } from './rollout.js';
import { checkStep, type RolloutOperation, type StepOutcome, takeStep } from './rollout-ops.js';
import type { GateEvaluator, GateResult } from './types.js';

/** The clock and one-shot timers, injectable (test/helpers/fake-clock.ts). */
export interface DriverClock {
  /** Unix ms. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What the driver logs (a pino logger fits). */
export interface DriverLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the driver counts (DaemonMetrics implements it). */
export interface RolloutMetrics {
  rolloutStep(result: Exclude<StepOutcome['result'], 'skipped'>): void;
}

export interface RolloutDriverOptions {
  /** The connection the driver reads and writes through (one of its own: data_version moves for the others' writes). */
  store: Store;
  /** The zones' SOA/NS parameters (editRoutes takes them; rollouts only touch existing zones). */
  params: ZoneParams;
  gate: GateEvaluator;
  log: DriverLog;
  metrics?: RolloutMetrics;
  /** After a write: pick it up at once (served, NOTIFYed). */
  changed?: () => void;
  clock?: DriverClock;
  /** How long a gate may take before it counts as not evaluable (default 30 s). */
  gateTimeoutMs?: number;
  /** After a failed store access (locked, a read error), try again this much later (default 1 s). */
  retryMs?: number;
}

/** setTimeout's limit is 2^31 − 1 ms: a rollout due later is re-armed on the way. */
const MAX_TIMER_MS = 3_600_000;

const realClock: DriverClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class RolloutDriver {
  readonly #o: RolloutDriverOptions;
  readonly #clock: DriverClock;
  #timer: unknown;
  /** When the armed timer fires (unix ms), or undefined. */
  #armedAt: number | undefined;
  #dataVersion = Number.NaN;
  /** The run in progress: runs never overlap (a gate takes time). */
  #running: Promise<void> | undefined;
  #again = false;
  /** The last run failed at the store: the next one is retryMs later, not at once. */
  #failed = false;
  #closed = false;
  readonly #abort = new AbortController();

  constructor(options: RolloutDriverOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
  }

  /** Arms the timer at the first due rollout (an overdue one runs now). */
  start(): void {
    this.#dataVersion = this.#o.store.dataVersion();
    this.#arm();
  }

  /**
   * Another process may have written (the daemon's change-poll tick): when this connection's
   * data_version moved, re-arm at the new first due time (a rollout started or resumed by the CLI).
   */
  notice(): void {
    if (this.#closed) return;
    let version: number;
    try {
      version = this.#o.store.dataVersion();
    } catch {
      return;
    }
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.#arm();
  }

  /** Runs every due rollout now; resolves when done (tests, and the timer). */
  run(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      this.#failed = false;
      try {
        do {
          this.#again = false;
          await this.#runDue();
        } while (this.#again && !this.#closed && !this.#failed);
      } finally {
        this.#running = undefined;
        this.#arm(this.#failed);
      }
    })();
    return this.#running;
  }

  /** Stops the timer and aborts a gate in flight; resolves when the run in progress ends. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#disarm();
    this.#abort.abort();
    await this.#running;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = undefined;
  }

  #arm(retry = false): void {
    if (this.#closed || this.#running !== undefined) return;
    const now = this.#clock.now();
    let due: number | undefined;
    try {
      due = retry ? now + (this.#o.retryMs ?? 1000) : this.#o.store.nextOperationDue();
    } catch (error) {
      this.#o.log.error({ err: error }, 'reading the rollouts failed; will retry');
      due = now + (this.#o.retryMs ?? 1000);
    }
    if (due === undefined) {
      this.#disarm();
      return;
    }
    const at = Math.min(Math.max(due, now), now + MAX_TIMER_MS);
    if (this.#armedAt === at) return;
    this.#disarm();
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#armedAt = undefined;
      void this.run();
    }, at - now);
  }

  async #runDue(): Promise<void> {
    let due: RolloutOperation[];
    try {
      due = this.#o.store.dueOperations(this.#clock.now()) as RolloutOperation[];
    } catch (error) {
      this.#o.log.error({ err: error }, 'reading the due rollouts failed; will retry');
      this.#retryLater();
      return;
    }
    for (const op of due) {
      if (this.#closed) return;
      if (op.kind !== 'rollout') continue;
      try {
        await this.#stepOne(op);
      } catch (error) {
        // A locked database, a read error: the rollout is still due; the next run tries again.
        this.#o.log.error({ err: error, rollout: op.id }, 'a rollout step failed; will retry');
        this.#retryLater();
        return;
      }
    }
  }

  /** The run ends here and the next is retryMs later: a locked store must not spin. */
  #retryLater(): void {
    this.#failed = true;
  }

  async #stepOne(op: RolloutOperation): Promise<void> {
    const step = op.state.step;
    const checked = checkStep(this.#context(op.id), op.id, step);
    if ('result' in checked) {
      this.#report(op, checked);
      return;
    }
    let gate: GateResult | undefined;
    if (checked.state.gate !== undefined) gate = await this.#evaluate(checked);
    if (this.#closed) return;
    this.#report(op, takeStep(this.#context(op.id), op.id, step, gate));
  }

  async #evaluate(op: RolloutOperation): Promise<GateResult> {
    const { query, prometheus } = op.state.gate!;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.gateTimeoutMs ?? 30_000)]);
    try {
      return await this.#o.gate.evaluate(query, prometheus, signal);
    } catch (error) {
      // An evaluator that throws could not evaluate: pause, never promote blindly.
      return { ok: false, reason: (error as Error)?.message ?? String(error) };
    }
  }

  #context(id: number) {
    return { store: this.#o.store, params: this.#o.params, actor: driverActor(id), now: this.#clock.now() };
  }

  #report(op: RolloutOperation, outcome: StepOutcome): void {
    if (outcome.result === 'skipped') return;
    this.#o.metrics?.rolloutStep(outcome.result);
    const fields = { rollout: op.id, zone: op.zone, path: op.path, to: op.state.to };
    const log = this.#o.log;
    switch (outcome.result) {
      case 'applied': {
        const { state, status } = outcome.op;
        log.info(
          {
            ...fields,
            step: state.step + 1,
            of: state.steps.length,
            percent: state.steps[state.step],
            serial: state.serial,
          },
          status === 'done' ? 'rollout done' : 'rollout step applied',
        );
        break;
      }
      case 'aborted':
        log.warn({ ...fields, reason: outcome.reason }, 'rollout aborted by its gate');
        break;
      case 'paused':
      case 'gate_error':
        log.warn({ ...fields, reason: outcome.reason }, 'rollout paused');
        break;
      case 'held':
        log.info(fields, 'rollout waits: its route is held');
        break;
    }
    // The route changed: served and NOTIFYed now, as an UPDATE's write is.
    if (outcome.result === 'applied' || outcome.result === 'aborted') this.#o.changed?.();
  }
}
