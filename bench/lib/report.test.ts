import { describe, expect, it } from 'vitest';
import { formatNumber, renderResults, summarizeVariant } from './report.mjs';

const figure = (value: number, anchor?: number) => ({
  key: 'step',
  label: 'masa-rl ms/step',
  value,
  unit: 'ms',
  better: 'lower' as const,
  headline: true,
  goal: '≤ 1',
  ...(anchor === undefined ? { anchorSkipped: 'no python3 can import torch' } : { anchor: { label: 'PyTorch ms/step', value: anchor, unit: 'ms', source: 'same run' as const } }),
});

const variant = {
  id: 'train-step:tiny',
  label: 'tiny',
  command: 'node bench/train-step/train-step.mjs --json',
  runs: [
    { ok: true as const, ms: 1000, figures: [figure(10, 5)], checks: [{ label: 'losses agree', ok: true, detail: 'to 1e-7' }] },
    { ok: false as const, ms: 500, error: 'exit 1: boom' },
    { ok: true as const, ms: 1000, figures: [figure(30, 10)], checks: [{ label: 'losses agree', ok: false, detail: 'off by 1e-2' }] },
  ],
};

const machine = {
  cpuModel: 'Test CPU',
  logicalCores: 2,
  memoryBytes: 24 * 2 ** 30,
  os: 'linux test',
  node: 'v20.20.2',
  pnpm: '12.4.2',
  onnxruntime: '1.30.0',
  torch: { python: '/usr/bin/python3', version: '1.13.0a0', cuda: false },
  blas: '/usr/lib/openblas',
  gpu: undefined,
  gitCommit: 'abc1234',
  gitDirty: true,
};

describe('summarizeVariant', () => {
  it('takes the ratio run by run, over the runs that succeeded', () => {
    const [summary] = summarizeVariant(variant);
    expect(summary?.value).toMatchObject({ n: 2, median: 20, min: 10, max: 30 });
    expect(summary?.anchor?.value).toMatchObject({ median: 7.5, min: 5, max: 10 });
    // 10/5 = 2 and 30/10 = 3: median 2.5, not 20/7.5 = 2.67 (the ratio of the medians).
    expect(summary?.anchor?.ratio).toMatchObject({ n: 2, median: 2.5, min: 2, max: 3 });
    expect(summary?.anchorSkipped).toBeUndefined();
  });

  it('says why an anchor is missing', () => {
    const [summary] = summarizeVariant({ ...variant, runs: [{ ok: true, ms: 1, figures: [figure(10)], checks: [] }] });
    expect(summary?.anchor).toBeUndefined();
    expect(summary?.anchorSkipped).toBe('no python3 can import torch');
  });
});

describe('formatNumber', () => {
  it('three significant digits, thousands separated', () => {
    expect(formatNumber(2933.4)).toBe('2,933');
    expect(formatNumber(82.46)).toBe('82.5');
    expect(formatNumber(5.136)).toBe('5.14');
    expect(formatNumber(0.6712)).toBe('0.671');
    expect(formatNumber(0.00004)).toBe('4.0e-5');
    expect(formatNumber(0)).toBe('0');
  });
});

describe('renderResults', () => {
  const record = {
    startedAt: '2026-11-28T02:57:00.000Z',
    finishedAt: '2026-11-28T03:00:30.000Z',
    command: 'pnpm bench --quick',
    quick: true,
    device: 'cpu' as const,
    machine,
    loadStart: { one: 4.5, five: 4, fifteen: 3.5 },
    loadEnd: { one: 2, five: 3, fifteen: 3.25 },
    build: { status: 'built' as const, detail: 'built through turbo' },
    setup: [{ name: 'PyTorch', status: 'present' as const, detail: 'torch found' }],
    benchmarks: [
      { name: 'train-step', title: 'Training step vs PyTorch', what: 'One step.', status: 'ran' as const, variants: [variant] },
      { name: 'rollout', title: 'Rollout', what: 'Decode.', status: 'skipped' as const, reason: 'bench/rollout/run.mjs missing', variants: [] },
    ],
  };
  const text = renderResults(record);

  it('has the date, the quick-run notice, the machine and the load at both ends', () => {
    expect(text).toContain('- Date: 2026-11-28 02:57 UTC (took 3 min 30 s)');
    expect(text).toContain('**Quick run**');
    expect(text).toContain('| CPU | Test CPU, 2 logical cores |');
    expect(text).toContain('| Load average (1 / 5 / 15 min) | 4.50 / 4.00 / 3.50 at the start · 2.00 / 3.00 / 3.25 at the end |');
    expect(text).toContain('| PyTorch | 1.13.0a0 (/usr/bin/python3, CPU)');
    expect(text).toContain('abc1234 (with uncommitted changes');
  });

  it('puts each headline figure with its anchor and ratio in the summary', () => {
    expect(text).toContain('| train-step:tiny | masa-rl ms/step | 20.0 ms (10.0–30.0) | PyTorch ms/step | 7.50 ms (5.00–10.0) | 2.50× (2.00–3.00) | ≤ 1 |');
  });

  it('never drops a benchmark or a failure silently', () => {
    expect(text).toContain('| rollout | **not run**: bench/rollout/run.mjs missing |');
    expect(text).toContain('- run 2 **failed** after 1 s: exit 1: boom');
    expect(text).toContain('Checks: **1 of 2 FAILED**: train-step:tiny: losses agree (off by 1e-2)');
  });
});
