/**
 * Gradient rule for `SoftmaxCrossEntropyLoss` (2-D scores, no class weights):
 * d loss_i / d scores_i = g_i · (softmax(scores_i) − onehot(label_i)), built as
 * Softmax → Mul → ScatterElements(add), with ignored rows zeroed.
 */
import { MasaError } from '@masa-rl/core';
import type { GradientRule } from './gradient-rule.js';
import { intAttribute, stringAttribute } from './gradient-rule.js';
import type { Tensor } from './graph.js';
import { cast, div, equal, mul, neg, not, where } from './ops-elementwise.js';
import { reduceSum, softmax } from './ops-reduce.js';
import { expand, scatterElements, unsqueeze } from './ops-shape.js';
import { shapeOf } from './runtime-shape.js';
import { countOver } from './gradient-helpers.js';

export const LOSS_RULES: Readonly<Record<string, GradientRule>> = {
  SoftmaxCrossEntropyLoss: (c) => {
    const scores = c.inputs[0] as Tensor;
    const labelsRaw = c.inputs[1] as Tensor;
    if (c.inputs[2] !== undefined) {
      throw new MasaError('GRADIENT_UNDEFINED', `no gradient rule for op SoftmaxCrossEntropyLoss with class weights (node ${c.node.index})`);
    }
    if (scores.rank !== 2) {
      throw new MasaError('GRADIENT_UNDEFINED', `no gradient rule for op SoftmaxCrossEntropyLoss on rank-${scores.rank} scores (node ${c.node.index}); reshape to [N, C]`);
    }
    const reduction = stringAttribute(c.node, 'reduction', 'mean');
    const gy = c.outputGradients[0] as Tensor;
    let labels = cast(labelsRaw, 'int64'); // [N]
    const ignore = c.node.attributes['ignore_index'] === undefined ? undefined : intAttribute(c.node, 'ignore_index', 0);
    const kept = ignore === undefined ? undefined : not(equal(labels, ignore)); // [N] bool
    // Per-row upstream gradient g [N].
    let perRow: Tensor;
    if (reduction === 'none') perRow = gy;
    else {
      perRow = expand(gy, shapeOf(labels), { shape: labels.shape });
      if (reduction === 'mean') {
        const count = kept === undefined ? countOver(scores, [0]) : reduceSum(cast(kept, gy.dtype), { keepdims: false });
        perRow = div(perRow, count);
      }
    }
    if (kept !== undefined) {
      perRow = where(kept, perRow, 0);
      labels = where(kept, labels, 0); // any valid index: its update is 0
    }
    const column = unsqueeze(perRow, [1]); // [N, 1]
    const weighted = mul(softmax(scores, { axis: 1 }), column); // [N, C]
    const gx = scatterElements(weighted, unsqueeze(labels, [1]), neg(column), { axis: 1, reduction: 'add' });
    return [gx, undefined, undefined];
  },
};
