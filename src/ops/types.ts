/**
 * Seams between the parts of route operations (docs/design.md#operations): rollouts, their
 * metric gates, holds, `apply`, history. Each is a sequence of ordinary route changes through
 * Store.editRoutes, with its state in the store's operations table.
 */

/**
 * What a metric gate said (docs/design.md#rollout-gates). `ok: false` means it could not be
 * evaluated (Prometheus down, a bad query, a timeout): the rollout pauses and shows `reason`,
 * it never promotes blindly. `fired` is a non-empty result: the rollout aborts.
 */
export type GateResult =
  | {
      ok: true;
      fired: boolean /** Series in the result. */;
      series: number /** One line for status and logs. */;
      detail: string;
    }
  | { ok: false; reason: string };

/** Evaluates a rollout's `--abort-if` PromQL against the Prometheus HTTP API at `prometheus`. */
export interface GateEvaluator {
  evaluate(query: string, prometheus: string, signal?: AbortSignal): Promise<GateResult>;
}
