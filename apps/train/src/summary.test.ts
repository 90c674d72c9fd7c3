import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './__tests__/fake-run.js';
import { beforeAfter, formatRunSummary, summarizeRun } from './summary.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('beforeAfter', () => {
  it('averages the first and last ⌈n/4⌉ values (at most 5), in step order', () => {
    const rows = [8, 1, 2, 3, 4, 5, 6, 7].map((step) => ({ step, value: step * 10 }));
    // n = 8 → window 2: steps 1–2 (10, 20) and 7–8 (70, 80)
    expect(beforeAfter(rows)).toEqual({ before: 15, after: 75, beforeSteps: 'steps 1–2', afterSteps: 'steps 7–8' });
    expect(beforeAfter([{ step: 3, value: 0.5 }])).toEqual({ before: 0.5, after: 0.5, beforeSteps: 'step 3', afterSteps: 'step 3' });
    const long = Array.from({ length: 40 }, (_, i) => ({ step: i + 1, value: i + 1 }));
    expect(beforeAfter(long)).toMatchObject({ before: 3, after: 38 }); // window 5: mean(1..5), mean(36..40)
    expect(beforeAfter([])).toBeNull();
  });
});

describe('summarizeRun', () => {
  it('reads validation, training accuracy, calibration and tokens saved from the run folder', () => {
    const dir = tempDir('summary');
    dirs.push(dir);
    const metrics = [
      { step: 0, 'val-core/v/reward/mean@1': 0.25, 'val-meta/v/pass_rate_mae': 1.97, 'val-meta/v/pearson': 0.1 },
      { step: 1, 'critic/score/mean': 0.5, 'masa/parse_rate': 1, 'val-meta/v/pass_rate_mae': 1.8 },
      { step: 2, 'critic/score/mean': 0.75, 'masa/parse_rate': 0.5, 'val-core/v/reward/mean@1': 0.5, 'val-meta/v/pass_rate_mae': 1.71, 'val-meta/v/pearson': 0.45 },
    ];
    writeFileSync(join(dir, 'metrics.jsonl'), `${metrics.map((line) => JSON.stringify(line)).join('\n')}\n{"step":3,`);
    const stats = [
      { step: 1, accuracy: 0.5, calibration: { mae: 0.3, pearson: 0.1 }, tokens: { saved: 0, solution: 100 } },
      { step: 2, accuracy: 0.625, calibration: { mae: 0.2, pearson: 0.4 }, tokens: { saved: 300, solution: 200 } },
    ];
    writeFileSync(join(dir, 'meta-stats.jsonl'), stats.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const summary = summarizeRun(dir);
    expect(summary.lastStep).toBe(2);
    expect(summary.validation).toEqual([{ name: 'v/reward/mean@1', before: 0.25, after: 0.5, beforeSteps: 'step 0', afterSteps: 'step 2' }]);
    expect(summary.trainAccuracy).toMatchObject({ before: 0.5, after: 0.625 });
    expect(summary.reward).toMatchObject({ before: 0.5, after: 0.75 });
    expect(summary.passRateMae).toMatchObject({ before: 0.3, after: 0.2 });
    expect(summary.metaParseRate).toMatchObject({ before: 1, after: 0.5 });
    expect(summary.tokensSaved).toBe(300);
    // First and last validation records, not a window.
    expect(summary.heldOutCalibration).toEqual([
      {
        name: 'v',
        mae: { before: 1.97, after: 1.71, beforeSteps: 'step 0', afterSteps: 'step 2' },
        pearson: { before: 0.1, after: 0.45, beforeSteps: 'step 0', afterSteps: 'step 2' },
      },
    ]);
    const lines = formatRunSummary(summary, { uiCommand: 'pnpm masa ui run' });
    expect(lines).toContain('  accuracy (v)             25.0% → 50.0%   (step 0 → step 2)');
    expect(lines).toContain('  held-out calibration (validation, v): MAE 1.97 → 1.71 (pass counts of 8), correlation 0.10 → 0.45   (step 0 → step 2)');
    expect(lines).toContain('  meta MAE (train batch)   0.300 → 0.200   (step 1 → step 2)');
    // 300 saved of 300 + 300 an ungated run would have generated
    expect(lines.some((line) => line.includes('rollout tokens saved') && line.includes('300 (50.0%'))).toBe(true);
    expect(lines.at(-1)).toBe('view it:    pnpm masa ui run');
  });
});
