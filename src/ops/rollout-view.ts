/**
 * The JSON form of a rollout (`psarn rollout status --json`, docs/cli.md#psarn-rollout) and of a
 * hold, built here so that the local CLI and psarnd's control reads
 * (docs/design.md#remote-operations) show one view: a remote `rollout status` prints exactly what
 * the local one prints.
 */

import { routePsarn } from '../psarn/name.js';
import type { Operation } from '../store/types.js';
import type { HoldState } from './hold.js';
import { formatDuration, type Gate, type RolloutState } from './rollout.js';

/**
 * A Prometheus URL as status shows it: a password in its userinfo (basic auth,
 * docs/design.md#rollout-gates) becomes `***`, so `rollout status` never prints a secret.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** The JSON form of a rollout in `rollout status --json`. */
export interface RolloutView {
  id: number;
  psarn: string;
  zone: string;
  path: string;
  to: string;
  status: string;
  /** 1-based, the last step written. */
  step: number;
  steps: number[];
  percent: number;
  every: string;
  everyMs: number;
  preset?: string;
  gate?: Gate;
  /** When psarnd takes the next step (running only). */
  nextStepAt?: string;
  nextPercent?: number;
  pauseReason?: string;
  endReason?: string;
  lastGate?: string;
  startedBy?: string;
  startedAt: string;
  updatedAt: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function rolloutView(op: Operation<RolloutState>, namespace: string): RolloutView {
  const s: RolloutState = op.state;
  return {
    id: op.id,
    psarn: routePsarn(op, namespace),
    zone: op.zone,
    path: op.path,
    to: s.to,
    status: op.status,
    step: s.step + 1,
    steps: s.steps,
    percent: s.steps[s.step]!,
    every: formatDuration(s.everyMs),
    everyMs: s.everyMs,
    ...(s.preset === undefined ? {} : { preset: s.preset }),
    ...(s.gate === undefined ? {} : { gate: { query: s.gate.query, prometheus: shownUrl(s.gate.prometheus) } }),
    ...(op.dueAt === undefined ? {} : { nextStepAt: iso(op.dueAt), nextPercent: s.steps[s.step + 1]! }),
    ...(s.pauseReason === undefined ? {} : { pauseReason: s.pauseReason }),
    ...(s.endReason === undefined ? {} : { endReason: s.endReason }),
    ...(s.lastGate === undefined ? {} : { lastGate: s.lastGate }),
    ...(op.actor === undefined ? {} : { startedBy: op.actor }),
    startedAt: iso(op.createdAt),
    updatedAt: iso(op.updatedAt),
  };
}

/** A hold as a control read shows it (docs/design.md#remote-operations): the operation as `psarn hold --json` prints it, and the zone's epoch. */
export interface HoldView {
  psarn: string;
  hold: Operation<HoldState>;
  epoch?: number;
  /** The route's active rollout, if any (what `hold --json` and `release --json` show as pausedRollout). */
  rollout?: Operation;
}

export function holdView(
  op: Operation<HoldState>,
  namespace: string,
  epoch: number | undefined,
  rollout: Operation | undefined,
): HoldView {
  return {
    psarn: routePsarn(op, namespace),
    hold: op,
    ...(epoch === undefined ? {} : { epoch }),
    ...(rollout === undefined ? {} : { rollout: redacted(rollout) }),
  };
}

/** A rollout operation with its gate's Prometheus password shown as `***` (a state read never carries a secret). */
function redacted(op: Operation): Operation {
  const state = op.state as Partial<RolloutState> | undefined;
  if (state?.gate === undefined) return op;
  return { ...op, state: { ...state, gate: { ...state.gate, prometheus: shownUrl(state.gate.prometheus) } } };
}
