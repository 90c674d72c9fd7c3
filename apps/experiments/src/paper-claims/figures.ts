/**
 * The report's figures as SVG, drawn server-side by Vega-Lite (compiled to
 * Vega, rendered headless with `renderer: 'none'`: no browser, no canvas).
 * Each figure is a Vega-Lite spec built from the analysis, so the picture and
 * the tables come from the same numbers.
 */
import { MasaError } from '@masa-rl/core';
import type { PaperClaimsAnalysis } from './analyze.js';
import { PAPER_GATING } from './analyze.js';
import type { MethodName } from './plan.js';

type Spec = Record<string, unknown>;

/** Fixed colours, so a method looks the same in every figure. */
const METHOD_COLORS: Readonly<Record<MethodName, string>> = { grpo: '#4c78a8', dapo: '#72b7b2', masa: '#e45756', 'masa-efficient': '#f58518', sft: '#9d9d9d' };
const METHOD_LABELS: Readonly<Record<MethodName, string>> = { grpo: 'GRPO', dapo: 'DAPO', masa: 'MASA', 'masa-efficient': 'MASA-efficient', sft: 'continue SFT' };

export function methodLabel(method: MethodName): string {
  return METHOD_LABELS[method];
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const BASE = { $schema: SCHEMA, background: 'white', config: { font: 'sans-serif', view: { stroke: null }, axis: { grid: true, gridOpacity: 0.4 } } };

function colorScale(methods: readonly MethodName[]) {
  return { domain: methods.map(methodLabel), range: methods.map((method) => METHOD_COLORS[method]) };
}

/** Accuracy against an x quantity, mean over seeds with a min–max band and GRPO's final level as a dashed rule. */
function accuracyCurveSpec(analysis: PaperClaimsAnalysis, x: 'minutes' | 'tokens' | 'step', title: string, xTitle: string, methods: readonly MethodName[]): Spec {
  const rows = analysis.methods
    .filter((summary) => methods.includes(summary.method))
    .flatMap((summary) =>
      summary.curve.map((point) => ({
        method: methodLabel(summary.method),
        x: x === 'minutes' ? point.trainSeconds / 60 : x === 'tokens' ? point.rolloutTokens / 1000 : point.step,
        accuracy: point.accuracy,
        low: point.low,
        high: point.high,
      })),
    );
  const present = methods.filter((method) => analysis.methods.some((summary) => summary.method === method));
  const color = { field: 'method', type: 'nominal', title: null, scale: colorScale(present) };
  const xEncoding = { field: 'x', type: 'quantitative', title: xTitle };
  const yScale = { zero: false };
  return {
    ...BASE,
    title: { text: title, subtitle: `mean of ${analysis.budget.seeds.length} seed(s); band: lowest to highest seed; dashed: GRPO's final accuracy` },
    width: 520,
    height: 300,
    // The lines come first so that the merged legend draws line symbols (not the faint band's); the band is translucent on top.
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: { x: xEncoding, y: { field: 'accuracy', type: 'quantitative', title: 'held-out accuracy (T = 1)', axis: { format: '.0%' }, scale: yScale }, color },
      },
      { data: { values: rows }, mark: { type: 'area', opacity: 0.15 }, encoding: { x: xEncoding, y: { field: 'low', type: 'quantitative', scale: yScale }, y2: { field: 'high' }, color } },
      { data: { values: [{ target: analysis.target }] }, mark: { type: 'rule', strokeDash: [6, 4], color: '#333' }, encoding: { y: { field: 'target', type: 'quantitative' } } },
    ],
  };
}

function calibrationSpec(analysis: PaperClaimsAnalysis): Spec {
  const rows: Array<{ when: string; predictor: string; mae: number }> = [];
  const base = analysis.base.meta;
  if (base !== null && base.passRateMae !== null) {
    rows.push({ when: 'start', predictor: 'model', mae: base.passRateMae }, { when: 'start', predictor: 'fixed heuristic', mae: base.heuristicMae });
  }
  for (const summary of analysis.methods) {
    const maes = summary.finalMeta.map((meta) => meta.passRateMae).filter((value): value is number => value !== null);
    if (maes.length === 0) continue;
    const when = `after ${methodLabel(summary.method)}`;
    rows.push({ when, predictor: 'model', mae: maes.reduce((a, b) => a + b, 0) / maes.length });
    rows.push({ when, predictor: 'fixed heuristic', mae: summary.finalMeta.reduce((a, meta) => a + meta.heuristicMae, 0) / summary.finalMeta.length });
  }
  return {
    ...BASE,
    title: { text: 'Pass-rate calibration before and after training', subtitle: 'MAE of the greedy meta prediction against the measured pass count of 8; the fixed heuristic shows how much the truth drifted' },
    data: { values: rows },
    width: 680,
    height: 260,
    mark: 'bar',
    encoding: {
      x: { field: 'when', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'predictor' },
      y: { field: 'mae', type: 'quantitative', title: 'pass-count MAE (of 8)' },
      color: { field: 'predictor', type: 'nominal', title: null, scale: { domain: ['model', 'fixed heuristic'], range: ['#e45756', '#bab0ac'] } },
    },
  };
}

function gatingSpec(analysis: PaperClaimsAnalysis): Spec {
  const rows: Array<{ source: string; metric: string; value: number }> = [];
  const add = (source: string, values: { precision: number | null; recall: number | null; f1: number | null }): void => {
    for (const metric of ['precision', 'recall', 'f1'] as const) {
      const value = values[metric];
      if (value !== null) rows.push({ source, metric: metric === 'f1' ? 'F1' : metric, value });
    }
  };
  const sources = ['paper (MASA v2)', 'MASA, shadow (all questions solved)', 'MASA-efficient (precision on audited questions)'] as const;
  add(sources[0], PAPER_GATING);
  if (analysis.gating.shadow !== null) add(sources[1], analysis.gating.shadow);
  if (analysis.gating.live !== null) add(sources[2], { precision: analysis.gating.live.precision, recall: null, f1: null });
  return {
    ...BASE,
    title: { text: 'Predictive gating: precision, recall, F1', subtitle: 'positive = a question whose rollouts all agree (all right or all wrong); steps after calibration' },
    data: { values: rows },
    width: 420,
    height: 240,
    mark: 'bar',
    encoding: {
      x: { field: 'metric', type: 'nominal', title: null, sort: ['precision', 'recall', 'F1'], axis: { labelAngle: 0 } },
      xOffset: { field: 'source', sort: [...sources] },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
      color: { field: 'source', type: 'nominal', title: null, scale: { domain: [...sources], range: ['#bab0ac', '#e45756', '#f58518'] }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 } },
    },
  };
}

function cutoffSpec(analysis: PaperClaimsAnalysis): Spec | null {
  const cut = analysis.cutoff.shadow;
  if (cut === null) return null;
  const rows = cut.sweep.flatMap((counts) => {
    const factor = `l_LC ${counts.factor}`;
    const tokens = counts.tokensCorrect + counts.tokensIncorrect;
    return [
      { factor, outcome: 'correct', measure: 'rollouts cut (% of their class)', value: cut.rolloutsCorrect === 0 ? 0 : counts.cutCorrect / cut.rolloutsCorrect },
      { factor, outcome: 'incorrect', measure: 'rollouts cut (% of their class)', value: cut.rolloutsIncorrect === 0 ? 0 : counts.cutIncorrect / cut.rolloutsIncorrect },
      { factor, outcome: 'correct', measure: 'share of the tokens cut', value: tokens === 0 ? 0 : counts.tokensCorrect / tokens },
      { factor, outcome: 'incorrect', measure: 'share of the tokens cut', value: tokens === 0 ? 0 : counts.tokensIncorrect / tokens },
    ];
  });
  return {
    ...BASE,
    title: { text: 'Length cutoff: which rollouts it would cut', subtitle: 'MASA runs in shadow (every rollout ran to its end), budget ⌈l_LC × mean predicted length⌉, steps after calibration' },
    data: { values: rows },
    facet: { column: { field: 'measure', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 220,
      mark: 'bar',
      encoding: {
        x: { field: 'factor', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'outcome', sort: ['correct', 'incorrect'] },
        y: { field: 'value', type: 'quantitative', title: null, axis: { format: '.0%' } },
        color: { field: 'outcome', type: 'nominal', title: null, scale: { domain: ['correct', 'incorrect'], range: ['#54a24b', '#e45756'] } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

function ablationSpec(analysis: PaperClaimsAnalysis): Spec | null {
  if (analysis.ablations.length === 0) return null;
  const names: Record<string, string> = { meta_n: 'M (meta rollouts)', gating_std: 'σ_PG (gating threshold)', cutoff_factor: 'l_LC (cutoff factor)' };
  const rows = analysis.ablations.flatMap((row) => [
    { key: names[row.key] ?? row.key, value: String(row.value), measure: 'final accuracy', y: row.finalAccuracy, isDefault: row.isDefault ? 'default' : 'ablation' },
    { key: names[row.key] ?? row.key, value: String(row.value), measure: 'rollout tokens (k)', y: row.rolloutTokens / 1000, isDefault: row.isDefault ? 'default' : 'ablation' },
    { key: names[row.key] ?? row.key, value: String(row.value), measure: 'share of questions gated', y: row.gatedFraction, isDefault: row.isDefault ? 'default' : 'ablation' },
  ]);
  return {
    ...BASE,
    title: { text: 'Ablations of MASA-efficient (one seed each)', subtitle: 'the default value is the main run of the same seed' },
    data: { values: rows },
    facet: { row: { field: 'measure', type: 'nominal', title: null }, column: { field: 'key', type: 'nominal', title: null } },
    spec: {
      width: 150,
      height: 110,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'value', type: 'ordinal', title: null, sort: null, axis: { labelAngle: 0 } },
        y: { field: 'y', type: 'quantitative', title: null },
        color: { field: 'isDefault', type: 'nominal', title: null, scale: { domain: ['default', 'ablation'], range: ['#f58518', '#bab0ac'] } },
      },
    },
    resolve: { scale: { y: 'independent', x: 'independent' } },
  };
}

/** Every figure's Vega-Lite spec by file name (figures without data are left out). */
export function figureSpecs(analysis: PaperClaimsAnalysis): Record<string, Spec> {
  const rl: MethodName[] = ['grpo', 'dapo', 'masa', 'masa-efficient'];
  const all: MethodName[] = [...rl, 'sft'];
  const specs: Record<string, Spec | null> = {
    'accuracy-vs-time.svg': accuracyCurveSpec(analysis, 'minutes', 'Held-out accuracy against training wall-clock', 'training minutes (evaluation excluded)', all),
    'accuracy-vs-tokens.svg': accuracyCurveSpec(analysis, 'tokens', 'Held-out accuracy against rollout tokens', 'rollout tokens generated (thousands; meta and audit included)', rl),
    'accuracy-vs-steps.svg': accuracyCurveSpec(analysis, 'step', 'Held-out accuracy against optimiser steps', 'RL step (16 problems × 8 rollouts)', rl),
    'calibration.svg': calibrationSpec(analysis),
    'gating.svg': gatingSpec(analysis),
    'cutoff.svg': cutoffSpec(analysis),
    'ablations.svg': ablationSpec(analysis),
  };
  return Object.fromEntries(Object.entries(specs).filter((entry): entry is [string, Spec] => entry[1] !== null));
}

/**
 * Renders a Vega-Lite spec to an SVG string.
 *
 * @throws MasaError `RUNTIME_UNAVAILABLE` when vega / vega-lite cannot be loaded.
 */
export async function renderSvg(spec: Spec): Promise<string> {
  let vega: typeof import('vega');
  let vegaLite: typeof import('vega-lite');
  try {
    vega = await import('vega');
    vegaLite = await import('vega-lite');
  } catch (error: unknown) {
    throw new MasaError('RUNTIME_UNAVAILABLE', `cannot load vega / vega-lite to draw the figures (${(error as Error).message}); run pnpm install`, { cause: error });
  }
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
