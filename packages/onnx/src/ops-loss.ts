/**
 * Cross-entropy and token log-probabilities. `tokenLogProbs` is the efficient
 * way to score targets under a language-model head: it never materialises the
 * `[tokens, vocab]` log-softmax, and its gradient is one softmax, one multiply
 * and one scatter (see the `SoftmaxCrossEntropyLoss` rule).
 */
import { MasaError } from '@masa-rl/core';
import { addNode, type Tensor } from './graph.js';
import { neg } from './ops-elementwise.js';
import { reshape } from './ops-shape.js';
import { requireDType, requireFloat } from './operands.js';
import { dimsEqual, formatShape, type Dim } from './shape.js';

/** Options of {@link softmaxCrossEntropy}. */
export interface SoftmaxCrossEntropyOptions {
  /**
   * `'none'` returns one loss per row, `'sum'` and `'mean'` a scalar.
   * @default 'none'
   */
  reduction?: 'none' | 'sum' | 'mean';
  /** Label value whose rows contribute 0 (and are left out of the mean). */
  ignoreIndex?: number;
}

/** `-log softmax(scores)[label]` per row (ONNX `SoftmaxCrossEntropyLoss`). scores: `[N, C]`, labels: `[N]` int64. */
export function softmaxCrossEntropy(scores: Tensor, labels: Tensor, options: SoftmaxCrossEntropyOptions = {}): Tensor {
  requireFloat('SoftmaxCrossEntropyLoss', scores, 'scores');
  requireDType('SoftmaxCrossEntropyLoss', labels, ['int64', 'int32'], 'labels');
  if (scores.graph !== labels.graph) throw new MasaError('GRAPH_INVALID', 'SoftmaxCrossEntropyLoss: scores and labels come from different graphs');
  if (scores.rank !== 2 || labels.rank !== 1 || !dimsEqual(scores.shape[0] as Dim, labels.shape[0] as Dim)) {
    throw new MasaError(
      'GRAPH_INVALID',
      `SoftmaxCrossEntropyLoss: scores must be [N, C] and labels [N], got ${formatShape(scores.shape)} and ${formatShape(labels.shape)}`,
    );
  }
  const reduction = options.reduction ?? 'none';
  return addNode(scores.graph, {
    opType: 'SoftmaxCrossEntropyLoss',
    inputs: [scores, labels],
    outputs: [{ dtype: scores.dtype, shape: reduction === 'none' ? [scores.shape[0] as Dim] : [] }],
    attributes: {
      reduction: { type: 'string', value: reduction },
      ...(options.ignoreIndex === undefined ? {} : { ignore_index: { type: 'int', value: options.ignoreIndex } }),
    },
  })[0] as Tensor;
}

/**
 * `log softmax(logits)[target]` for every position: logits `[..., vocab]`,
 * targets `[...]` (int64) → `[...]`.
 */
export function tokenLogProbs(logits: Tensor, targets: Tensor): Tensor {
  const vocab = logits.shape[logits.rank - 1] as Dim;
  const leading = logits.shape.slice(0, -1);
  if (targets.rank !== leading.length || !targets.shape.every((dim, axis) => dimsEqual(dim, leading[axis] as Dim))) {
    throw new MasaError(
      'GRAPH_INVALID',
      `tokenLogProbs: targets ${formatShape(targets.shape)} must match the leading dims of logits ${formatShape(logits.shape)}`,
    );
  }
  const rows = reshape(logits, [-1, vocab]); // [tokens, vocab]
  const labels = reshape(targets, [-1]); // [tokens]
  const nll = softmaxCrossEntropy(rows, labels, { reduction: 'none' }); // [tokens]
  return reshape(neg(nll), targets.shape.length === 0 ? [] : [...targets.shape]);
}
