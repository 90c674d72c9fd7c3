import type { TrainEvent } from '@masa-rl/trainer';
import { describe, expect, it } from 'vitest';
import { createMetricRows } from './metric-rows.js';

const stepEnd = (step: number, metrics: Record<string, number>): TrainEvent => ({ type: 'step-end', step, metrics: { step, ...metrics } });

describe('createMetricRows', () => {
  it('gives one row per step: validation at step 0 alone, a step-end with its own validation merged once', () => {
    const rows = createMetricRows();
    expect(rows.push({ type: 'validation-end', step: 0, metrics: { 'val-core/d/acc': 0.1 }, ms: 5 })).toEqual([]);
    // Step 0 has no step-end: its row is ready when step 1 starts.
    expect(rows.push({ type: 'step-start', step: 1, epoch: 0, lr: 1e-3 })).toEqual([{ step: 0, metrics: { 'val-core/d/acc': 0.1 } }]);
    expect(rows.push({ type: 'update-end', step: 1, optimizerSteps: 1, microBatches: 1, loss: 0.5, gradNorm: 1, ms: 3 })).toEqual([]);
    expect(rows.push(stepEnd(1, { 'actor/pg_loss': 0.5 }))).toEqual([{ step: 1, metrics: { 'actor/pg_loss': 0.5 } }]);
    rows.push({ type: 'step-start', step: 2, epoch: 0, lr: 1e-3 });
    // The trainer yields the step's validation before its step-end, whose metrics include it again.
    rows.push({ type: 'validation-end', step: 2, metrics: { 'val-core/d/acc': 0.3 }, ms: 5 });
    expect(rows.push(stepEnd(2, { 'val-core/d/acc': 0.3, 'actor/pg_loss': 0.25 }))).toEqual([{ step: 2, metrics: { 'val-core/d/acc': 0.3, 'actor/pg_loss': 0.25 } }]);
    expect(rows.push({ type: 'run-end', step: 2, reason: 'completed', ms: 10 })).toEqual([]);
    expect(rows.flush()).toEqual([]);
  });

  it('flushes a validation the run ended or stopped after', () => {
    const rows = createMetricRows();
    rows.push({ type: 'validation-end', step: 0, metrics: { v: 1 }, ms: 1 });
    expect(rows.push({ type: 'run-end', step: 0, reason: 'data-exhausted', ms: 1 })).toEqual([{ step: 0, metrics: { v: 1 } }]);
    rows.push({ type: 'validation-end', step: 3, metrics: { v: 2 }, ms: 1 });
    expect(rows.flush()).toEqual([{ step: 3, metrics: { v: 2 } }]);
  });
});
