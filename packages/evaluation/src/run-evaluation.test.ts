import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError, hashString } from '@masa-rl/core';
import { BOXED_INSTRUCTION, loadDataset } from '@masa-rl/datasets';
import { createScriptedEngine } from '@masa-rl/rollout/test';
import { describe, expect, it } from 'vitest';
import { inlineGrader, MODEL, outcomeEngine, tempDir, toyDataset } from './__tests__/fixtures.js';
import type { EvaluationSummary } from './evaluation-summary.js';
import type { ResponseRecord, StoredScore } from './results-store.js';
import { runEvaluation, runEvaluationIter, type EvaluationEvent, type RunEvaluationOptions } from './run-evaluation.js';

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

async function collect(options: RunEvaluationOptions): Promise<EvaluationEvent[]> {
  const events: EvaluationEvent[] = [];
  for await (const event of runEvaluationIter(options)) events.push(event);
  return events;
}

/** Outcomes of the pass@k test: problem → the sample indices that are correct (n = 4). */
const OUTCOMES: Record<number, number[]> = { 0: [0, 1], 1: [], 2: [0, 1, 2, 3] };

describe('runEvaluation with scripted outcomes', () => {
  it('writes config, responses, scores and a summary with the pass@k computed by hand', async () => {
    const outDir = tempDir('passk');
    const engine = outcomeEngine((problem, sample) => (OUTCOMES[problem] ?? []).includes(sample));
    const result = await runEvaluation({
      engine,
      datasets: [toyDataset('toy', 3)],
      outDir,
      model: MODEL,
      n: 4,
      temperature: 0.6,
      maxNewTokens: 64,
      ks: [1, 2, 4],
      workers: 1,
    });
    expect(result.status).toBe('complete');
    expect(result.completedProblems).toBe(3);
    // By hand, c = 2, 0, 4 of n = 4:
    //  pass@1 = mean c/n = (0.5 + 0 + 1) / 3 = 0.5
    //  pass@2 = mean 1 − C(n−c,2)/C(4,2) = (1 − 1/6 + 0 + 1) / 3 = 11/18
    //  pass@4 = (1 + 0 + 1) / 3 = 2/3
    //  std of pass@1 across runs: run accuracies 2/3, 2/3, 1/3, 1/3 → sample std sqrt(4·(1/6)²/3) = 1/sqrt(27)
    const toy = result.summary.datasets[0];
    expect(toy?.passAtK.map((stat) => stat.k)).toEqual([1, 2, 4]);
    expect(toy?.passAtK[0]?.mean).toBeCloseTo(0.5, 12);
    expect(toy?.passAtK[0]?.std).toBeCloseTo(1 / Math.sqrt(27), 12);
    expect(toy?.passAtK[1]?.mean).toBeCloseTo(11 / 18, 12);
    expect(toy?.passAtK[2]?.mean).toBeCloseTo(2 / 3, 12);
    expect(result.summary.domains).toEqual([{ domain: 'math', datasets: ['toy'], passAtK: [{ k: 1, mean: toy?.passAtK[0]?.mean }, { k: 2, mean: toy?.passAtK[1]?.mean }, { k: 4, mean: toy?.passAtK[2]?.mean }] }]);

    // The files.
    const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model: MODEL,
      selection: { dataset: 'toy' },
      sampling: { n: 4, temperature: 0.6, topP: 1, maxNewTokens: 64, contextTokens: null, seed: 0 },
      prompt: { mode: 'corrected', format: 'messages' },
      grading: { mode: 'correct', deadlineMs: 2000, codeTimeoutMs: 10000 },
    });
    const responses = readJsonl<ResponseRecord>(join(outDir, 'responses.jsonl'));
    expect(responses.map((record) => record.id)).toEqual(['q0', 'q1', 'q2']);
    expect(responses[0]?.responses).toEqual(['so the answer is \\boxed{1}', 'so the answer is \\boxed{1}', 'I think \\boxed{0}', 'I think \\boxed{0}']);
    // The scripted engine spends one token per character and ends with an implicit end of sequence.
    expect(responses[0]?.tokens).toEqual([26, 26, 17, 17]);
    expect(responses[0]?.finishReasons).toEqual(['stop', 'stop', 'stop', 'stop']);
    expect(responses[0]?.seed).toBe(hashString('0:toy:q0'));
    const scores = readJsonl<StoredScore>(join(outDir, 'scores.jsonl'));
    expect(scores).toHaveLength(12);
    const byProblem = (id: string): number[] => scores.filter((score) => score.problemId === id).map((score) => score.score);
    expect([byProblem('q0'), byProblem('q1'), byProblem('q2')]).toEqual([
      [1, 1, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 1, 1],
    ]);
    const summaryJson = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as EvaluationSummary;
    expect(summaryJson.complete).toBe(true);
    expect(summaryJson.details[0]).toMatchObject({ dataset: 'toy', completed: 3, total: 3, finishReasons: { stop: 12, length: 0, cutoff: 0 } });
    const markdown = readFileSync(join(outDir, 'summary.md'), 'utf8');
    expect(markdown).toContain('| toy | math | correct | 3 | 4 | 50.00 ± 19.25 | 61.11 ± ');
    expect(markdown).toContain('status: complete');
    expect(existsSync(join(outDir, '.lock'))).toBe(false);
    // One engine call per batch: ceil(64 / 4) = 16 problems per call, so one call here.
    expect(engine.calls).toHaveLength(1);
  });

  it('sends the seeds, sampling settings and chat messages to the engine', async () => {
    const engine = outcomeEngine(() => true);
    await runEvaluation({ engine, datasets: [toyDataset('toy', 2)], outDir: tempDir('request'), model: MODEL, n: 3, temperature: 0.7, topP: 0.9, maxNewTokens: 50, seed: 5, _internal: { grader: inlineGrader() } });
    expect(engine.calls[0]).toEqual([
      { id: 'toy/q0', messages: [{ role: 'user', content: `What is 0 + 1? ${BOXED_INSTRUCTION}` }], n: 3, maxNewTokens: 50, temperature: 0.7, topP: 0.9, seed: hashString('5:toy:q0') },
      { id: 'toy/q1', messages: [{ role: 'user', content: `What is 1 + 1? ${BOXED_INSTRUCTION}` }], n: 3, maxNewTokens: 50, temperature: 0.7, topP: 0.9, seed: hashString('5:toy:q1') },
    ]);
  });

  it('uses the synthetic set defaults (n 8, T 1, 320 tokens) and MASA defaults (n 32, T 0.6, 16,384) elsewhere', async () => {
    const synthetic = outcomeEngine(() => true);
    await runEvaluation({ engine: synthetic, datasets: [toyDataset('arith', 1, 'synthetic-arith')], outDir: tempDir('defaults-a'), model: MODEL, _internal: { grader: inlineGrader() } });
    expect(synthetic.calls[0]?.[0]).toMatchObject({ n: 8, temperature: 1, topP: 1, maxNewTokens: 320, messages: [{ role: 'user', content: 'What is 0 + 1?\n' }] });
    const masa = outcomeEngine(() => true);
    await runEvaluation({ engine: masa, datasets: [toyDataset('toy', 1)], outDir: tempDir('defaults-b'), model: MODEL, _internal: { grader: inlineGrader() } });
    expect(masa.calls[0]?.[0]).toMatchObject({ n: 32, temperature: 0.6, topP: 1, maxNewTokens: 16_384 });
    const greedy = outcomeEngine(() => true);
    await runEvaluation({ engine: greedy, datasets: [toyDataset('toy', 1)], outDir: tempDir('defaults-c'), model: MODEL, temperature: 0, _internal: { grader: inlineGrader() } });
    expect(greedy.calls[0]?.[0]).toMatchObject({ n: 1, temperature: 0 });
  });

  it('parity and corrected prompts of a real dataset reach the engine', async () => {
    const loaded = await loadDataset('math500', { limit: 1 });
    const problem = loaded.problems[0];
    const corrected = outcomeEngine(() => false);
    await runEvaluation({ engine: corrected, datasets: [{ ...loaded, file: null }], outDir: tempDir('corrected'), model: MODEL, n: 1, _internal: { grader: inlineGrader() } });
    const parity = outcomeEngine(() => false);
    await runEvaluation({ engine: parity, datasets: [{ ...loaded, file: null }], outDir: tempDir('parity'), model: MODEL, n: 1, parity: true, _internal: { grader: inlineGrader() } });
    expect(corrected.calls[0]?.[0]?.messages).toEqual([{ role: 'user', content: `${problem?.question} ${BOXED_INSTRUCTION}` }]);
    expect(parity.calls[0]?.[0]?.messages).toEqual([{ role: 'user', content: problem?.question }]);
  });

  it('caps each budget at context − prompt tokens and scores a prompt that fills the context as empty samples', async () => {
    // A character tokenizer: one token per character of the user turn, plus 2 for the template.
    const tokenizer = { encodeChat: (messages: ReadonlyArray<{ content: string }>) => Array.from({ length: (messages[0]?.content.length ?? 0) + 2 }, () => 1) };
    const dataset = toyDataset('arith', 2, 'synthetic-arith');
    dataset.problems[1] = { id: 'q1', question: 'x'.repeat(40), answer: '2' };
    const engine = outcomeEngine(() => true);
    const events = await collect({ engine, datasets: [dataset], outDir: tempDir('cap'), model: MODEL, n: 2, tokenizer, contextTokens: 30, _internal: { grader: inlineGrader() } });
    // "What is 0 + 1?\n" = 15 characters → 17 prompt tokens → budget 30 − 17 = 13.
    expect(engine.calls[0]).toHaveLength(1);
    expect(engine.calls[0]?.[0]).toMatchObject({ id: 'arith/q0', maxNewTokens: 13, promptTokenIds: new Array(17).fill(1) });
    const warnings = events.filter((event) => event.type === 'warning').map((event) => (event as { code: string }).code);
    expect(warnings).toEqual(['budget-capped', 'prompt-too-long']);
    const end = events.at(-1);
    expect(end?.type === 'evaluation-end' && end.summary.details[0]).toMatchObject({ promptTooLong: 1, finishReasons: { stop: 0, length: 4, cutoff: 0 } });
    // q0: the scripted answer is cut at 13 tokens, so its boxed answer never appears.
    expect(end?.type === 'evaluation-end' && end.summary.datasets[0]?.passAtK[0]?.mean).toBe(0);
  });

  it('fails with ENGINE_FAILED when the engine returns fewer samples, keeping finished problems', async () => {
    const inner = outcomeEngine(() => true);
    let calls = 0;
    const engine = {
      ...inner,
      async doGenerate(...args: Parameters<typeof inner.doGenerate>) {
        calls += 1;
        const results = await inner.doGenerate(...args);
        if (calls === 2) results[0]?.samples.pop();
        return results;
      },
    };
    const outDir = tempDir('short');
    const error = await runEvaluation({ engine, datasets: [toyDataset('toy', 3)], outDir, model: MODEL, n: 2, batchProblems: 1, _internal: { grader: inlineGrader() } }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'ENGINE_FAILED')).toBe(true);
    expect((error as MasaError).message).toMatch(/returned 1 samples for toy\/q1, expected 2/);
    expect(readJsonl<ResponseRecord>(join(outDir, 'responses.jsonl')).map((record) => record.id)).toEqual(['q0']);
    expect(existsSync(join(outDir, '.lock'))).toBe(false);
  });
});

describe('resuming', () => {
  const base = (outDir: string, engine: RunEvaluationOptions['engine']): RunEvaluationOptions => ({
    engine,
    datasets: [toyDataset('alpha', 4), toyDataset('beta', 3)],
    outDir,
    model: MODEL,
    selection: { domain: 'math' },
    n: 4,
    batchProblems: 1,
    ks: [1, 2],
    _internal: { grader: inlineGrader() },
  });
  const outcome = (problem: number, sample: number): boolean => (problem + sample) % 3 === 0;

  it('after leaving the loop at problem k, a rerun generates only the rest and ends with the same summary as one uninterrupted run', async () => {
    const reference = await runEvaluation(base(tempDir('uninterrupted'), outcomeEngine(outcome)));

    const outDir = tempDir('resume');
    const first = outcomeEngine(outcome);
    let seen = 0;
    for await (const event of runEvaluationIter(base(outDir, first))) {
      if (event.type === 'problem-end') seen += 1;
      if (seen === 5) break;
    }
    expect(first.calls.map((call) => call.map((request) => request.id))).toEqual([['alpha/q0'], ['alpha/q1'], ['alpha/q2'], ['alpha/q3'], ['beta/q0']]);
    expect(existsSync(join(outDir, '.lock'))).toBe(false);

    const second = outcomeEngine(outcome);
    const events = await collect(base(outDir, second));
    expect(second.calls.map((call) => call.map((request) => request.id))).toEqual([['beta/q1'], ['beta/q2']]);
    expect(events[0]).toMatchObject({ type: 'evaluation-start', totalProblems: 7, completedProblems: 5 });
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'evaluation-end', status: 'complete', completedProblems: 7, runProblems: 2 });
    expect(end?.type === 'evaluation-end' && end.summary).toEqual(reference.summary);
    const ids = readJsonl<ResponseRecord>(join(outDir, 'responses.jsonl')).map((record) => `${record.dataset}/${record.id}`);
    expect(ids).toEqual(['alpha/q0', 'alpha/q1', 'alpha/q2', 'alpha/q3', 'beta/q0', 'beta/q1', 'beta/q2']);
    expect(readJsonl<StoredScore>(join(outDir, 'scores.jsonl'))).toHaveLength(28);
    // A third run has nothing to do.
    const third = outcomeEngine(outcome);
    expect(await runEvaluation(base(outDir, third))).toMatchObject({ status: 'complete', runProblems: 0 });
    expect(third.calls).toHaveLength(0);
  });

  it('truncates a torn last line, drops scores whose problem never got its responses line, and redoes only that problem', async () => {
    const outDir = tempDir('torn');
    await runEvaluation({ ...base(outDir, outcomeEngine(outcome)), datasets: [toyDataset('alpha', 4)] });
    // Imitate a kill between the two writes of alpha/q3 (its scores on disk, its responses line not)
    // and during the next write (half a line).
    const responsesPath = join(outDir, 'responses.jsonl');
    const lines = readFileSync(responsesPath, 'utf8').split('\n').filter((line) => line !== '');
    writeFileSync(responsesPath, `${lines.slice(0, 3).join('\n')}\n${(lines[3] as string).slice(0, 25)}`);
    appendFileSync(join(outDir, 'scores.jsonl'), '{"dataset":"alpha","problemId":"q9","sampleIndex":0,"sco');

    const engine = outcomeEngine(outcome);
    const events = await collect({ ...base(outDir, engine), datasets: [toyDataset('alpha', 4)] });
    expect(engine.calls.map((call) => call.map((request) => request.id))).toEqual([['alpha/q3']]);
    const start = events[0];
    expect(start?.type === 'evaluation-start' && start.recovery).toEqual({ completed: 3, tornLines: 2, orphanScores: 4, ungraded: 0, configReplaced: null });
    expect(events.some((event) => event.type === 'warning' && event.code === 'store-recovered')).toBe(true);
    expect(readJsonl<ResponseRecord>(responsesPath).map((record) => record.id)).toEqual(['q0', 'q1', 'q2', 'q3']);
    const scores = readJsonl<StoredScore>(join(outDir, 'scores.jsonl'));
    expect(scores.map((score) => `${score.problemId}:${score.sampleIndex}`)).toEqual(['q0', 'q1', 'q2', 'q3'].flatMap((id) => [0, 1, 2, 3].map((index) => `${id}:${index}`)));
  });

  it('grades stored responses again without generating when their scores are missing', async () => {
    const outDir = tempDir('regrade');
    await runEvaluation({ ...base(outDir, outcomeEngine(outcome)), datasets: [toyDataset('alpha', 2)] });
    const scoresPath = join(outDir, 'scores.jsonl');
    const scores = readFileSync(scoresPath, 'utf8').split('\n').filter((line) => line !== '');
    writeFileSync(scoresPath, `${scores.slice(0, 5).join('\n')}\n`); // q0 complete, q1 has 1 of 4
    const engine = outcomeEngine(() => false);
    const grader = inlineGrader();
    const result = await runEvaluation({ ...base(outDir, engine), datasets: [toyDataset('alpha', 2)], _internal: { grader } });
    expect(engine.calls).toHaveLength(0);
    expect(grader.graded).toBe(4);
    const after = readJsonl<StoredScore>(scoresPath);
    expect(after.filter((score) => score.problemId === 'q1').map((score) => score.sampleIndex)).toEqual([0, 1, 2, 3]);
    // Outcomes of the first engine survive: q1 samples 2 ((1 + 2) % 3 = 0) is correct.
    expect(after.filter((score) => score.problemId === 'q1').map((score) => score.score)).toEqual([0, 0, 1, 0]);
    expect(result.runProblems).toBe(1);
    expect(readJsonl<ResponseRecord>(join(outDir, 'responses.jsonl'))).toHaveLength(2);
  });

  it('refuses a folder of a different configuration, naming the key; --force-config adopts the new one', async () => {
    const outDir = tempDir('mismatch');
    await runEvaluation({ ...base(outDir, outcomeEngine(outcome)), datasets: [toyDataset('alpha', 2)], temperature: 1 });
    const again = outcomeEngine(outcome);
    const error = await runEvaluation({ ...base(outDir, again), datasets: [toyDataset('alpha', 3)], temperature: 0.5 }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as MasaError).message).toContain('"sampling.temperature" was 1, now 0.5');
    expect((error as MasaError).message).toContain('--force-config');
    expect((error as MasaError).message).toContain('--out');
    expect(again.calls).toHaveLength(0);
    expect(existsSync(join(outDir, '.lock'))).toBe(false);

    // Settings that do not change results (limit, batch size, ks) may change freely.
    const relaxed = outcomeEngine(outcome);
    await runEvaluation({ ...base(outDir, relaxed), datasets: [toyDataset('alpha', 3)], temperature: 1, batchProblems: 2, ks: [1], limit: 3 });
    expect(relaxed.calls.map((call) => call.map((request) => request.id))).toEqual([['alpha/q2']]);

    const forced = outcomeEngine(outcome);
    const events = await collect({ ...base(outDir, forced), datasets: [toyDataset('alpha', 4)], temperature: 0.5, forceConfig: true });
    expect(events.find((event) => event.type === 'warning')).toMatchObject({ code: 'config-replaced' });
    expect(forced.calls.map((call) => call.map((request) => request.id))).toEqual([['alpha/q3']]);
    expect(forced.calls[0]?.[0]?.temperature).toBe(0.5);
    expect(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'))).toMatchObject({ sampling: { temperature: 0.5 } });
  });

  it('stops after the current batch when asked, with status stopped, and resumes', async () => {
    const outDir = tempDir('stop');
    const stop = new AbortController();
    const engine = outcomeEngine(outcome);
    const options = { ...base(outDir, engine), datasets: [toyDataset('alpha', 6)], batchProblems: 2 };
    let result: EvaluationEvent | undefined;
    for await (const event of runEvaluationIter({ ...options, stopSignal: stop.signal })) {
      // Ctrl-C while the second batch generates: it still finishes and is written.
      if (event.type === 'batch-start' && event.problemIds[0] === 'q2') stop.abort();
      result = event;
    }
    expect(result).toMatchObject({ type: 'evaluation-end', status: 'stopped', completedProblems: 4, totalProblems: 6 });
    expect(result?.type === 'evaluation-end' && result.summary.complete).toBe(false);
    expect(readFileSync(join(outDir, 'summary.md'), 'utf8')).toContain('incomplete (rerun the same command to resume)');
    const resumed = outcomeEngine(outcome);
    expect(await runEvaluation({ ...options, engine: resumed })).toMatchObject({ status: 'complete', runProblems: 2 });
    expect(resumed.calls.map((call) => call.map((request) => request.id))).toEqual([['alpha/q4', 'alpha/q5']]);
  });

  it('an abort stops the engine call in flight and throws ABORTED; finished problems stay', async () => {
    const outDir = tempDir('abort');
    const abort = new AbortController();
    const engine = createScriptedEngine({ respond: () => 'x'.repeat(50), tokenDelayMs: 2 });
    const run = collect({ ...base(outDir, engine), datasets: [toyDataset('alpha', 3)], n: 1, signal: abort.signal, progressIntervalMs: 5 });
    setTimeout(() => abort.abort(), 150);
    const error = await run.catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'ABORTED')).toBe(true);
    const finished = readJsonl<ResponseRecord>(join(outDir, 'responses.jsonl'));
    expect(finished.length).toBeLessThan(3);
    expect(existsSync(join(outDir, '.lock'))).toBe(false);
  });

  it('refuses a folder another live process is writing to, and takes over a stale lock', async () => {
    const outDir = tempDir('lock');
    writeFileSync(join(outDir, '.lock'), '4242\n');
    const busy = await runEvaluation({ ...base(outDir, outcomeEngine(outcome)), datasets: [toyDataset('alpha', 1)], _internal: { grader: inlineGrader(), isAlive: () => true } }).catch(
      (caught: unknown) => caught,
    );
    expect(MasaError.hasCode(busy, 'FILE_WRITE_FAILED')).toBe(true);
    expect((busy as MasaError).message).toContain('another masa eval (pid 4242)');
    const result = await runEvaluation({ ...base(outDir, outcomeEngine(outcome)), datasets: [toyDataset('alpha', 1)], _internal: { grader: inlineGrader(), isAlive: () => false } });
    expect(result.status).toBe('complete');
  });
});
