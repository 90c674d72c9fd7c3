/**
 * Turns the trainer's events into one metrics row per step, the unit both
 * loggers write: a `step-end`'s metrics (which already include that step's
 * validation), or a validation without a step of its own (step 0, before
 * training). A row is ready at its `step-end`, at the next `step-start`, or
 * at the end of the run.
 */
import type { TrainEvent } from '@masa-rl/trainer';

/** All numeric metrics of one step (the `step` key itself is left out). */
export interface MetricRow {
  step: number;
  metrics: Record<string, number>;
}

export interface MetricRows {
  /** Feeds one event; returns the rows it completed, in step order. */
  push(event: TrainEvent): MetricRow[];
  /** Returns the rows still pending (the run ended or stopped), in step order. */
  flush(): MetricRow[];
}

/** Creates an empty collector. */
export function createMetricRows(): MetricRows {
  const pending = new Map<number, Record<string, number>>();
  const merge = (step: number, metrics: Readonly<Record<string, unknown>>): void => {
    const row = pending.get(step) ?? {};
    for (const [name, value] of Object.entries(metrics)) {
      if (name !== 'step' && typeof value === 'number') row[name] = value;
    }
    pending.set(step, row);
  };
  const take = (upTo: number): MetricRow[] => {
    const steps = [...pending.keys()].filter((step) => step <= upTo).sort((a, b) => a - b);
    return steps.map((step) => {
      const metrics = pending.get(step) ?? {};
      pending.delete(step);
      return { step, metrics };
    });
  };
  return {
    push(event) {
      switch (event.type) {
        case 'validation-end':
          merge(event.step, event.metrics);
          return [];
        case 'step-end':
          merge(event.step, event.metrics);
          return take(event.step);
        case 'step-start':
          return take(event.step - 1);
        case 'run-end':
          return take(Number.POSITIVE_INFINITY);
        default:
          return [];
      }
    },
    flush() {
      return take(Number.POSITIVE_INFINITY);
    },
  };
}
