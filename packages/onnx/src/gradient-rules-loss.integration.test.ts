import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createGraph } from './graph.js';
import { logSoftmax } from './ops-reduce.js';
import { gatherElements, squeeze, unsqueeze } from './ops-shape.js';
import { softmaxCrossEntropy, tokenLogProbs } from './ops-loss.js';
import { createSession } from './session.js';
import { checkGradients } from './testing/gradient-check.js';
import { int64Tensor, randomTensor } from './testing/random-tensor.js';

const rng = createRng('loss-gradients');
const TOL64 = 1e-6;

describe('cross-entropy gradient rules vs finite differences (float64)', () => {
  for (const reduction of ['none', 'sum', 'mean'] as const) {
    it(`SoftmaxCrossEntropyLoss, reduction ${reduction}, with repeated labels`, async () => {
      const report = await checkGradients({
        inputs: { x: randomTensor(rng, 'float64', [4, 5], { min: -2, max: 2 }), labels: int64Tensor([4], [1, 1, 4, 0]) },
        wrt: ['x'],
        build: ({ x, labels }) => softmaxCrossEntropy(x!, labels!, { reduction }),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    });
  }

  it('SoftmaxCrossEntropyLoss with ignore_index (mean over the kept rows)', async () => {
    for (const reduction of ['none', 'mean'] as const) {
      const report = await checkGradients({
        inputs: { x: randomTensor(rng, 'float64', [4, 3]), labels: int64Tensor([4], [2, -100, 0, -100]) },
        wrt: ['x'],
        build: ({ x, labels }) => softmaxCrossEntropy(x!, labels!, { reduction, ignoreIndex: -100 }),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    }
  });

  it('tokenLogProbs over [batch, seq, vocab] logits with symbolic dims', async () => {
    const report = await checkGradients({
      inputs: { logits: randomTensor(rng, 'float64', [2, 3, 5], { min: -3, max: 3 }), targets: int64Tensor([2, 3], [0, 4, 4, 2, 1, 0]) },
      declaredShapes: { logits: ['batch', 'seq', 5], targets: ['batch', 'seq'] },
      wrt: ['logits'],
      build: ({ logits, targets }) => tokenLogProbs(logits!, targets!),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('tokenLogProbs equals logSoftmax + GatherElements', async () => {
    const g = createGraph();
    const logits = g.input('logits', 'float64', ['batch', 'seq', 7]);
    const targets = g.input('targets', 'int64', ['batch', 'seq']);
    g.output('fused', tokenLogProbs(logits, targets));
    g.output('plain', squeeze(gatherElements(logSoftmax(logits), unsqueeze(targets, [-1]), { axis: -1 }), [-1]));
    await using session = await createSession({ model: g });
    const out = await session.run({
      logits: randomTensor(rng, 'float64', [3, 4, 7], { min: -5, max: 5 }),
      targets: int64Tensor([3, 4], [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4]),
    });
    const fused = Array.from(out['fused']!.data as Float64Array);
    const plain = Array.from(out['plain']!.data as Float64Array);
    expect(out['fused']!.dims).toEqual([3, 4]);
    fused.forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 12));
  });
});
