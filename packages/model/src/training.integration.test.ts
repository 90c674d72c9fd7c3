import { createRng } from '@masa-rl/core';
import { createAdamW, createTensorValue, mul, neg, reduceSum, sub } from '@masa-rl/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from './checkpoint.js';
import { loadModel } from './checkpoint.js';
import type { LoraConfig } from './decoder-graph.js';
import { exportModel } from './export.js';
import { createLoraWeights, loadLoraAdapter, saveLoraAdapter } from './lora.js';
import type { TrainingLoss } from './model-graphs.js';
import { createModelRunner } from './model-runner.js';
import { projectionPrefix } from './parameters.js';
import { leftPadBatch } from './token-batch.js';
import type { TokenBatch } from './token-batch.js';
import { createTrainingStep } from './training-step.js';
import { referenceTokenLogProbs } from './__tests__/reference-forward.js';
import type { ReferenceWeights } from './__tests__/reference-forward.js';
import { relativeError, tempDir, tinyModel } from './__tests__/helpers.js';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir('training');
});
afterAll(async () => {
  await dir.cleanup();
});

const ENTROPY_BONUS = 0.1;

/** Σ w·(−log p − 0.1·H): a weighted SFT loss with an entropy bonus, from a declared input. */
const lossWithEntropy: TrainingLoss = ({ graph, dtype, logProbs, entropy }) => {
  const weights = graph.input('token_weights', dtype, ['batch_size', 'sequence_length']);
  const nll = neg(reduceSum(mul(logProbs, weights), { keepdims: false }));
  const bonus = reduceSum(mul(entropy(), weights), { keepdims: false });
  return { loss: sub(nll, mul(bonus, ENTROPY_BONUS)), outputs: { nll } };
};

/** The same loss computed with the plain-TS reference (each row alone, unpadded). */
function referenceLoss(model: LoadedModel, weights: ReferenceWeights, rows: number[][], tokenWeights: Float64Array, seq: number): number {
  let total = 0;
  rows.forEach((row, b) => {
    const { logProbs, entropies } = referenceTokenLogProbs(model.config, weights, row);
    const offset = seq - row.length;
    logProbs.forEach((lp, i) => {
      const w = tokenWeights[b * seq + offset + i + 1] as number;
      total += w * (-lp - ENTROPY_BONUS * (entropies[i] as number));
    });
  });
  return total;
}

/** Random rows, their padded batch and per-token weights on positions that have a prediction. */
function makeBatch(seed: string, vocab: number): { rows: number[][]; batch: TokenBatch; tokenWeights: Float64Array } {
  const rng = createRng(seed);
  const rows = [6, 4].map((length) => Array.from({ length }, () => rng.int(0, vocab - 1)));
  const batch = leftPadBatch({ sequences: rows });
  const tokenWeights = new Float64Array(batch.batch * batch.seq);
  rows.forEach((row, b) => {
    for (let t = batch.seq - row.length + 1; t < batch.seq; t++) tokenWeights[b * batch.seq + t] = 0.5 + rng.next();
  });
  return { rows, batch, tokenWeights };
}

describe('training graph gradients vs finite differences (float64)', () => {
  const variants = {
    'qwen3 (q/k norms)': { architecture: 'qwen3', seed: 'fd-qwen3', ropeTheta: 10000 },
    'qwen2 (biases), tied': { architecture: 'qwen2', seed: 'fd-qwen2', ropeTheta: 10000, tie: true },
    'llama (llama3 rope)': {
      architecture: 'llama',
      seed: 'fd-llama',
      ropeTheta: 10000,
      ropeScaling: { factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 },
    },
  } as const;
  for (const [name, options] of Object.entries(variants)) {
    it(`${name}: every parameter tensor, 3 sampled entries each`, async () => {
      const model = await tinyModel(dir.path, `fd-${options.seed}`, options);
      const { rows, batch, tokenWeights } = makeBatch(`batch-${name}`, model.config.vocabSize);
      await using step = await createTrainingStep({ config: model.config, weights: model.weights, loss: lossWithEntropy });
      expect(step.lossInputNames).toEqual(['token_weights']);
      const result = await step.run(batch, { token_weights: createTensorValue('float64', [batch.batch, batch.seq], tokenWeights) });
      expect(result.loss).toBeCloseTo(referenceLoss(model, model.weights, rows, tokenWeights, batch.seq), 10);
      expect(Object.keys(result.outputs)).toEqual(['nll']);
      const rng = createRng(`entries-${name}`);
      const h = 1e-5;
      step.trainableNames.forEach((parameter, p) => {
        const data = step.parameters[p] as Float64Array;
        const gradient = result.gradients[p] as Float64Array;
        expect(gradient.length).toBe(data.length);
        let scale = 0;
        let error = 0;
        for (let k = 0; k < 3; k++) {
          const i = rng.int(0, data.length - 1);
          const saved = data[i] as number;
          data[i] = saved + h;
          const plus = referenceLoss(model, model.weights, rows, tokenWeights, batch.seq);
          data[i] = saved - h;
          const minus = referenceLoss(model, model.weights, rows, tokenWeights, batch.seq);
          data[i] = saved;
          const numeric = (plus - minus) / (2 * h);
          scale = Math.max(scale, Math.abs(numeric));
          error = Math.max(error, Math.abs(numeric - (gradient[i] as number)));
        }
        expect(error / Math.max(scale, 1e-6), parameter).toBeLessThan(1e-5);
        // Every tensor gets a real gradient somewhere (embedding rows of unused tokens are 0).
        expect(Math.max(...Array.from(gradient, Math.abs)), parameter).toBeGreaterThan(1e-8);
      });
    });
  }
});

describe('LoRA', () => {
  const lora: LoraConfig = { rank: 2, alpha: 5, targetModules: ['q_proj', 'v_proj', 'down_proj'] };

  it('adapter gradients match finite differences of the reference run on W + (alpha/r)·B·A', async () => {
    const model = await tinyModel(dir.path, 'lora-fd', { architecture: 'qwen3', seed: 'lora-fd', ropeTheta: 10000 });
    const adapters = createLoraWeights({ config: model.config, lora, seed: 'adapters', dtype: 'float64', initB: 'random' });
    const { rows, batch, tokenWeights } = makeBatch('lora-batch', model.config.vocabSize);
    // Independent merge for the oracle.
    const merged = (): Map<string, Float64Array> => {
      const out = new Map(model.weights as Map<string, Float64Array>);
      for (let layer = 0; layer < model.config.numLayers; layer++) {
        for (const module of lora.targetModules) {
          const prefix = projectionPrefix(layer, module);
          const w = model.weights.get(`${prefix}.weight`) as Float64Array;
          const a = adapters.get(`base_model.model.${prefix}.lora_A.weight`) as Float64Array;
          const b = adapters.get(`base_model.model.${prefix}.lora_B.weight`) as Float64Array;
          const inDim = a.length / lora.rank;
          const copy = Float64Array.from(w);
          for (let o = 0; o < w.length / inDim; o++) {
            for (let i = 0; i < inDim; i++) {
              let s = 0;
              for (let k = 0; k < lora.rank; k++) s += (b[o * lora.rank + k] as number) * (a[k * inDim + i] as number);
              copy[o * inDim + i] = (copy[o * inDim + i] as number) + (lora.alpha / lora.rank) * s;
            }
          }
          out.set(`${prefix}.weight`, copy);
        }
      }
      return out;
    };
    await using step = await createTrainingStep({ config: model.config, weights: model.weights, lora: { config: lora, weights: adapters }, loss: lossWithEntropy });
    // The same step with the frozen base baked into the graph as initializers.
    await using baked = await createTrainingStep({
      config: model.config,
      weights: model.weights,
      lora: { config: lora, weights: adapters },
      loss: lossWithEntropy,
      frozenWeights: 'initializers',
    });
    expect(step.trainableNames).toHaveLength(2 * 3 * model.config.numLayers);
    expect(step.trainableNames.every((n) => n.includes('.lora_'))).toBe(true);
    const result = await step.run(batch, { token_weights: createTensorValue('float64', [batch.batch, batch.seq], tokenWeights) });
    expect(result.loss).toBeCloseTo(referenceLoss(model, merged(), rows, tokenWeights, batch.seq), 10);
    const bakedResult = await baked.run(batch, { token_weights: createTensorValue('float64', [batch.batch, batch.seq], tokenWeights) });
    expect(bakedResult.loss).toBeCloseTo(result.loss, 12);
    bakedResult.gradients.forEach((g, p) => expect(relativeError(g, result.gradients[p] as Float64Array)).toBeLessThan(1e-12));
    const rng = createRng('lora-entries');
    const h = 1e-5;
    step.trainableNames.forEach((parameter, p) => {
      const data = step.parameters[p] as Float64Array;
      let scale = 0;
      let error = 0;
      for (let k = 0; k < 3; k++) {
        const i = rng.int(0, data.length - 1);
        const saved = data[i] as number;
        data[i] = saved + h;
        const plus = referenceLoss(model, merged(), rows, tokenWeights, batch.seq);
        data[i] = saved - h;
        const minus = referenceLoss(model, merged(), rows, tokenWeights, batch.seq);
        data[i] = saved;
        const numeric = (plus - minus) / (2 * h);
        scale = Math.max(scale, Math.abs(numeric));
        error = Math.max(error, Math.abs(numeric - ((result.gradients[p] as Float64Array)[i] as number)));
      }
      expect(error / Math.max(scale, 1e-6), parameter).toBeLessThan(1e-5);
    });
  });

  it('training moves only the adapters (base weights bit-identical); the merged export equals the adapter model', async () => {
    const model = await tinyModel(dir.path, 'lora-train', { architecture: 'llama', seed: 'lora-train', ropeTheta: 10000 }, 'float32');
    const baseBefore = new Map([...model.weights].map(([name, data]) => [name, Float32Array.from(data as Float32Array)]));
    const adapters = createLoraWeights({ config: model.config, lora, seed: 'train-adapters' });
    const { batch, tokenWeights } = makeBatch('lora-train-batch', model.config.vocabSize);
    const sft: TrainingLoss = ({ graph, dtype, logProbs }) =>
      neg(reduceSum(mul(logProbs, graph.input('token_weights', dtype, ['batch_size', 'sequence_length'])), { keepdims: false }));
    await using step = await createTrainingStep({ config: model.config, weights: model.weights, lora: { config: lora, weights: adapters }, loss: sft });
    const optimizer = createAdamW({ parameters: step.parameters as Float32Array[], learningRate: 0.05, weightDecay: 0 });
    const feeds = { token_weights: createTensorValue('float32', [batch.batch, batch.seq], Float32Array.from(tokenWeights)) };
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const result = await step.run(batch, feeds);
      losses.push(result.loss);
      optimizer.step(result.gradients as Float32Array[]);
    }
    expect(losses[4]).toBeLessThan((losses[0] as number) * 0.9);
    for (const [name, data] of model.weights) {
      expect(Buffer.from((data as Float32Array).buffer).equals(Buffer.from((baseBefore.get(name) as Float32Array).buffer)), name).toBe(true);
    }
    expect(Array.from(adapters.values()).some((a) => a.some((v) => v !== 0) && a.length > 0)).toBe(true);

    // Save and reload the adapter in PEFT's format: bit-identical.
    const adapterDir = `${dir.path}/adapter`;
    await saveLoraAdapter({ adapterDir, config: model.config, lora, adapters });
    const reloaded = await loadLoraAdapter({ adapterDir, config: model.config });
    expect(reloaded.lora).toEqual({ ...lora, useRslora: false });
    for (const [name, data] of adapters) expect(reloaded.adapters.get(name), name).toEqual(data);

    // In float64: the adapter model and the merged export give the same logits.
    const base64 = await loadModel({ modelDir: model.modelDir, dtype: 'float64' });
    const adapters64 = new Map([...reloaded.adapters].map(([name, data]) => [name, Float64Array.from(data)]));
    const outDir = `${dir.path}/merged`;
    await exportModel({ config: base64.config, weights: base64.weights, lora: { config: lora, adapters: adapters64 }, outDir, format: 'hf', dtype: 'F64' });
    const merged = await loadModel({ modelDir: outDir, dtype: 'float64' });
    const prompt = leftPadBatch({ sequences: [[3, 14, 15, 9, 2, 6]] });
    await using withAdapter = createModelRunner({ config: base64.config, weights: base64.weights, lora: { config: lora, weights: adapters64 } });
    await using mergedRunner = createModelRunner({ config: merged.config, weights: merged.weights });
    const a = await withAdapter.step(prompt);
    const b = await mergedRunner.step(prompt);
    expect(relativeError(b.logits, a.logits)).toBeLessThan(1e-9);
    // The adapter really changed the model.
    await using baseRunner = createModelRunner({ config: base64.config, weights: base64.weights });
    expect(relativeError((await baseRunner.step(prompt)).logits, a.logits)).toBeGreaterThan(1e-4);
  });
});
