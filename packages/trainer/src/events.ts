/**
 * The events `trainIter()` yields, a union on `type` with noun-verb names.
 * Apps render them (progress bars, NDJSON); the trainer never prints.
 */
import type { AlgorithmName } from './config-schema.js';

/** Which family of sequences a generation or reward pass was about. */
export type RolloutBranch = 'solution' | 'meta' | 'validation';

/** The metrics of one step: what `metrics.jsonl` holds, one object per step. */
export interface StepMetrics {
  step: number;
  [name: string]: number;
}

export type TrainEvent =
  | {
      type: 'run-start';
      algorithm: AlgorithmName;
      /** Last completed step (0 for a fresh run; the checkpoint's step when resuming). */
      startStep: number;
      totalSteps: number;
      runDir: string;
      /** Checkpoint folder the run resumed from, or `null`. */
      resumedFrom: string | null;
      engine: string;
      backend: string;
    }
  | { type: 'step-start'; step: number; epoch: number; lr: number }
  | {
      type: 'rollout-end';
      step: number;
      /** Generation round inside the step (DAPO may need several), from 1. */
      round: number;
      branch: RolloutBranch;
      requests: number;
      sequences: number;
      /** Response tokens generated. */
      tokens: number;
      ms: number;
    }
  | {
      type: 'reward-end';
      step: number;
      round: number;
      branch: RolloutBranch;
      sequences: number;
      meanScore: number;
      /** Reward calls that threw or returned a non-number (scored 0). */
      errors: number;
      ms: number;
    }
  | {
      type: 'update-end';
      step: number;
      optimizerSteps: number;
      microBatches: number;
      /** Mean mini-batch loss. */
      loss: number;
      /** Mean gradient norm before clipping. */
      gradNorm: number;
      ms: number;
    }
  | { type: 'validation-end'; step: number; metrics: Record<string, number>; ms: number }
  | { type: 'checkpoint-saved'; step: number; path: string; removed: string[]; ms: number }
  | { type: 'step-end'; step: number; metrics: StepMetrics }
  | {
      type: 'warning';
      step: number;
      /** Stable identifier (`reward-error`, `dapo-gen-cap`, `config-changed` …). */
      code: string;
      message: string;
    }
  | {
      type: 'run-end';
      /** Last completed step. */
      step: number;
      /**
       * `completed`: all steps done; `data-exhausted`: the epochs ran out first (DAPO can consume several batches per step);
       * `stopped`: `stopRequested` said so at a step boundary (the last finished step is checkpointed).
       */
      reason: 'completed' | 'data-exhausted' | 'stopped';
      ms: number;
    };

/** The event types in the order a plain step emits them (for docs and tests). */
export type TrainEventType = TrainEvent['type'];
