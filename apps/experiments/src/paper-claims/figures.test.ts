import { describe, expect, it } from 'vitest';
import { analyzePaperClaims } from './analyze.js';
import { figureSpecs, renderSvg } from './figures.js';
import { renderPaperClaimsReport } from './report.js';
import { log } from './__tests__/hand-log.js';

const analysis = analyzePaperClaims(log);

describe('figures', () => {
  const specs = figureSpecs(analysis);

  it('draws every figure of the report from the analysis', () => {
    expect(Object.keys(specs).sort()).toEqual(
      ['ablations.svg', 'accuracy-vs-steps.svg', 'accuracy-vs-time.svg', 'accuracy-vs-tokens.svg', 'calibration.svg', 'cutoff.svg', 'gating.svg'].sort(),
    );
    // The wall-clock curve plots the analysis' mean curves (minutes), the SFT control included.
    const layer = (specs['accuracy-vs-time.svg'] as { layer: Array<{ data: { values: Array<Record<string, unknown>> } }> }).layer;
    const rows = layer[0]?.data.values ?? [];
    expect(rows.filter((row) => row['method'] === 'GRPO').map((row) => [row['x'], row['accuracy']])).toEqual(
      analysis.methods.find((m) => m.method === 'grpo')?.curve.map((p) => [p.trainSeconds / 60, p.accuracy]),
    );
    expect(new Set(rows.map((row) => row['method']))).toEqual(new Set(['GRPO', 'MASA', 'MASA-efficient', 'continue SFT']));
    // The target rule sits at GRPO's mean final accuracy.
    expect(layer[2]?.data.values).toEqual([{ target: analysis.target }]);
  });

  it('renders SVG without a browser, the same bytes each time', async () => {
    for (const [name, spec] of Object.entries(specs)) {
      const svg = await renderSvg(spec);
      expect(svg.startsWith('<svg'), name).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>'), name).toBe(true);
      expect(svg.length, name).toBeGreaterThan(2000);
    }
    const curve = specs['accuracy-vs-tokens.svg'] as Record<string, unknown>;
    const first = await renderSvg(curve);
    expect(await renderSvg(curve)).toBe(first);
    expect(first).toContain('Held-out accuracy against rollout tokens');
    for (const label of ['GRPO', 'MASA', 'MASA-efficient']) expect(first).toContain(`>${label}<`);
  });

  it('leaves out figures that have no data', () => {
    const noMasa = analyzePaperClaims({ ...log, runs: log.runs.filter((run) => run.spec.method === 'grpo') });
    const names = Object.keys(figureSpecs(noMasa));
    expect(names).not.toContain('cutoff.svg');
    expect(names).not.toContain('ablations.svg');
    expect(names).toContain('accuracy-vs-time.svg');
  });
});

describe('report', () => {
  const report = renderPaperClaimsReport({
    analysis,
    machine: { cpu: 'Test CPU', cpus: 2, started: 'a', finished: 'b', wallMinutes: '10', loadRange: '1.0–1.0' },
    settings: { trainBatchSize: 16, rolloutN: 8, lr: 0.0001, metaN: 8, gatingStd: 0.1, cutoffFactor: 2, auditFraction: 0.1, maxResponseLength: 224 },
    figuresDir: 'fig',
    logDir: 'fig/log',
    command: 'pnpm masa experiment paper-claims',
  });

  it('links every figure it draws and the log', () => {
    for (const name of Object.keys(figureSpecs(analysis))) expect(report).toContain(`](fig/${name})`);
    expect(report).toContain('[`fig/log`](fig/log)');
  });

  it('states each verdict and the numbers from the log', () => {
    for (const claim of analysis.claims) expect(report).toContain(`| ${claim.claim} | **${claim.verdict}** |`);
    // GRPO's final accuracy per seed (50.0%, 54.0%) and the gating counts (TP 24, FP 6, FN 12) appear as computed.
    expect(report).toContain('| GRPO | 52.0% ± 2.8% | 50.0%, 54.0% |');
    expect(report).toContain('| MASA (shadow) | 96 | 30 | 24 | 6 | 12 | 54 | 0.80 | 0.67 | 0.73 |');
    expect(report).toContain('| paper (MASA v2) | | | | | | | 0.94 | 0.87 | 0.91 |');
    // MASA-efficient got to seed 1's level after 1.0 min and never to seed 2's; the settings come from the log.
    expect(report).toContain('| MASA-efficient | 50.0%, 54.0% | 0.7, 0.7 | 1.0, — | 0.00× (');
    expect(report).toContain('; reached in 1 of 2 seeds |');
    expect(report).toContain('16 problems × 8 rollouts per step at T = 1, AdamW LR 0.0001');
  });
});
