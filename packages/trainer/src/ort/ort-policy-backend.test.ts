import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, createRng } from '@masa-rl/core';
import { createModelRunner, type FloatArray } from '@masa-rl/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyLossSpec, TrainSequence } from '@masa-rl/core';
import { createTinyModel } from './__tests__/tiny-model.js';
import { createOrtPolicyBackend, type OrtPolicyBackend } from './ort-policy-backend.js';

const VOCAB = 13;

/** Random sequences of varied prompt and response lengths. */
function makeSequences(seed: number, count: number): Array<{ promptTokenIds: number[]; responseTokenIds: number[] }> {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => ({
    promptTokenIds: Array.from({ length: rng.int(1, 4) }, () => rng.int(0, VOCAB - 1)),
    responseTokenIds: Array.from({ length: rng.int(1, 5) }, () => rng.int(0, VOCAB - 1)),
  }));
}

function logSoftmaxAt(logits: ArrayLike<number>, offset: number, size: number, temperature: number, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, (logits[offset + i] as number) / temperature);
  let sum = 0;
  for (let i = 0; i < size; i++) sum += Math.exp((logits[offset + i] as number) / temperature - max);
  return (logits[offset + index] as number) / temperature - max - Math.log(sum);
}

/** Central differences of `loss()` at entry `index` of `array` (float64 weights). */
async function finiteDifference(array: FloatArray, index: number, loss: () => Promise<number>, h = 1e-5): Promise<number> {
  const saved = array[index] as number;
  array[index] = saved + h;
  const plus = await loss();
  array[index] = saved - h;
  const minus = await loss();
  array[index] = saved;
  return (plus - minus) / (2 * h);
}

describe('ORT policy backend (float64)', () => {
  let backend: OrtPolicyBackend;
  beforeAll(async () => {
    backend = await createOrtPolicyBackend({ model: createTinyModel({ seed: 7, dtype: 'float64' }), sequenceBucket: 8 });
  });
  afterAll(async () => {
    await backend.release();
  });

  it('scores response tokens like the model runner at T = 1 and like a softmax of logits / T otherwise', async () => {
    const sequences = makeSequences(1, 5);
    const got = await backend.logprobs({ sequences, temperature: 1 });
    const model = { config: backend.config, weights: backend.weights as Map<string, FloatArray> };
    await using runner = createModelRunner({ ...model, dtype: 'float64' });
    for (const [row, sequence] of sequences.entries()) {
      const tokens = [...sequence.promptTokenIds, ...sequence.responseTokenIds];
      const seq = tokens.length;
      const { logProbs } = await runner.tokenLogProbs({
        batch: 1,
        seq,
        inputIds: BigInt64Array.from(tokens.map(BigInt)),
        attentionMask: new BigInt64Array(seq).fill(1n),
      });
      const expected = Array.from(logProbs.subarray(sequence.promptTokenIds.length));
      expect(got[row]).toHaveLength(sequence.responseTokenIds.length);
      (got[row] as number[]).forEach((value, j) => expect(value).toBeCloseTo(expected[j] as number, 10));
    }
    // T = 0.7: last-position logits of every prefix, through a plain log-softmax.
    const temperature = 0.7;
    const scaled = await backend.logprobs({ sequences, temperature });
    for (const [row, sequence] of sequences.entries()) {
      for (let j = 0; j < sequence.responseTokenIds.length; j++) {
        const prefix = [...sequence.promptTokenIds, ...sequence.responseTokenIds.slice(0, j)];
        const { logits } = await runner.step({
          batch: 1,
          seq: prefix.length,
          inputIds: BigInt64Array.from(prefix.map(BigInt)),
          attentionMask: new BigInt64Array(prefix.length).fill(1n),
          positionIds: BigInt64Array.from(prefix.map((_, i) => BigInt(i))),
        });
        const expected = logSoftmaxAt(logits, 0, VOCAB, temperature, sequence.responseTokenIds[j] as number);
        expect((scaled[row] as number[])[j]).toBeCloseTo(expected, 10);
      }
    }
  });

  it("gives each row the same log-probs whatever else is in the batch (padding and buckets don't leak)", async () => {
    const sequences = makeSequences(2, 6);
    const together = await backend.logprobs({ sequences, temperature: 1 });
    for (const [row, sequence] of sequences.entries()) {
      const [alone] = await backend.logprobs({ sequences: [sequence], temperature: 1 });
      (alone as number[]).forEach((value, j) => expect(value).toBeCloseTo((together[row] as number[])[j] as number, 12));
    }
  });

  it('cross-entropy: loss = −Σ w Σ log p, and its gradient matches finite differences at sampled entries of every parameter', async () => {
    const rng = createRng(3);
    const sequences: TrainSequence[] = makeSequences(3, 4).map((sequence) => ({ ...sequence, lossWeight: 0.1 + rng.next() }));
    const logprobs = await backend.logprobs({ sequences, temperature: 1 });
    const expectedLoss = -sequences.reduce((sum, sequence, row) => sum + sequence.lossWeight * (logprobs[row] as number[]).reduce((a, b) => a + b, 0), 0);
    backend.zeroGradients();
    const result = await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
    expect(result.loss).toBeCloseTo(expectedLoss, 10);
    expect(result.tokens).toBe(sequences.reduce((sum, sequence) => sum + sequence.responseTokenIds.length, 0));
    const analytic = backend.gradients();
    const lossOnly = async (): Promise<number> => (await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' })).loss;
    let checked = 0;
    for (const name of backend.parameterNames) {
      const array = backend.weights.get(name) as FloatArray;
      const gradient = analytic.get(name) as Float64Array;
      for (let k = 0; k < 2; k++) {
        const index = rng.int(0, array.length - 1);
        const numeric = await finiteDifference(array, index, lossOnly);
        expect(Math.abs((gradient[index] as number) - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
        checked += 1;
      }
    }
    expect(checked).toBe(2 * backend.parameterNames.length);
    backend.zeroGradients();
  });

  it('policy loss (clipped PPO + k3 KL): the loss matches a hand computation and the gradient matches finite differences', async () => {
    const rng = createRng(4);
    const base = makeSequences(4, 4);
    const current = await backend.logprobs({ sequences: base, temperature: 1 });
    // Offsets put tokens inside the clip range, above it, below it and (A < 0) beyond the dual clip c = 3.
    const offsets = [0.1, -0.6, 0.6, -1.5, 0.05, -0.1];
    const sequences: TrainSequence[] = base.map((sequence, row) => ({
      ...sequence,
      lossWeight: 0.2 + rng.next(),
      advantage: row % 2 === 0 ? 1.3 : -0.8,
      oldLogprobs: (current[row] as number[]).map((value, j) => value - (offsets[(row + j) % offsets.length] as number)),
      refLogprobs: (current[row] as number[]).map((value) => value + 0.3 * rng.normal()),
    }));
    const loss: PolicyLossSpec = { kind: 'policy', temperature: 1, clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: 3, entropyCoeff: 0, kl: { coef: 0.05, type: 'low_var_kl' } };
    let expected = 0;
    let tokens = 0;
    let clipped = 0;
    sequences.forEach((sequence, row) => {
      (current[row] as number[]).forEach((logp, j) => {
        const a = sequence.advantage as number;
        const ratio = Math.exp(logp - (sequence.oldLogprobs?.[j] as number));
        const l1 = -a * ratio;
        const l2 = -a * Math.min(Math.max(ratio, 0.8), 1.28);
        let token = Math.max(l1, l2);
        if (a < 0) token = Math.min(token, -a * 3);
        const x = (sequence.refLogprobs?.[j] as number) - logp;
        token += 0.05 * (Math.exp(x) - x - 1);
        expected += sequence.lossWeight * token;
        tokens += 1;
        if (l2 > l1) clipped += 1;
      });
    });
    backend.zeroGradients();
    const result = await backend.forwardBackward({ sequences }, loss);
    expect(result.loss).toBeCloseTo(expected, 10);
    expect(result.tokens).toBe(tokens);
    expect(result.metrics['pg_clipfrac']).toBeCloseTo(clipped / tokens, 12);
    expect(clipped).toBeGreaterThan(0);
    const analytic = backend.gradients();
    // Also an entropy bonus (a different graph): checked by finite differences only.
    const withEntropy: PolicyLossSpec = { ...loss, entropyCoeff: 0.01 };
    for (const spec of [loss, withEntropy]) {
      backend.zeroGradients();
      await backend.forwardBackward({ sequences }, spec);
      const gradients = spec === loss ? analytic : backend.gradients();
      const lossOnly = async (): Promise<number> => (await backend.forwardBackward({ sequences }, spec)).loss;
      for (const name of backend.parameterNames) {
        const array = backend.weights.get(name) as FloatArray;
        const index = rng.int(0, array.length - 1);
        const numeric = await finiteDifference(array, index, lossOnly);
        expect(Math.abs(((gradients.get(name) as Float64Array)[index] as number) - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
      }
    }
    backend.zeroGradients();
  });

  it('on-policy policy loss: no old log-probs fed; ratio 1, loss −Σ w·A·n, and the gradient of cross-entropy weighted by w·A', async () => {
    const rng = createRng(6);
    const base = makeSequences(6, 5);
    const current = await backend.logprobs({ sequences: base, temperature: 1 });
    const sequences: TrainSequence[] = base.map((sequence, row) => ({ ...sequence, lossWeight: 0.2 + rng.next(), advantage: row % 2 === 0 ? 1.1 : -0.7 }));
    const spec: PolicyLossSpec = { kind: 'policy', temperature: 1, clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: 3, entropyCoeff: 0, kl: null, onPolicy: true };
    backend.zeroGradients();
    const result = await backend.forwardBackward({ sequences }, spec);
    const tokens = sequences.reduce((sum, sequence) => sum + sequence.responseTokenIds.length, 0);
    // Every ratio is exp(0) = 1, inside the clip range: the loss is −A per token.
    const expectedLoss = -sequences.reduce((sum, sequence) => sum + sequence.lossWeight * (sequence.advantage as number) * sequence.responseTokenIds.length, 0);
    expect(result.loss).toBeCloseTo(expectedLoss, 12);
    expect(result.tokens).toBe(tokens);
    expect(result.metrics['pg_clipfrac']).toBe(0);
    expect(result.metrics['ppo_kl']).toBe(0);
    const onPolicy = backend.gradients();
    // d/dθ Σ w·(−A)·exp(logp − sg(logp)) = −Σ w·A·∇logp: cross-entropy's gradient (another graph, checked by finite
    // differences above) with each sequence weighted by w·A.
    backend.zeroGradients();
    await backend.forwardBackward({ sequences: sequences.map((sequence) => ({ ...sequence, lossWeight: sequence.lossWeight * (sequence.advantage as number) })) }, { kind: 'cross-entropy' });
    const crossEntropy = backend.gradients();
    // And the policy graph with old log-probs fed as the current ones (ratio 1 up to the scoring graph's rounding).
    backend.zeroGradients();
    const { onPolicy: _, ...fedSpec } = spec;
    await backend.forwardBackward({ sequences: sequences.map((sequence, row) => ({ ...sequence, oldLogprobs: current[row] as number[] })) }, fedSpec);
    const fed = backend.gradients();
    let largest = 0;
    for (const name of backend.parameterNames) {
      const got = onPolicy.get(name) as Float64Array;
      const references = [crossEntropy.get(name) as Float64Array, fed.get(name) as Float64Array];
      got.forEach((value, i) => {
        for (const reference of references) expect(Math.abs(value - (reference[i] as number))).toBeLessThan(1e-10 * Math.max(1, Math.abs(reference[i] as number)));
        largest = Math.max(largest, Math.abs(value));
      });
    }
    expect(largest).toBeGreaterThan(1e-3); // not a vacuous comparison of zeros
    // A spec that is not on-policy still needs old log-probs.
    await expect(backend.forwardBackward({ sequences }, fedSpec)).rejects.toThrow(/oldLogprobs/);
    backend.zeroGradients();
  });

  it('accumulates: two micro-batches add up to the gradient and loss of the whole batch', async () => {
    const sequences: TrainSequence[] = makeSequences(5, 6).map((sequence, i) => ({ ...sequence, lossWeight: 1 / (i + 2) }));
    backend.zeroGradients();
    const whole = await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
    const gradientWhole = backend.gradients();
    const normWhole = await backend.gradNorm();
    backend.zeroGradients();
    const first = await backend.forwardBackward({ sequences: sequences.slice(0, 2) }, { kind: 'cross-entropy' });
    const second = await backend.forwardBackward({ sequences: sequences.slice(2) }, { kind: 'cross-entropy' });
    expect(first.loss + second.loss).toBeCloseTo(whole.loss, 12);
    const gradientSplit = backend.gradients();
    let squares = 0;
    for (const name of backend.parameterNames) {
      const a = gradientWhole.get(name) as Float64Array;
      const b = gradientSplit.get(name) as Float64Array;
      for (let i = 0; i < a.length; i++) {
        expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(1e-12);
        squares += (a[i] as number) ** 2;
      }
    }
    expect(normWhole).toBeCloseTo(Math.sqrt(squares), 12);
    backend.zeroGradients();
  });

  it('rejects bad input with ARGUMENT_INVALID or CONFIG_INVALID', async () => {
    const code = async (promise: Promise<unknown>): Promise<string | undefined> =>
      promise.then(
        () => undefined,
        (error: unknown) => (MasaError.isInstance(error) ? error.code : 'not a MasaError'),
      );
    expect(await code(backend.logprobs({ sequences: [{ promptTokenIds: [1], responseTokenIds: [VOCAB] }], temperature: 1 }))).toBe('ARGUMENT_INVALID');
    expect(await code(backend.logprobs({ sequences: [{ promptTokenIds: [], responseTokenIds: [1] }], temperature: 1 }))).toBe('ARGUMENT_INVALID');
    expect(await code(backend.logprobs({ sequences: [{ promptTokenIds: [1], responseTokenIds: new Array(64).fill(1) }], temperature: 1 }))).toBe('ARGUMENT_INVALID');
    expect(await code(backend.logprobs({ sequences: [{ promptTokenIds: [1], responseTokenIds: [1] }], temperature: 0 }))).toBe('ARGUMENT_INVALID');
    const policy: PolicyLossSpec = { kind: 'policy', temperature: 1, clipRatioLow: 0.2, clipRatioHigh: 0.2, clipRatioC: 3, entropyCoeff: 0, kl: null };
    expect(await code(backend.forwardBackward({ sequences: [{ promptTokenIds: [1], responseTokenIds: [2], lossWeight: 1, advantage: 1 }] }, policy))).toBe('ARGUMENT_INVALID');
    expect(await code(backend.forwardBackward({ sequences: [{ promptTokenIds: [1], responseTokenIds: [2], lossWeight: Number.NaN }] }, { kind: 'cross-entropy' }))).toBe(
      'ARGUMENT_INVALID',
    );
    expect(await code(backend.optimStep({ lr: 1e-3, maxGradNorm: 1, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 }))).toBe('CONFIG_INVALID');
  });
});

describe('ORT policy backend (float32): optimiser, state and weights', () => {
  const optim = { lr: 0.01, maxGradNorm: 1e9, weightDecay: 0, betas: [0.9, 0.999] as const, eps: 1e-8 };
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ort-backend-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decays matrices but not norms, and clips the gradient like torch before AdamW', async () => {
    await using backend = await createOrtPolicyBackend({ model: createTinyModel({ seed: 8, dtype: 'float32' }) });
    const before = new Map([...backend.weights].map(([name, array]) => [name, Float32Array.from(array)]));
    // No gradient: Adam's update is 0, only the decoupled decay moves the weights.
    const decayStep = await backend.optimStep({ ...optim, lr: 0.1, weightDecay: 0.5 });
    expect(decayStep).toEqual({ gradNorm: 0, skipped: false });
    for (const name of backend.parameterNames) {
      const old = before.get(name) as Float32Array;
      const now = backend.weights.get(name) as Float32Array;
      const factor = name.endsWith('norm.weight') ? 1 : 1 - 0.1 * 0.5; // applied in float64, stored as float32
      for (let i = 0; i < old.length; i++) expect(now[i]).toBe(Math.fround((old[i] as number) * factor));
    }
    // Clipping: the first moment after one step is (1 − β1)·g·min(1, c / (‖g‖ + 1e-6)).
    const sequences: TrainSequence[] = makeSequences(9, 3).map((sequence) => ({ ...sequence, lossWeight: 1 }));
    await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
    const gradient = backend.gradients();
    const norm = await backend.gradNorm();
    const maxGradNorm = norm / 4;
    const state0 = await backend.getState(); // moments after the decay step (zero)
    expect(state0['optimizer-m.bin']?.byteLength).toBeGreaterThan(0);
    const result = await backend.optimStep({ ...optim, maxGradNorm });
    expect(result.gradNorm).toBeCloseTo(norm, 6);
    expect(result.skipped).toBe(false);
    expect(await backend.gradNorm()).toBe(0); // cleared
    const state = await backend.getState();
    const m = new Float32Array(new Uint8Array(state['optimizer-m.bin'] as Uint8Array).buffer);
    const scale = maxGradNorm / (norm + 1e-6);
    let offset = 0;
    for (const name of backend.parameterNames) {
      const g = gradient.get(name) as Float64Array;
      for (let i = 0; i < g.length; i += 7) expect(m[offset + i]).toBeCloseTo(0.1 * (g[i] as number) * scale, 6);
      offset += g.length;
    }
    expect(JSON.parse(new TextDecoder().decode(state['optimizer.json'])).step).toBe(2);
  });

  it('updates the shared arrays in place: a model runner built on backend.weights sees each optimiser step', async () => {
    const model = createTinyModel({ seed: 10, dtype: 'float32' });
    await using backend = await createOrtPolicyBackend({ model });
    await using runner = createModelRunner({ config: backend.config, weights: backend.weights });
    const sequence = { promptTokenIds: [3, 4], responseTokenIds: [5, 6, 7] };
    const score = async (): Promise<number[]> => {
      const { logProbs } = await runner.tokenLogProbs({ batch: 1, seq: 5, inputIds: BigInt64Array.from([3n, 4n, 5n, 6n, 7n]), attentionMask: new BigInt64Array(5).fill(1n) });
      return Array.from(logProbs.subarray(2));
    };
    const before = await score();
    const embedding = backend.weights.get('model.embed_tokens.weight');
    await backend.forwardBackward({ sequences: [{ ...sequence, lossWeight: 1 }] }, { kind: 'cross-entropy' });
    await backend.optimStep({ ...optim, lr: 0.05 });
    expect(backend.weights.get('model.embed_tokens.weight')).toBe(embedding); // same array object
    expect(model.weights.get('model.embed_tokens.weight')).toBe(embedding);
    const after = await score();
    const [fromBackend] = await backend.logprobs({ sequences: [sequence], temperature: 1 });
    after.forEach((value, j) => expect(value).toBeCloseTo((fromBackend as number[])[j] as number, 5));
    expect(after.reduce((a, b) => a + b, 0)).toBeGreaterThan(before.reduce((a, b) => a + b, 0)); // the step raised their likelihood
  });

  it('two ORT threads per operator: the same batch gives the same gradient every time, and that of one thread to float32 rounding (models/tiny-arith)', async () => {
    // The embedded checkpoint (models/tiny-arith): the shape training runs at. 24 sequences of 50–110 tokens over a
    // 96-token vocabulary: every embedding row is gathered dozens of times, which is where ORT's multi-threaded
    // ScatterND lost additions (the embedding gradient was off by up to 90, and different on every run).
    const sequences: TrainSequence[] = Array.from({ length: 24 }, (_, row) => ({
      promptTokenIds: Array.from({ length: 20 }, (_, i) => (row * 31 + i * 7) % 96),
      responseTokenIds: Array.from({ length: 30 + (row % 7) * 10 }, (_, i) => (row * 17 + i * 11) % 96),
      lossWeight: 1,
    }));
    const gradient = async (threads: number): Promise<Map<string, Float64Array>> => {
      await using backend = await createOrtPolicyBackend({ modelDir: fileURLToPath(new URL('../../../../models/tiny-arith', import.meta.url)), intraOpNumThreads: threads });
      expect(backend.intraOpNumThreads).toBe(threads);
      await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
      return backend.gradients();
    };
    const [a, b, c, one] = [await gradient(2), await gradient(2), await gradient(2), await gradient(1)];
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    for (const [name, values] of one) {
      const other = a.get(name) as Float64Array;
      const scale = values.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
      values.forEach((value, i) => expect(Math.abs(value - (other[i] as number))).toBeLessThanOrEqual(1e-4 * scale + 1e-7));
    }
  });

  it('skips a step with a non-finite gradient norm and leaves the weights alone (and their version)', async () => {
    await using backend = await createOrtPolicyBackend({ model: createTinyModel({ seed: 8, dtype: 'float32' }) });
    const sequences: TrainSequence[] = makeSequences(9, 2).map((sequence) => ({ ...sequence, lossWeight: Number.MAX_VALUE }));
    await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
    expect(Number.isFinite(await backend.gradNorm())).toBe(false);
    const before = Float32Array.from(backend.weights.get('model.embed_tokens.weight') as Float32Array);
    const result = await backend.optimStep(optim);
    expect(result.skipped).toBe(true);
    expect(backend.weights.get('model.embed_tokens.weight')).toEqual(before);
    expect(await backend.gradNorm()).toBe(0);
    expect(backend.weightsVersion).toBe(0);
    // A step that is taken, and loaded weights, move it.
    await backend.forwardBackward({ sequences: makeSequences(9, 2).map((sequence) => ({ ...sequence, lossWeight: 1 })) }, { kind: 'cross-entropy' });
    await backend.optimStep(optim);
    expect(backend.weightsVersion).toBe(1);
    await backend.saveWeights(join(dir, 'version'));
    await backend.loadWeights(join(dir, 'version'));
    expect(backend.weightsVersion).toBe(2);
  });

  it('resumes bit-identically from saved weights and optimiser state', async () => {
    const data = Array.from({ length: 5 }, (_, step) =>
      makeSequences(20 + step, 3).map((sequence): TrainSequence => ({ ...sequence, lossWeight: 0.3 })),
    );
    const runSteps = async (backend: OrtPolicyBackend, from: number, to: number): Promise<void> => {
      for (let step = from; step < to; step++) {
        await backend.forwardBackward({ sequences: data[step] as TrainSequence[] }, { kind: 'cross-entropy' });
        await backend.optimStep({ ...optim, maxGradNorm: 0.5, weightDecay: 0.1, lr: 0.02 * (step + 1) });
      }
    };
    await using straight = await createOrtPolicyBackend({ model: createTinyModel({ seed: 11, dtype: 'float32' }) });
    await runSteps(straight, 0, 5);

    await using first = await createOrtPolicyBackend({ model: createTinyModel({ seed: 11, dtype: 'float32' }) });
    await runSteps(first, 0, 2);
    const checkpoint = join(dir, 'step-2');
    await first.saveWeights(checkpoint);
    const state = await first.getState();
    expect((await readdir(checkpoint)).sort()).toEqual(['config.json', 'model.safetensors']);

    await using resumed = await createOrtPolicyBackend({ model: createTinyModel({ seed: 99, dtype: 'float32' }) });
    await resumed.loadWeights(checkpoint);
    await resumed.loadState(state);
    await runSteps(resumed, 2, 5);
    for (const name of straight.parameterNames) {
      expect(Buffer.from((resumed.weights.get(name) as Float32Array).buffer).equals(Buffer.from((straight.weights.get(name) as Float32Array).buffer))).toBe(true);
    }
  });

  it('loads a model folder, saves next to its tokenizer files, and refuses state or weights of another model', async () => {
    const source = join(dir, 'source');
    await using seedBackend = await createOrtPolicyBackend({ model: createTinyModel({ seed: 12, dtype: 'float32' }) });
    await seedBackend.saveWeights(source);
    await writeFile(join(source, 'tokenizer.json'), '{}\n');
    await writeFile(join(source, 'generation_config.json'), '{"eos_token_id": 12}\n');
    await using backend = await createOrtPolicyBackend({ modelDir: source });
    expect(backend.weights.get('model.norm.weight')).toEqual(seedBackend.weights.get('model.norm.weight'));
    const out = join(dir, 'saved');
    await backend.saveWeights(out);
    expect((await readdir(out)).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']);

    await using other = await createOrtPolicyBackend({ model: createTinyModel({ seed: 1, dtype: 'float32', hiddenSize: 24 }) });
    const otherDir = join(dir, 'other');
    await other.saveWeights(otherDir);
    await expect(backend.loadWeights(otherDir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    await other.forwardBackward({ sequences: [{ promptTokenIds: [1], responseTokenIds: [2], lossWeight: 1 }] }, { kind: 'cross-entropy' });
    await other.optimStep(optim);
    await expect(backend.loadState(await other.getState())).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    await expect(backend.loadState({})).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });
});
