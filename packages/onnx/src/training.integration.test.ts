import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createAdamW } from './adamw.js';
import { grad } from './autodiff.js';
import { createSession } from './session.js';
import { createTensorValue, type TensorValue } from './tensor-value.js';
import { buildDecoderLoss, decoderParameters, initParameters, type TinyDecoderConfig } from './testing/tiny-decoder.js';

describe('training loop: forward + backward in one session.run, AdamW on the weight arrays in place', () => {
  it('memorises a fixed batch: the loss falls below 1% of its start', async () => {
    const config: TinyDecoderConfig = { vocab: 16, hidden: 32, layers: 2, queryHeads: 4, kvHeads: 2, headDim: 8, intermediate: 64, tied: false, qkNorm: true };
    const rng = createRng('memorise');
    const batch = 8;
    const seq = 16;
    // Random sequences whose first tokens differ, so every context has one right answer.
    const tokens = Array.from({ length: batch * (seq + 1) }, (_, i) => (i % (seq + 1) === 0 ? i / (seq + 1) : rng.int(0, config.vocab - 1)));
    const ids: bigint[] = [];
    const targets: bigint[] = [];
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < seq; t++) {
        ids.push(BigInt(tokens[b * (seq + 1) + t]!));
        targets.push(BigInt(tokens[b * (seq + 1) + t + 1]!));
      }
    }
    const feeds: Record<string, TensorValue> = {
      input_ids: createTensorValue('int64', [batch, seq], ids),
      targets: createTensorValue('int64', [batch, seq], targets),
      attention_mask: createTensorValue('int64', [batch, seq], new Array<bigint>(batch * seq).fill(1n)),
      position_ids: createTensorValue('int64', [batch, seq], Array.from({ length: batch * seq }, (_, i) => BigInt(i % seq))),
      token_weights: createTensorValue('float32', [batch, seq], new Array<number>(batch * seq).fill(1 / (batch * seq))),
      ...initParameters(rng, config, 'float32', 0.5),
    };
    const specs = decoderParameters(config);
    const { loss, parameters } = buildDecoderLoss(config, 'float32');
    const { graph, gradientNames } = grad({ loss, wrt: parameters });
    await using session = await createSession({ model: graph });
    // The optimizer updates the very arrays the session reads (zero-copy inputs).
    const weights = specs.map((spec) => feeds[spec.name]!.data as Float32Array);
    const optimizer = createAdamW({
      parameters: weights,
      learningRate: 1e-2,
      weightDecay: 0,
      maxGradNorm: 1,
      weightDecayMask: specs.map((spec) => spec.kind !== 'norm'),
    });
    let start = Number.NaN;
    let last = Number.NaN;
    let steps = 0;
    for (; steps < 400; steps++) {
      const out = await session.run(feeds);
      last = out['loss']!.data[0] as number;
      if (steps === 0) start = last;
      if (last < 0.01 * start) break;
      const result = optimizer.step(gradientNames.map((name) => out[name]!.data as Float32Array));
      expect(result.skipped).toBe(false);
    }
    expect(start).toBeGreaterThan(1.5); // ≈ ln(16) = 2.77 per token at the start
    expect(last).toBeLessThan(0.01 * start);
    expect(steps).toBeLessThan(400);
  });
});
