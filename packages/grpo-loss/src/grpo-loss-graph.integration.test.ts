import { createRng } from '@masa-rl/core';
import { createGraph, createSession, createTensorValue, grad, type DType, type Session, type TensorValue } from '@masa-rl/onnx';
import { describe, expect, it } from 'vitest';
import { computeAggregationWeights } from './aggregation.js';
import { buildGrpoLossGraph, declareGrpoLossInputs, readGrpoLossMetrics, type GrpoLossGraph } from './grpo-loss-graph.js';
import { computeGrpoLoss, type GrpoLossResult } from './grpo-loss.js';
import type { PolicyLossConfig } from './loss-config.js';
import { KL_PENALTY_BASES, LOSS_AGG_MODES, type KlPenalty } from './types.js';

/** The acceptance bound of issue 6: the TS and graph forms agree to 1e-6. */
const TOLERANCE = 1e-6;

/** |actual − expected| ≤ tolerance · max(1, |expected|), with a message naming what differs. */
function expectClose(actual: number, expected: number, what: string, tolerance = TOLERANCE): void {
  const error = Math.abs(actual - expected);
  if (!(error <= tolerance * Math.max(1, Math.abs(expected)))) {
    expect.fail(`${what}: graph ${actual} vs TS ${expected} (|diff| ${error})`);
  }
}

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tolerance = TOLERANCE): void {
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < expected.length; index++) {
    expectClose(actual[index] as number, expected[index] as number, `${what}[${index}]`, tolerance);
  }
}

/** One [batch, seq] batch with garbage (NaN, ±Infinity) on every padded entry. */
interface TokenBatch {
  batch: number;
  seq: number;
  mask: Uint8Array;
  logp: Float64Array;
  oldLogp: Float64Array;
  advantages: Float64Array;
  refLogp: Float64Array;
  entropy: Float64Array;
}

interface ClipSetup {
  clipRatioLow: number;
  clipRatioHigh: number;
  clipRatioC: number;
}

/** Clip settings that let all three clips bind on the batches below (verl's dual-clip default c = 3). */
const CLIPS: ClipSetup = { clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: 3 };

/**
 * Random tokens that exercise every branch: ratios inside, above and below the
 * ε clip, above the dual-clip bound c, log-ratios beyond the ±20 clamp, k3
 * estimates above its ±10 clamp. Every value keeps 1e-3 away from a kink (no
 * exact ties, and no float32 rounding can flip a branch). Rows 0 (A > 0) and 1
 * (A < 0) are full, row 2 is empty.
 */
function makeBatch(seed: string, batch = 6, seq = 7, clips: ClipSetup = CLIPS): TokenBatch {
  const rng = createRng(seed);
  const size = batch * seq;
  const out: TokenBatch = {
    batch,
    seq,
    mask: new Uint8Array(size),
    logp: new Float64Array(size).fill(Number.NaN),
    oldLogp: new Float64Array(size).fill(Number.POSITIVE_INFINITY),
    advantages: new Float64Array(size).fill(Number.NaN),
    refLogp: new Float64Array(size).fill(Number.NEGATIVE_INFINITY),
    entropy: new Float64Array(size).fill(Number.NaN),
  };
  const kinks = [1 - clips.clipRatioLow, 1 + clips.clipRatioHigh, clips.clipRatioC];
  for (let row = 0; row < batch; row++) {
    const length = row < 2 ? seq : row === 2 ? 0 : rng.int(1, seq);
    const advantage = (row % 2 === 0 ? 1 : -1) * (0.2 + 1.8 * rng.next());
    for (let col = 0; col < length; col++) {
      const index = row * seq + col;
      let rawLogRatio: number;
      for (;;) {
        const kind = rng.next();
        if (kind < 0.08) rawLogRatio = (rng.next() < 0.5 ? -1 : 1) * (21 + 5 * rng.next());
        else if (kind < 0.3) rawLogRatio = 1.2 + 1.3 * rng.next();
        else rawLogRatio = -0.9 + 1.8 * rng.next();
        const ratio = Math.exp(Math.min(Math.max(rawLogRatio, -20), 20));
        if (kinks.every((kink) => Math.abs(ratio - kink) > 1e-3 * kink)) break;
      }
      let klDiff: number;
      do {
        klDiff = rng.next() < 0.1 ? -3 - rng.next() : -1.5 + 3 * rng.next();
      } while (Math.abs(klDiff) < 1e-3);
      const oldLogp = -0.05 - 3 * rng.next();
      out.mask[index] = 1;
      out.oldLogp[index] = oldLogp;
      out.logp[index] = oldLogp + rawLogRatio;
      out.refLogp[index] = oldLogp + rawLogRatio - klDiff;
      out.advantages[index] = advantage;
      out.entropy[index] = 3 * rng.next();
    }
  }
  return out;
}

interface LossSession {
  session: Session;
  fragment: GrpoLossGraph;
  dtype: DType;
  maskDType: DType;
  withRef: boolean;
  withEntropy: boolean;
}

interface BuildOptions {
  dtype?: 'float32' | 'float64';
  maskDType?: DType;
  withRef?: boolean;
  withEntropy?: boolean;
}

/** Forward + backward graph of the fragment; outputs loss, metrics, token losses and grad.logp (+ grad.entropy). */
async function createLossSession(config: PolicyLossConfig, options: BuildOptions = {}): Promise<LossSession> {
  const { dtype = 'float64', maskDType = 'bool', withRef = config.useKlLoss === true, withEntropy = false } = options;
  const graph = createGraph({ name: 'grpo-loss' });
  const inputs = declareGrpoLossInputs(graph, { dtype, maskDType, refLogp: withRef, entropy: withEntropy });
  const fragment = buildGrpoLossGraph(graph, { ...inputs, config });
  const wrt = inputs.entropy === undefined ? [inputs.logp] : [inputs.logp, inputs.entropy];
  const backward = grad({ loss: fragment.loss, wrt, outputs: { ...fragment.metricOutputs, token_losses: fragment.tokenLosses } });
  const session = await createSession({ model: backward.graph });
  return { session, fragment, dtype, maskDType, withRef, withEntropy };
}

function floatTensor(dtype: DType, dims: number[], values: Float64Array): TensorValue {
  return dtype === 'float32'
    ? createTensorValue('float32', dims, Float32Array.from(values))
    : createTensorValue('float64', dims, values);
}

interface GraphRun {
  values: Record<string, TensorValue>;
  loss: number;
  tokenLosses: Float64Array;
  gradLogp: Float64Array;
  gradEntropy: Float64Array | undefined;
}

async function runLoss(setup: LossSession, data: TokenBatch, tokenWeights: Float64Array, logp = data.logp): Promise<GraphRun> {
  const dims = [data.batch, data.seq];
  const float = (values: Float64Array): TensorValue => floatTensor(setup.dtype, dims, values);
  const mask =
    setup.maskDType === 'bool'
      ? createTensorValue('bool', dims, data.mask)
      : floatTensor(setup.maskDType, dims, Float64Array.from(data.mask));
  const feeds: Record<string, TensorValue> = {
    logp: float(logp),
    old_logp: float(data.oldLogp),
    advantages: float(data.advantages),
    token_weights: float(tokenWeights),
    response_mask: mask,
    ...(setup.withRef ? { ref_logp: float(data.refLogp) } : {}),
    ...(setup.withEntropy ? { entropy: float(data.entropy) } : {}),
  };
  const values = await setup.session.run(feeds);
  const read = (name: string): Float64Array => {
    const value = values[name];
    if (value === undefined) throw new Error(`no output ${name}`);
    return Float64Array.from(value.data as Float32Array | Float64Array);
  };
  return {
    values,
    loss: read('loss')[0] as number,
    tokenLosses: read('token_losses'),
    gradLogp: read('grad.logp'),
    gradEntropy: setup.withEntropy ? read('grad.entropy') : undefined,
  };
}

/** Token weights as the trainer feeds them: W of the mode, with NaN written over padding (the graph must ignore it). */
function tokenWeightsFor(data: TokenBatch, config: PolicyLossConfig, extra: { batchNumTokens?: number } = {}): Float64Array {
  const weights = computeAggregationWeights({
    responseMask: data.mask,
    seqLen: data.seq,
    lossAggMode: config.lossAggMode ?? 'token-mean',
    lossScaleFactor: config.lossScaleFactor,
    batchNumTokens: extra.batchNumTokens,
  });
  data.mask.forEach((bit, index) => {
    if (bit === 0) weights[index] = Number.NaN;
  });
  return weights;
}

function computeReference(
  data: TokenBatch,
  config: PolicyLossConfig,
  options: { withEntropy?: boolean; batchNumTokens?: number } = {},
): GrpoLossResult {
  return computeGrpoLoss({
    logp: data.logp,
    oldLogp: data.oldLogp,
    advantages: data.advantages,
    responseMask: data.mask,
    seqLen: data.seq,
    ...(config.useKlLoss === true ? { refLogp: data.refLogp } : {}),
    ...(options.withEntropy === true ? { entropy: data.entropy } : {}),
    config,
    batchNumTokens: options.batchNumTokens,
  });
}

/** Compares every output of one graph run with the TS form. */
function expectAgreement(setup: LossSession, run: GraphRun, reference: GrpoLossResult, tolerance = TOLERANCE): void {
  expectClose(run.loss, reference.loss, 'loss', tolerance);
  const metrics = readGrpoLossMetrics({ fragment: setup.fragment, values: run.values });
  expect(Object.keys(metrics).sort()).toEqual(Object.keys(reference.metrics).sort());
  for (const [name, value] of Object.entries(reference.metrics) as [string, number][]) {
    expectClose((metrics as unknown as Record<string, number>)[name] as number, value, `metrics.${name}`, tolerance);
  }
  expectAllClose(run.tokenLosses, reference.tokenLosses, 'tokenLosses', tolerance);
  expectAllClose(run.gradLogp, reference.dLossDLogp, 'dLoss/dlogp', tolerance);
  if (run.gradEntropy !== undefined) {
    const expected = reference.dLossDEntropy ?? new Float64Array(run.gradEntropy.length);
    expectAllClose(run.gradEntropy, expected, 'dLoss/dentropy', tolerance);
  }
}

describe('buildGrpoLossGraph agrees with computeGrpoLoss (float64, 1e-6)', () => {
  it('a hand-computed batch (the TS tests’ example): token-mean, no KL', async () => {
    // [batch 2, seq 3]: log-ratios ln 1.5 (A = 2, clipped at 1.28), 0, ln 0.5, and 0 with A = −1.
    const data: TokenBatch = {
      batch: 2,
      seq: 3,
      mask: new Uint8Array([1, 1, 1, 1, 0, 0]),
      logp: new Float64Array([-1 + Math.log(1.5), -1, -1 + Math.log(0.5), -2, Number.NaN, 0]),
      oldLogp: new Float64Array([-1, -1, -1, -2, 0, Number.NaN]),
      advantages: new Float64Array([2, 2, 2, -1, Number.NaN, Number.NaN]),
      refLogp: new Float64Array(6),
      entropy: new Float64Array(6),
    };
    const setup = await createLossSession({});
    try {
      const run = await runLoss(setup, data, tokenWeightsFor(data, {}));
      const expectedLoss = (-2 * 1.28 - 2 * 1 - 2 * 0.5 + 1) / 4;
      expect(run.loss).toBeCloseTo(expectedLoss, 12);
      const expectedGradient = [0, -2 / 4, -1 / 4, 1 / 4, 0, 0];
      expectedGradient.forEach((value, index) => expect(run.gradLogp[index]).toBeCloseTo(value, 12));
      const metrics = readGrpoLossMetrics({ fragment: setup.fragment, values: run.values });
      expect(metrics.pgClipfrac).toBeCloseTo(1 / 4, 12);
      expect(metrics.pgClipfracRatioHigh).toBeCloseTo(1 / 4, 12);
      expect(metrics.pgClipfracLower).toBe(0);
      expect(metrics.validTokens).toBe(4);
      expect(metrics.ratioMax).toBeCloseTo(1.5, 12);
      expect(metrics.ratioMin).toBeCloseTo(0.5, 12);
    } finally {
      await setup.session.release();
    }
  });

  it('every aggregation mode (through W), all clips active, k3 KL and an entropy bonus, NaN on padding', async () => {
    const data = makeBatch('modes');
    const base: PolicyLossConfig = { ...CLIPS, useKlLoss: true, klLossCoef: 0.05, klLossType: 'low_var_kl', entropyCoeff: 0.01 };
    const setup = await createLossSession(base, { withEntropy: true });
    try {
      for (const lossAggMode of LOSS_AGG_MODES) {
        const config: PolicyLossConfig = { ...base, lossAggMode, ...(lossAggMode === 'seq-mean-token-sum-norm' ? { lossScaleFactor: 16 } : {}) };
        const reference = computeReference(data, config, { withEntropy: true });
        const run = await runLoss(setup, data, tokenWeightsFor(data, config));
        expectAgreement(setup, run, reference);
        // The batch reaches every branch: both sides of the ε clip, and the dual clip.
        expect(reference.metrics.pgClipfracRatioHigh).toBeGreaterThan(0);
        expect(reference.metrics.pgClipfracRatioLow).toBeGreaterThan(0);
        expect(reference.metrics.pgClipfracLower).toBeGreaterThan(0);
        // Padding: garbage everywhere there, yet finite results and exactly zero gradients.
        data.mask.forEach((bit, index) => {
          if (bit === 1) return;
          expect(run.gradLogp[index]).toBe(0);
          expect(run.gradEntropy?.[index]).toBe(0);
          expect(run.tokenLosses[index]).toBe(0);
        });
      }
      // A micro-batch of a larger mini-batch: W carries batchNumTokens.
      const config: PolicyLossConfig = { ...base, lossAggMode: 'token-mean' };
      const batchNumTokens = 3 * data.mask.reduce((total, bit) => total + bit, 0);
      const run = await runLoss(setup, data, tokenWeightsFor(data, config, { batchNumTokens }));
      expectAgreement(setup, run, computeReference(data, config, { withEntropy: true, batchNumTokens }));
    } finally {
      await setup.session.release();
    }
  });

  const klNames: KlPenalty[] = KL_PENALTY_BASES.flatMap((base): KlPenalty[] => [base, `${base}+`]);
  it(`every KL estimator (${klNames.join(', ')}) with and without the straight-through "+"`, async () => {
    const data = makeBatch('kl');
    for (const klLossType of klNames) {
      const config: PolicyLossConfig = { ...CLIPS, lossAggMode: 'seq-mean-token-mean', useKlLoss: true, klLossCoef: 0.3, klLossType };
      const setup = await createLossSession(config);
      try {
        const reference = computeReference(data, config);
        expect(reference.klLoss).not.toBe(0);
        expectAgreement(setup, await runLoss(setup, data, tokenWeightsFor(data, config)), reference);
      } finally {
        await setup.session.release();
      }
    }
  });

  it('MASA defaults (no KL, dual clip at 10), entropy reported but not in the loss, a 0/1 float mask', async () => {
    const data = makeBatch('defaults', 5, 9, { clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: 10 });
    const setup = await createLossSession({}, { withEntropy: true, maskDType: 'float64' });
    try {
      const reference = computeReference(data, {}, { withEntropy: true });
      const run = await runLoss(setup, data, tokenWeightsFor(data, {}));
      expectAgreement(setup, run, reference);
      expect(reference.metrics.entropy).toBeGreaterThan(0);
      // entropyCoeff 0: the loss does not depend on the entropies.
      expect(Array.from(run.gradEntropy ?? [])).toEqual(new Array<number>(data.mask.length).fill(0));
    } finally {
      await setup.session.release();
    }
  });

  it('a batch with no response token: loss, metrics and gradients are 0, as in the TS form', async () => {
    const data = makeBatch('empty', 3, 4);
    data.mask.fill(0);
    const config: PolicyLossConfig = { ...CLIPS, useKlLoss: true, klLossType: 'k2' };
    const setup = await createLossSession(config, { withEntropy: true });
    try {
      const reference = computeReference(data, config, { withEntropy: true });
      const run = await runLoss(setup, data, tokenWeightsFor(data, config));
      expectAgreement(setup, run, reference);
      expect(run.loss).toBe(0);
      expect(Array.from(run.gradLogp).every((value) => value === 0)).toBe(true);
    } finally {
      await setup.session.release();
    }
  });
});

describe('buildGrpoLossGraph: gradients and precision', () => {
  it('grad(loss, [logp, entropy]) matches central finite differences of the graph itself', async () => {
    const data = makeBatch('finite-differences', 4, 6);
    const config: PolicyLossConfig = {
      ...CLIPS,
      lossAggMode: 'seq-mean-token-mean',
      useKlLoss: true,
      klLossCoef: 0.2,
      klLossType: 'k3',
      entropyCoeff: 0.05,
    };
    const setup = await createLossSession(config, { withEntropy: true });
    try {
      const weights = tokenWeightsFor(data, config);
      const run = await runLoss(setup, data, weights);
      const step = 1e-6;
      let checked = 0;
      for (let index = 0; index < data.mask.length; index++) {
        if (data.mask[index] !== 1) continue;
        const plus = Float64Array.from(data.logp);
        const minus = Float64Array.from(data.logp);
        plus[index] = (plus[index] as number) + step;
        minus[index] = (minus[index] as number) - step;
        const numeric = ((await runLoss(setup, data, weights, plus)).loss - (await runLoss(setup, data, weights, minus)).loss) / (2 * step);
        expect(Math.abs((run.gradLogp[index] as number) - numeric)).toBeLessThan(1e-7);
        checked++;
      }
      expect(checked).toBeGreaterThan(10);
      // The loss is linear in the entropies: dLoss/dH = −entropyCoeff · W exactly.
      data.mask.forEach((bit, index) => {
        expect(run.gradEntropy?.[index]).toBeCloseTo(bit === 1 ? -0.05 * (weights[index] as number) : 0, 15);
      });
    } finally {
      await setup.session.release();
    }
  });

  it('float32 agrees with float64 (and with the TS form) to float32 precision', async () => {
    const data = makeBatch('float32', 8, 16);
    const config: PolicyLossConfig = { ...CLIPS, useKlLoss: true, klLossCoef: 0.1, klLossType: 'k3', entropyCoeff: 0.02 };
    const weights = tokenWeightsFor(data, config);
    const single = await createLossSession(config, { dtype: 'float32', withEntropy: true });
    const double = await createLossSession(config, { dtype: 'float64', withEntropy: true });
    try {
      const run32 = await runLoss(single, data, weights);
      const run64 = await runLoss(double, data, weights);
      const reference = computeReference(data, config, { withEntropy: true });
      expectAgreement(double, run64, reference);
      // float32 carries ~7 digits: 1e-5 relative on sums, 1e-5 of the largest entry on gradients.
      expectClose(run32.loss, run64.loss, 'float32 loss', 1e-5);
      const metrics32 = readGrpoLossMetrics({ fragment: single.fragment, values: run32.values });
      const metrics64 = readGrpoLossMetrics({ fragment: double.fragment, values: run64.values });
      for (const [name, value] of Object.entries(metrics64) as [string, number][]) {
        expectClose((metrics32 as unknown as Record<string, number>)[name] as number, value, `float32 metrics.${name}`, 1e-5);
      }
      // No branch flips between the precisions: the clip counts are identical.
      const count = (fraction: number): number => Math.round(fraction * metrics64.validTokens);
      for (const name of ['pgClipfrac', 'pgClipfracLower', 'pgClipfracRatioHigh', 'pgClipfracRatioLow'] as const) {
        expect(count(metrics32[name]), name).toBe(count(metrics64[name]));
      }
      const scale = Math.max(...Array.from(run64.gradLogp, Math.abs));
      run64.gradLogp.forEach((value, index) => {
        expect(Math.abs((run32.gradLogp[index] as number) - value)).toBeLessThan(1e-5 * scale);
      });
      run64.gradEntropy?.forEach((value, index) => {
        expect(Math.abs((run32.gradEntropy?.[index] as number) - value)).toBeLessThan(1e-5 * scale);
      });
    } finally {
      await single.session.release();
      await double.session.release();
    }
  });
});

describe('README example', () => {
  it('runs as written and agrees with computeGrpoLoss', async () => {
    const dims = [2, 3];
    const responseMask = new Uint8Array([1, 1, 1, 1, 0, 0]);
    const logp = new Float64Array([-0.6, -1, -1.7, -1.9, Number.NaN, Number.NaN]);
    const oldLogp = new Float64Array([-1, -1, -1, -2, 0, 0]);
    const advantages = new Float64Array([2, 2, 2, -1, 0, 0]);
    const config = { lossAggMode: 'seq-mean-token-mean', clipRatioC: 3 } as const;

    const graph = createGraph();
    const inputs = declareGrpoLossInputs(graph, { dtype: 'float64' });
    const fragment = buildGrpoLossGraph(graph, { ...inputs, config });
    const training = grad({ loss: fragment.loss, wrt: [inputs.logp], outputs: fragment.metricOutputs });
    await using session = await createSession({ model: training.graph });

    const tokenWeights = computeAggregationWeights({ responseMask, seqLen: 3, lossAggMode: config.lossAggMode });
    const values = await session.run({
      logp: createTensorValue('float64', dims, logp),
      old_logp: createTensorValue('float64', dims, oldLogp),
      advantages: createTensorValue('float64', dims, advantages),
      token_weights: createTensorValue('float64', dims, tokenWeights),
      response_mask: createTensorValue('bool', dims, responseMask),
    });
    const reference = computeGrpoLoss({ logp, oldLogp, advantages, responseMask, seqLen: 3, config });
    expectClose(values['loss']?.data[0] as number, reference.loss, 'loss');
    expectAllClose(values['grad.logp']?.data as Float64Array, reference.dLossDLogp, 'dLoss/dlogp');
    expect(readGrpoLossMetrics({ fragment, values })).toEqual(
      Object.fromEntries(Object.entries(reference.metrics).map(([name, value]) => [name, expect.closeTo(value, 12)])),
    );
    // By hand: row 0 has ratios e^0.4 (clipped at 1.28), 1, e^−0.7; row 1 one token, ratio e^0.1, A = −1.
    const row0 = (-2 * 1.28 - 2 - 2 * Math.exp(-0.7)) / 3;
    expect(reference.loss).toBeCloseTo((row0 + Math.exp(0.1)) / 2, 6);
  });
});
