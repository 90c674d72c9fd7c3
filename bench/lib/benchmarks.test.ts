import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, bandwidthFor, MAX_PROBE_BYTES, NO_GPU_ROOFLINE, parseRange, rolloutRows } from './benchmarks.mjs';

const byName = (name: string) => {
  const benchmark = BENCHMARKS.find((entry) => entry.name === name);
  if (benchmark === undefined) throw new Error(`no benchmark ${name}`);
  return benchmark;
};
const context = { root: '/repo', quick: true, device: 'cpu' as const, torch: undefined, torchSkipped: 'no torch here', readText: () => '' };

describe('benchmark definitions', () => {
  it('grading: pairs/s against the 1,000 pairs/s target, and a check on wrong verdicts', () => {
    const json = {
      headline: { pairsPerSecond: 2500, p99Ms: 4 },
      results: [
        { round: 0, label: 'pool(1 worker): gold vs rewrite', pairs: 500, pairsPerSecond: 2000, wrongVerdicts: 0 },
        { round: 1, label: 'pool(1 worker): gold vs rewrite', pairs: 500, pairsPerSecond: 5000, wrongVerdicts: 1 },
        { round: 1, label: 'pool(1 worker): gold vs changed digit', pairs: 500, pairsPerSecond: 2500, wrongVerdicts: 0 },
      ],
    };
    const { figures, checks } = byName('grading').figures(json, context, undefined);
    expect(figures[0]).toMatchObject({ value: 2500, anchor: { value: 1000, source: 'target' } });
    // 1,000 warm pairs in 0.1 s + 0.2 s = 3,333 pairs/s (total pairs over total time, not the mean rate).
    expect(figures.find((f) => f.key === 'warm')?.value).toBeCloseTo(1000 / 0.3, 6);
    expect(checks).toEqual([{ label: 'every verdict right', ok: false, detail: '1 wrong verdict(s) over 1500 pairs' }]);
  });

  it('train-step: the PyTorch step is the anchor; without PyTorch the reason is kept', () => {
    const masa = { stepMs: 120, forwardBackwardMs: 100, adamwMs: 20, adamw10MParametersMs: 80 };
    const withTorch = byName('train-step').figures(
      { device: 'cpu', parameters: 2231040, masa, torch: { stepMs: 150, version: '1.13', device: 'cpu' }, medianPairedRatio: 0.8, lossRelativeDifference: 2e-7 },
      context,
      undefined,
    );
    expect(withTorch.figures[0]).toMatchObject({ value: 120, anchor: { value: 150, source: 'same run' } });
    expect(withTorch.checks[0]?.ok).toBe(true);
    const without = byName('train-step').figures({ device: 'cpu', parameters: 2231040, masa, torchSkipped: 'no python3 can import torch' }, context, undefined);
    expect(without.figures[0]?.anchor).toBeUndefined();
    expect(without.figures[0]?.anchorSkipped).toBe('no python3 can import torch');
  });

  it('train-step passes --skip-torch when PyTorch is missing, and the device', () => {
    const variants = byName('train-step').variants({ ...context, device: 'cuda' });
    expect(Array.isArray(variants)).toBe(true);
    const [variant] = variants as { args: string[] }[];
    expect(variant?.args).toEqual(expect.arrayContaining(['--device', 'cuda', '--torch-device', 'cpu', '--skip-torch', '--json']));
  });

  it('model-memory: roofline = measured bandwidth ÷ weight bytes; peak memory against one weight copy', () => {
    const json = { weightBytes: 2.4e9, peakRss: 2.6e9, rssAfterImports: 0.2e9, tokensPerSecond: 6, loadSeconds: 5, prefillSeconds: 1, promptTokens: 16 };
    const ceilings = { bandwidth: [{ bytes: MAX_PROBE_BYTES, gbPerSecond: 18, method: 'C' }] };
    const { figures } = byName('model-memory').figures(json, context, ceilings);
    const decode = figures.find((f) => f.key === 'decode');
    expect(decode?.anchor?.value).toBeCloseTo(7.5, 12); // 18e9 / 2.4e9
    const peak = figures.find((f) => f.key === 'peak');
    expect((peak?.value ?? 0) / (peak?.anchor?.value ?? 1)).toBeCloseTo(1, 12); // 2.4e9 above the imports = one copy
    expect(byName('model-memory').ceilings?.(json)).toEqual({ bytes: [MAX_PROBE_BYTES] });
  });

  it('rollout: tok/s against transformers.js and against the roofline of the same run', () => {
    const rows = [
      { model: 'tiny', parameters: 2_000_000, batch: 1, masaTokS: 900, masaFrozenTokS: 1000, transformersJsTokS: 1000 },
      { model: 'tiny', parameters: 2_000_000, batch: 32, masaTokS: 8000, transformersJsTokS: 3200 },
      { note: 'not a row' },
    ];
    expect(rolloutRows({ rows })).toHaveLength(2);
    const ceilings = { bandwidth: [{ bytes: 8_000_000, gbPerSecond: 24, method: 'C' }], gemm: { n: 2048, gflopsPerSecond: 80, method: 'ORT' } };
    const { figures } = byName('rollout').figures({ rows }, context, ceilings);
    expect(figures.find((f) => f.key === 'tiny-b1-vs-tjs')?.anchor?.value).toBe(1000);
    expect(figures.find((f) => f.key === 'tiny-b1-vs-roofline')?.anchor?.value).toBeCloseTo(3000, 9); // 24e9 / 8e6 bytes
    expect(figures.find((f) => f.key === 'tiny-b32-vs-roofline')?.anchor?.value).toBeCloseTo(20_000, 9); // 80e9 / (2 · 2e6)
    expect(byName('rollout').ceilings?.({ rows })).toEqual({ bytes: [8_000_000], gemm: 2048 });
  });

  it('rollout at two threads: masa-rl against transformers.js at its best, and against its shipped session options', () => {
    const row = {
      model: 'small',
      parameters: 9_000_000,
      batch: 32,
      threads: 1,
      masaTokS: 3000,
      masaFrozenTokS: 3600,
      transformersJsTokS: 2000,
      transformersJsDefaultTokS: 1800,
      transformersJsBest: { config: 'intraOpNumThreads 1', tokS: 2000 },
      byThreads: { 1: { masaTokS: 3000, masaFrozenTokS: 3600, transformersJsTokS: 2000 }, 2: { masaTokS: 4500, masaFrozenTokS: 5500, transformersJsTokS: 1900 } },
    };
    const { figures } = byName('rollout').figures({ rows: [row] }, context, undefined);
    expect(figures.find((f) => f.key === 'small-b32-vs-tjs-default')).toMatchObject({ value: 3000, anchor: { value: 1800 } });
    expect(figures.find((f) => f.key === 'small-b32-t2-frozen-vs-tjs-best')).toMatchObject({ value: 5500, anchor: { value: 2000, label: expect.stringContaining('intraOpNumThreads 1') } });
    expect(figures.find((f) => f.key === 'small-b32-t2-vs-tjs-best')?.value).toBe(4500);
    expect(figures.some((f) => f.key.startsWith('small-b32-t1-'))).toBe(false); // the first count keeps the historical keys
    const full = byName('rollout').variants({ ...context, quick: false, readText: () => '' }) as { args: string[] }[];
    expect(full[0]?.args.includes('--threads')).toBe(availableParallelism() >= 2);
  });

  it('rollout on cuda is skipped with the reason while its script has no --device flag', () => {
    expect(byName('rollout').variants({ ...context, device: 'cuda', readText: () => 'no such flag' })).toEqual({ skip: expect.stringMatching(/no --device flag/) });
  });

  it('bandwidthFor picks the probe closest in size (log scale), capped at the DRAM probe', () => {
    const ceilings = { bandwidth: [{ bytes: 8e6, gbPerSecond: 25, method: 'C' }, { bytes: MAX_PROBE_BYTES, gbPerSecond: 12, method: 'C' }] };
    expect(bandwidthFor(ceilings, 9e6)?.gbPerSecond).toBe(25);
    expect(bandwidthFor(ceilings, 5e9)?.gbPerSecond).toBe(12);
    expect(bandwidthFor(undefined, 1e6)).toBeUndefined();
  });
});

describe('rollout, Qwen3-0.6B shape (masa-rl only)', () => {
  const rows = [
    { model: 'qwen3-0.6b', parameters: 600_000_000, batch: 1, masaDecodeTokS: 5, transformersJsAnchor: '6.3–6.7 tok/s' },
    { model: 'qwen3-0.6b', parameters: 600_000_000, batch: 32, masaDecodeTokS: 40, transformersJsAnchor: '27–31 tok/s' },
  ];
  const ceilings = { bandwidth: [{ bytes: MAX_PROBE_BYTES, gbPerSecond: 12, method: 'C' }], gemm: { n: 2048, gflopsPerSecond: 96, method: 'ORT' } };

  it('against the measured roofline, and against transformers.js as a reference (it cannot load this export here)', () => {
    const { figures } = byName('rollout').figures({ rows }, context, ceilings);
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b1-vs-roofline')?.anchor).toMatchObject({ value: 5, source: 'same run' }); // 12e9 / 2.4e9 bytes
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b32-vs-roofline')?.anchor?.value).toBeCloseTo(80, 9); // 96e9 / (2 · 6e8)
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b1-vs-tjs')?.anchor).toMatchObject({ value: 6.5, source: 'reference' });
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b32-vs-tjs')?.anchor?.value).toBe(29);
    expect(byName('rollout').ceilings?.({ rows })).toEqual({ bytes: [MAX_PROBE_BYTES], gemm: 2048 });
  });

  it('weights as inputs keep the keys; frozen weights get their own figures against the same anchors', () => {
    const both = [
      { ...rows[1], weightMode: 'inputs', masaDecodeTokS: 40 },
      { ...rows[1], weightMode: 'initializers', masaDecodeTokS: 64 },
    ];
    const { figures } = byName('rollout').figures({ rows: both }, context, ceilings);
    const fed = figures.find((f) => f.key === 'qwen3-0.6b-b32-vs-roofline');
    const frozen = figures.find((f) => f.key === 'qwen3-0.6b-b32-frozen-vs-roofline');
    expect(fed).toMatchObject({ value: 40, label: expect.stringContaining('weights as inputs (training)') });
    expect(frozen).toMatchObject({ value: 64, label: expect.stringContaining('weights frozen (serving)') });
    expect(frozen?.anchor?.value).toBeCloseTo(80, 9);
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b32-frozen-vs-tjs')?.anchor?.value).toBe(29);
  });

  it('without transformers.js in the run, its reference anchor (generate() timed whole) is set against the rate with the prefill', () => {
    const row = { ...rows[1], weightMode: 'initializers', masaDecodeTokS: 64, masaEndToEndTokS: 60 };
    const figure = byName('rollout').figures({ rows: [row] }, context, ceilings).figures.find((f) => f.key === 'qwen3-0.6b-b32-frozen-vs-tjs');
    expect(figure).toMatchObject({ value: 60, label: expect.stringContaining('with the prefill'), anchor: { value: 29, source: 'reference' } });
  });

  it('with transformers.js in the same run: the decode anchor is measured, plus the rate with the prefill and transformers.js against the roofline', () => {
    const measured = { decodeTokS: 30, endToEndTokS: 20, prefillMs: 6000 };
    const both = [
      { ...rows[1], weightMode: 'inputs', threads: 1, masaDecodeTokS: 50, masaEndToEndTokS: 48, transformersJs: measured },
      { ...rows[1], weightMode: 'initializers', threads: 1, masaDecodeTokS: 64, masaEndToEndTokS: 60, transformersJs: measured },
    ];
    const { figures } = byName('rollout').figures({ rows: both }, context, ceilings);
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b32-frozen-vs-tjs')).toMatchObject({ value: 64, anchor: { value: 30, source: 'same run' } });
    expect(figures.find((f) => f.key === 'qwen3-0.6b-b32-end-to-end-vs-tjs')).toMatchObject({ value: 48, anchor: { value: 20 } });
    const theirs = figures.filter((f) => f.key === 'qwen3-0.6b-b32-tjs-vs-roofline');
    expect(theirs).toHaveLength(1); // once per batch, not per weight mode
    expect(theirs[0]?.anchor?.value).toBeCloseTo(80, 9);
  });

  it('parseRange takes the midpoint of a range, or the number', () => {
    expect(parseRange('6.3–6.7 tok/s')).toBeCloseTo(6.5, 12);
    expect(parseRange('27-31')).toBe(29);
    expect(parseRange('12 tok/s')).toBe(12);
    expect(parseRange(undefined)).toBeUndefined();
    expect(parseRange('n/a')).toBeUndefined();
  });

  it('runs as its own variant when the rollout script has the 0.6b mode', () => {
    const variants = byName('rollout').variants({ ...context, readText: () => "if (args.model === '0.6b')" }) as { id: string; args: string[] }[];
    expect(variants.map((variant) => variant.id)).toEqual(['rollout', 'rollout:0.6b']);
    expect(variants[1]?.args).toEqual(['--model', '0.6b', '--runs', '1', '--batch1-tokens', '8', '--batch32-tokens', '4', '--no-transformers', '--json']);
  });
});

describe('GPU runs', () => {
  it('rollout figures on cuda say why there is no roofline instead of using the CPU ceilings', () => {
    const rows = [{ model: 'tiny', parameters: 2_000_000, batch: 1, masaTokS: 900, transformersJsTokS: 1000 }];
    const { figures } = byName('rollout').figures({ rows }, { ...context, device: 'cuda' }, undefined);
    expect(figures.find((f) => f.key === 'tiny-b1-vs-roofline')?.anchorSkipped).toBe(NO_GPU_ROOFLINE);
    expect(figures.find((f) => f.key === 'tiny-b1-vs-tjs')?.anchor?.value).toBe(1000);
  });
});
