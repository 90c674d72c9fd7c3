// The example of README.md, kept runnable (with the committed models/tiny-arith and a temporary
// results folder): if this file changes, update the README.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from './__tests__/fixtures.js';
import { createEvaluationEngine, loadEvaluationDatasets, runEvaluationIter, type EvaluationEvent } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

it('runs the README example on models/tiny-arith', async () => {
  const modelPath = join(root, 'models', 'tiny-arith');
  const outDir = join(tempDir('readme'), 'example');
  const lines: unknown[][] = [];
  const log = (...parts: unknown[]): void => void lines.push(parts);
  let end: EvaluationEvent | undefined;
  // --- the README's example, with console.log → log and the two paths made absolute ---
  const { datasets } = await loadEvaluationDatasets({ dataset: 'synthetic-arith-test', limit: 5 });
  await using model = await createEvaluationEngine({ modelPath });
  for await (const event of runEvaluationIter({
    engine: model.engine,
    tokenizer: model.tokenizer,
    contextTokens: model.contextTokens,
    model: model.model,
    datasets,
    outDir,
  })) {
    if (event.type === 'problem-end') log(`${event.done}/${event.total}`, event.problemId, `${event.correct}/${event.samples}`);
    if (event.type === 'evaluation-end') log(event.summary.datasets[0]?.passAtK);
    end = event; // (not in the README)
  }
  // --- end ---
  expect(lines.slice(0, 5).map((line) => line[0])).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
  expect(end?.type).toBe('evaluation-end');
  // pass@1 over the 5 problems equals the mean of the per-problem accuracies read back from scores.jsonl.
  const scores = readFileSync(join(outDir, 'scores.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { score: number });
  expect(scores).toHaveLength(40);
  const mean = scores.reduce((sum, score) => sum + score.score, 0) / 40;
  const passAtK = lines[5]?.[0] as Array<{ k: number; mean: number }>;
  expect(passAtK[0]).toMatchObject({ k: 1 });
  expect(passAtK[0]?.mean).toBeCloseTo(mean, 12);
  // The tiny model has learned the task: it is right at least sometimes.
  expect(mean).toBeGreaterThan(0);
});
