/**
 * Wraps the trainer's algorithm (through its `algorithmFactory` seam) to see
 * every collected step, for the meta diagnostics of `meta-stats.jsonl`.
 */
import { createAlgorithm, type AlgorithmFactory, type CollectedStep, type StepAlgorithm, type StepContext, type TrainEvent } from '@masa-rl/trainer';

export interface ObservedAlgorithmOptions {
  /** Called with every step's collected rollout groups. */
  onCollected?: (step: number, collected: CollectedStep) => void;
  /** The algorithm to wrap. @default the trainer's `createAlgorithm` */
  inner?: AlgorithmFactory;
}

/** An algorithm factory that passes every collected step to `onCollected`. */
export function createObservedAlgorithmFactory(options: ObservedAlgorithmOptions): AlgorithmFactory {
  const { onCollected, inner = createAlgorithm } = options;
  return (input) => {
    const algorithm = inner(input);
    const wrapped: StepAlgorithm = {
      name: algorithm.name,
      miniBatchSize: (collected, config) => algorithm.miniBatchSize(collected, config),
      async *collect(context: StepContext): AsyncGenerator<TrainEvent, CollectedStep | undefined> {
        const collected = yield* algorithm.collect(context);
        if (collected !== undefined) onCollected?.(context.step, collected);
        return collected;
      },
      ...(algorithm.afterUpdate === undefined
        ? {}
        : { afterUpdate: (context: StepContext, collected: CollectedStep) => (algorithm.afterUpdate as NonNullable<StepAlgorithm['afterUpdate']>)(context, collected) }),
      ...(algorithm.getState === undefined ? {} : { getState: () => algorithm.getState?.() }),
      ...(algorithm.setState === undefined ? {} : { setState: (state: unknown) => algorithm.setState?.(state) }),
    };
    return wrapped;
  };
}
