/**
 * Index batches over a dataset: a fresh seeded shuffle each epoch, optional
 * `drop_last`, and a cursor (epoch, batch) that a checkpoint stores and a
 * resumed run restores. The permutation of an epoch is a pure function of
 * (seed, epoch), so the cursor alone determines what comes next.
 */
import { MasaError, createRng } from '@masa-rl/core';

/** Where a data loader stands: the next batch is `batchIndex` of `epoch` (both 0-based). */
export interface DataLoaderState {
  epoch: number;
  batchIndex: number;
}

/** One batch of dataset indices. */
export interface DataBatch {
  indices: number[];
  epoch: number;
  batchIndex: number;
}

export interface DataLoaderOptions {
  /** Number of items in the dataset. */
  size: number;
  batchSize: number;
  /** Seed of the epoch shuffles. */
  seed: number;
  /** Shuffle each epoch. @default true */
  shuffle?: boolean;
  /** Drop the last incomplete batch of each epoch. @default true */
  dropLast?: boolean;
  /** Epochs to serve; `next()` returns `undefined` after them. @default Infinity */
  totalEpochs?: number;
  /** Resume from a saved cursor. @default { epoch: 0, batchIndex: 0 } */
  state?: DataLoaderState;
}

export interface DataLoader {
  readonly batchesPerEpoch: number;
  /** The next batch, or `undefined` once `totalEpochs` are exhausted. */
  next(): DataBatch | undefined;
  /** Whether `next()` would return a batch. */
  hasNext(): boolean;
  /** The order of dataset indices in `epoch`. */
  permutation(epoch: number): number[];
  getState(): DataLoaderState;
  setState(state: DataLoaderState): void;
}

/** Creates a resumable, seeded, epoch-shuffling batch loader. */
export function createDataLoader(options: DataLoaderOptions): DataLoader {
  const { size, batchSize, seed, shuffle = true, dropLast = true, totalEpochs = Number.POSITIVE_INFINITY } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new MasaError('CONFIG_INVALID', `batch size must be an integer >= 1, got ${batchSize}; check data.train_batch_size`);
  }
  const batchesPerEpoch = dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
  if (batchesPerEpoch === 0) {
    throw new MasaError(
      'DATASET_INVALID',
      `the training data has ${size} items, fewer than one batch of ${batchSize}; lower data.train_batch_size or add data`,
      { details: { size, batchSize } },
    );
  }
  let state: DataLoaderState = { epoch: 0, batchIndex: 0 };
  let cachedEpoch = -1;
  let cachedOrder: number[] = [];

  const permutation = (epoch: number): number[] => {
    const order = Array.from({ length: size }, (_, i) => i);
    if (shuffle) createRng(seed).fork(`epoch-${epoch}`).shuffle(order);
    return order;
  };
  const orderOf = (epoch: number): number[] => {
    if (epoch !== cachedEpoch) {
      cachedOrder = permutation(epoch);
      cachedEpoch = epoch;
    }
    return cachedOrder;
  };
  const setState = (next: DataLoaderState): void => {
    if (!Number.isInteger(next.epoch) || next.epoch < 0 || !Number.isInteger(next.batchIndex) || next.batchIndex < 0 || next.batchIndex > batchesPerEpoch) {
      throw new MasaError('CHECKPOINT_INVALID', `data loader cursor ${JSON.stringify(next)} does not fit ${batchesPerEpoch} batches per epoch; was the checkpoint made with other data or batch size?`);
    }
    state = { epoch: next.epoch, batchIndex: next.batchIndex };
  };
  if (options.state !== undefined) setState(options.state);

  return {
    batchesPerEpoch,
    permutation,
    getState: () => ({ ...state }),
    setState,
    hasNext() {
      const epoch = state.batchIndex >= batchesPerEpoch ? state.epoch + 1 : state.epoch;
      return epoch < totalEpochs;
    },
    next() {
      if (state.batchIndex >= batchesPerEpoch) state = { epoch: state.epoch + 1, batchIndex: 0 };
      if (state.epoch >= totalEpochs) return undefined;
      const order = orderOf(state.epoch);
      const start = state.batchIndex * batchSize;
      const batch: DataBatch = {
        indices: order.slice(start, Math.min(start + batchSize, size)),
        epoch: state.epoch,
        batchIndex: state.batchIndex,
      };
      state = { epoch: state.epoch, batchIndex: state.batchIndex + 1 };
      return batch;
    },
  };
}
