import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError, type MasaErrorCode } from '@masa-rl/core';
import { createGraph, createTensorValue, differentiableOps, graphStats, grad, type Graph } from '@masa-rl/onnx';
import { describe, expect, it } from 'vitest';
import {
  GRPO_LOSS_INPUT_NAMES,
  buildGrpoLossGraph,
  declareGrpoLossInputs,
  readGrpoLossMetrics,
  type GrpoLossGraphOptions,
} from './grpo-loss-graph.js';

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

function expectError(run: () => unknown, code: MasaErrorCode, message: RegExp): void {
  const error = errorOf(run);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

/** A fresh graph with every input declared as float64 [batch, seq]. */
function setup(extra: { refLogp?: boolean; entropy?: boolean } = {}): GrpoLossGraphOptions & { graph: Graph } {
  const graph = createGraph();
  const { refLogp = false, entropy = false } = extra;
  return { graph, ...declareGrpoLossInputs(graph, { dtype: 'float64', refLogp, entropy }) };
}

describe('buildGrpoLossGraph: structure', () => {
  it('declares the inputs under GRPO_LOSS_INPUT_NAMES, [batch, seq], with a bool mask', () => {
    const graph = createGraph();
    declareGrpoLossInputs(graph, { dtype: 'float32', refLogp: true, entropy: true });
    expect(graph.inputs.map((input) => input.name)).toEqual([
      GRPO_LOSS_INPUT_NAMES.logp,
      GRPO_LOSS_INPUT_NAMES.oldLogp,
      GRPO_LOSS_INPUT_NAMES.advantages,
      GRPO_LOSS_INPUT_NAMES.tokenWeights,
      GRPO_LOSS_INPUT_NAMES.responseMask,
      GRPO_LOSS_INPUT_NAMES.refLogp,
      GRPO_LOSS_INPUT_NAMES.entropy,
    ]);
    expect(graph.inputs.map((input) => input.dtype)).toEqual(['float32', 'float32', 'float32', 'float32', 'bool', 'float32', 'float32']);
    for (const input of graph.inputs) expect(input.shape).toEqual(['batch', 'seq']);
    // logp (and entropy) computed by the graph: taken as given; shapes and dtype follow logp.
    const modelGraph = createGraph();
    const modelLogp = modelGraph.input('model_logp', 'float64', [4, 8]);
    const modelEntropy = modelGraph.input('model_entropy', 'float64', [4, 8]);
    const fromModel = declareGrpoLossInputs(modelGraph, { logp: modelLogp, entropy: modelEntropy });
    expect(fromModel.logp).toBe(modelLogp);
    expect(fromModel.entropy).toBe(modelEntropy);
    expect(fromModel.oldLogp.shape).toEqual([4, 8]);
    expect(fromModel.oldLogp.dtype).toBe('float64');
    expect(modelGraph.inputs.map((input) => input.name)).toEqual([
      'model_logp',
      'model_entropy',
      'old_logp',
      'advantages',
      'token_weights',
      'response_mask',
    ]);
  });

  it('returns scalars for the totals and metrics and [batch, seq] token losses; optional terms only when enabled', () => {
    const plain = setup();
    const fragment = buildGrpoLossGraph(plain.graph, plain);
    expect(fragment.loss.shape).toEqual([]);
    expect(fragment.pgLoss.shape).toEqual([]);
    expect(fragment.tokenLosses.shape).toEqual(['batch', 'seq']);
    expect(fragment.klLoss).toBeUndefined();
    expect(fragment.entropyLoss).toBeUndefined();
    for (const tensor of Object.values(fragment.metrics)) expect(tensor.shape).toEqual([]);
    expect(Object.keys(fragment.metricOutputs).sort()).toEqual(
      [
        'loss',
        'pgLoss',
        'pgClipfrac',
        'pgClipfracLower',
        'pgClipfracRatioHigh',
        'pgClipfracRatioLow',
        'ppoKl',
        'ratioMean',
        'ratioMin',
        'ratioMax',
        'validTokens',
      ]
        .map((name) => `metrics.${name}`)
        .sort(),
    );
    const full = setup({ refLogp: true, entropy: true });
    const withAll = buildGrpoLossGraph(full.graph, {
      ...full,
      config: { useKlLoss: true, entropyCoeff: 0.01 },
      metricOutputPrefix: 'actor.',
    });
    expect(withAll.klLoss?.shape).toEqual([]);
    expect(withAll.entropyLoss?.shape).toEqual([]);
    expect(Object.keys(withAll.metricOutputs)).toContain('actor.klLoss');
    expect(Object.keys(withAll.metricOutputs)).toContain('actor.entropy');
    expect(withAll.config.clipRatioHigh).toBe(0.28);
  });

  it('puts only ops with a gradient rule on the path to the loss (plus bool-valued conditions), for every KL form', () => {
    for (const klLossType of ['k1', 'abs', 'k2', 'k3', 'k3+'] as const) {
      const full = setup({ refLogp: true, entropy: true });
      const fragment = buildGrpoLossGraph(full.graph, { ...full, config: { useKlLoss: true, klLossType, entropyCoeff: 0.1 } });
      full.graph.output('loss', fragment.loss);
      // Only the loss is an output here, so the stats count the loss path alone.
      const ops = Object.keys(graphStats(full.graph).opCounts);
      const differentiable = new Set(differentiableOps());
      expect(ops.filter((op) => !differentiable.has(op))).toEqual(['Less']); // A < 0: a bool condition of Where
      expect(ops).toContain('Where');
      // grad() throws GRADIENT_UNDEFINED for any op without a rule.
      const wrt = [full.logp, full.entropy].filter((tensor) => tensor !== undefined);
      expect(grad({ loss: fragment.loss, wrt }).gradients).toHaveLength(2);
    }
  });
});

describe('buildGrpoLossGraph: bad input', () => {
  it('asks for refLogp when useKlLoss is on and for entropy when entropyCoeff is not 0', () => {
    const inputs = setup();
    expectError(
      () => buildGrpoLossGraph(inputs.graph, { ...inputs, config: { useKlLoss: true } }),
      'ARGUMENT_INVALID',
      /no refLogp tensor was given: pass the reference/,
    );
    expectError(
      () => buildGrpoLossGraph(inputs.graph, { ...inputs, config: { entropyCoeff: 0.01 } }),
      'ARGUMENT_INVALID',
      /no entropy tensor was given: pass entropy or set entropyCoeff 0/,
    );
  });

  it('validates the config like the TS form (verl spellings, ranges)', () => {
    const inputs = setup();
    expectError(() => buildGrpoLossGraph(inputs.graph, { ...inputs, config: { clipRatioC: 1 } }), 'CONFIG_INVALID', /clipRatioC/);
    const verlKey = { clip_ratio_low: 0.2 } as unknown as GrpoLossGraphOptions['config'];
    expectError(() => buildGrpoLossGraph(inputs.graph, { ...inputs, config: verlKey }), 'CONFIG_INVALID', /write it as "clipRatioLow"/);
  });

  it('rejects tensors of another dtype, rank or graph, naming the field and the fix', () => {
    const inputs = setup();
    const single = inputs.graph.input('advantages32', 'float32', ['batch', 'seq']);
    expectError(
      () => buildGrpoLossGraph(inputs.graph, { ...inputs, advantages: single }),
      'GRAPH_INVALID',
      /advantages is float32 but logp is float64: cast it/,
    );
    const perSequence = inputs.graph.input('advantages1d', 'float64', ['batch']);
    expectError(
      () => buildGrpoLossGraph(inputs.graph, { ...inputs, advantages: perSequence }),
      'GRAPH_INVALID',
      /advantages must be a \[batch, seq\] tensor, got shape \[batch\]/,
    );
    const fixed = createGraph();
    const fixedInputs = declareGrpoLossInputs(fixed, { dtype: 'float64', batch: 2, seq: 3 });
    const wrongWidth = fixed.input('weights5', 'float64', [2, 5]);
    expectError(
      () => buildGrpoLossGraph(fixed, { ...fixedInputs, tokenWeights: wrongWidth }),
      'GRAPH_INVALID',
      /tokenWeights has shape \[2, 5\] but logp has \[2, 3\]/,
    );
    expectError(() => buildGrpoLossGraph(createGraph(), inputs), 'GRAPH_INVALID', /logp belongs to graph/);
    const ids = inputs.graph.input('ids', 'int64', ['batch', 'seq']);
    expectError(() => buildGrpoLossGraph(inputs.graph, { ...inputs, logp: ids }), 'GRAPH_INVALID', /logp must be a float tensor/);
  });

  it('readGrpoLossMetrics names a missing output and how to request it', () => {
    const inputs = setup();
    const fragment = buildGrpoLossGraph(inputs.graph, inputs);
    const values = { 'metrics.loss': createTensorValue('float64', [], [1]) };
    expectError(
      () => readGrpoLossMetrics({ fragment, values }),
      'ARGUMENT_INVALID',
      /no scalar 'metrics\.pgLoss': pass fragment\.metricOutputs to grad\(\{ outputs \}\)/,
    );
  });
});

describe('the ./graph subpath', () => {
  it('is the only entry that reaches @masa-rl/onnx: the main index never imports the graph form', () => {
    const index = readFileSync(join(import.meta.dirname, 'index.ts'), 'utf8');
    expect(index).not.toMatch(/grpo-loss-graph|\.\/graph\.js|@masa-rl\/onnx/);
    const graphEntry = readFileSync(join(import.meta.dirname, 'graph.ts'), 'utf8');
    expect(graphEntry).toMatch(/from '\.\/grpo-loss-graph\.js'/);
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(manifest.exports['./graph']).toEqual({ types: './dist/graph.d.ts', import: './dist/graph.js' });
  });
});
