import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, type Problem, type SampleScore } from '@masa-rl/core';
import { loadDataset, type DatasetInfo, type LoadedDataset } from '@masa-rl/datasets';
import type { EvaluationEngine, EvaluationEvent, EvaluationModelInfo, ResponseRecord } from '@masa-rl/evaluation';
import { createRandomModel } from '@masa-rl/model';
import { createScriptedEngine, type ScriptedEngine } from '@masa-rl/rollout/test';
import { describe, expect, it } from 'vitest';
import { createEvalCommand, type EvalCommandOptions } from './eval.js';
import { expectMasaError } from '../test-support/expect-masa-error.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const sample = join(root, 'packages', 'scoring', 'examples', 'math500-sample.responses.jsonl');
const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-eval-'));

async function run(args: string[], internal: EvalCommandOptions['_internal'] = {}): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const command = createEvalCommand({
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: {},
    _internal: internal,
  });
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
  await command.parseAsync(['score', ...args], { from: 'user' });
  return { out, err };
}

function failure(args: string[], internal: EvalCommandOptions['_internal'] = {}): Promise<MasaError> {
  return expectMasaError(run(args, internal));
}

function readScores(dir: string): SampleScore[] {
  return readFileSync(join(dir, 'scores.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SampleScore);
}

/** Which of the bundled sample responses are right, decided by hand when they were written. */
const EXPECTED: Record<string, number[]> = {
  'test/precalculus/807.json': [1, 1, 0],
  'test/intermediate_algebra/1994.json': [1, 1, 0],
  'test/algebra/2584.json': [1, 1, 0],
  'test/number_theory/572.json': [1, 1, 0],
  'test/algebra/1349.json': [1, 0],
  'test/prealgebra/1622.json': [1, 1, 1, 0],
  'test/number_theory/515.json': [1, 1, 0],
  'test/precalculus/927.json': [1, 1, 0],
  'test/algebra/2036.json': [1, 1, 0],
  'test/number_theory/1032.json': [1, 1, 0],
  'test/intermediate_algebra/1197.json': [1, 1, 0],
  'test/precalculus/990.json': [1, 1, 0],
  'test/intermediate_algebra/134.json': [1, 0],
  'test/precalculus/1199.json': [1, 1, 0],
};

describe('masa eval score on the bundled MATH-500 sample', () => {
  it.each(['correct', 'masa-parity'] as const)('scores every response as written by hand (%s mode) and writes the files', async (mode) => {
    const outDir = join(cwd, `sample-${mode}`);
    const { out, err } = await run(['--responses', sample, '--dataset', 'math500', '--mode', mode, '--out', outDir, '--workers', '1']);
    const scores = readScores(outDir);
    const byProblem: Record<string, number[]> = {};
    for (const score of scores) (byProblem[score.problemId] ??= [])[score.sampleIndex] = score.score;
    expect(byProblem).toEqual(EXPECTED);
    // pass@1 = mean over problems of c/n, computed here from the hand labels.
    const expectedPass1 = Object.values(EXPECTED).reduce((acc, list) => acc + list.filter((x) => x === 1).length / list.length, 0) / 14;
    const summary = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as {
      datasets: Array<{ dataset: string; mode: string; problems: number; samples: number; passAtK: Array<{ k: number; mean: number }> }>;
    };
    expect(summary.datasets[0]).toMatchObject({ dataset: 'math500', mode, problems: 14, samples: 41 });
    expect(summary.datasets[0]?.passAtK[0]?.mean).toBeCloseTo(expectedPass1, 12);
    expect(out).toContain(`| math500 | math | ${mode} | 14 | 2–4 | ${(100 * expectedPass1).toFixed(2)} ± `);
    expect(readFileSync(join(outDir, 'summary.md'), 'utf8')).toContain('# MATH-500 (math500)');
    expect(readdirSync(outDir).sort()).toEqual(['scores.jsonl', 'summary.json', 'summary.md']);
    expect(err).toContain('486 of 500 math500 problems have no responses');
  });

  it('--json prints the summary object', async () => {
    const { out } = await run(['--responses', sample, '--dataset', 'math500', '--json', '--ks', '1,2', '--out', join(cwd, 'json'), '--workers', '1']);
    const summary = JSON.parse(out) as { datasets: Array<{ passAtK: Array<{ k: number }> }>; domains: unknown[] };
    expect(summary.datasets[0]?.passAtK.map((stat) => stat.k)).toEqual([1, 2]);
    expect(summary.domains).toHaveLength(1);
  });
});

describe('masa eval score input handling', () => {
  const info = {
    name: 'toy_logic',
    title: 'Toy logic',
    aliases: [],
    domain: 'logic',
    answerKind: 'choice',
    template: 'logic',
    split: 'test',
    file: 'toy.jsonl',
    rows: 2,
    sha256: null,
    license: 'test',
    source: 'test',
    notes: '',
  } as unknown as DatasetInfo;
  const problems: Problem[] = [
    { id: 'p1', question: 'q1', answer: 'A', choices: [{ label: 'A', text: 'yes' }, { label: 'B', text: 'no' }] },
    { id: 'p2', question: 'q2', answer: 'B', choices: [{ label: 'A', text: 'yes' }, { label: 'B', text: 'no' }] },
  ];
  const loadDataset = async (): Promise<LoadedDataset> => ({ info, problems });

  it('accepts one response per line, grades logic answers by the label phrase', async () => {
    const file = join(cwd, 'logic.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ id: 'p1', response: 'Reasoning… The correct option is: A' }),
        JSON.stringify({ id: 'p2', response: 'a tricky one. The correct option is: B' }),
        JSON.stringify({ id: 'p2', responses: ['The correct option is: A'] }),
      ].join('\n'),
    );
    const outDir = join(cwd, 'logic-out');
    await run(['--responses', file, '--dataset', 'toy_logic', '--out', outDir, '--workers', '1'], { loadDataset });
    const scores = readScores(outDir);
    expect(scores.map((s) => [s.problemId, s.sampleIndex, s.score])).toEqual([
      ['p1', 0, 1],
      ['p2', 0, 1],
      ['p2', 1, 0],
    ]);
    expect(scores[0]?.verdict.reason).toBe('choice-label-phrase');
  });

  it('names the line of an unknown id or a malformed line', async () => {
    const unknown = join(cwd, 'unknown.jsonl');
    writeFileSync(unknown, `${JSON.stringify({ id: 'p1', response: 'A' })}\n${JSON.stringify({ id: 'p9', response: 'A' })}\n`);
    const error = await failure(['--responses', unknown, '--dataset', 'toy_logic', '--out', join(cwd, 'x')], { loadDataset });
    expect(error.code).toBe('DATASET_INVALID');
    expect(error.message).toMatch(/unknown\.jsonl:2: unknown problem id "p9"/);

    const malformed = join(cwd, 'malformed.jsonl');
    writeFileSync(malformed, `${JSON.stringify({ id: 'p1', response: 'A' })}\n{"id": "p2", "response": \n`);
    expect((await failure(['--responses', malformed, '--dataset', 'toy_logic'], { loadDataset })).message).toMatch(/malformed\.jsonl:2: not valid JSON/);

    const noResponse = join(cwd, 'noresponse.jsonl');
    writeFileSync(noResponse, `${JSON.stringify({ id: 'p1', answer: 'A' })}\n`);
    expect((await failure(['--responses', noResponse, '--dataset', 'toy_logic'], { loadDataset })).message).toMatch(/noresponse\.jsonl:1: needs "responses"/);

    expect((await failure(['--responses', join(cwd, 'none.jsonl'), '--dataset', 'toy_logic'], { loadDataset })).code).toBe('FILE_NOT_FOUND');
    expect(existsSync(join(cwd, 'x'))).toBe(false);
  });
});

describe('masa eval score on MBPP (sandboxed code)', () => {
  it('passes the reference solution and fails a wrong one', async () => {
    const mbpp = readFileSync(join(root, 'datasets', 'mbpp.jsonl'), 'utf8').split('\n')[0] as string;
    const problem = JSON.parse(mbpp) as { id: string; answer: string };
    const file = join(cwd, 'mbpp.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ id: problem.id, responses: [`\`\`\`python\n${problem.answer.replace(/\r/g, '')}\n\`\`\``, '```python\ndef remove_Occ(s, ch):\n    return s\n```'] })}\n`,
    );
    const outDir = join(cwd, 'mbpp-out');
    await run(['--responses', file, '--dataset', 'mbpp', '--out', outDir]);
    const scores = readScores(outDir);
    if (scores[0]?.verdict.status === 'error') {
      // No Python here: both samples must say so instead of crashing.
      expect(scores.every((s) => s.verdict.reason === 'sandbox-failed')).toBe(true);
      return;
    }
    expect(scores.map((s) => s.score)).toEqual([1, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// masa eval [run]: generation → grading → pass@k, resumable.

interface RunOutput {
  out: string;
  err: string;
  error: unknown;
}

/** A scripted engine that answers synthetic problem `test-NNNNN` right for the sample indices `right(id)` returns. */
function synthEngine(answers: ReadonlyMap<string, string>, right: (problemId: string, sample: number) => boolean): ScriptedEngine {
  return createScriptedEngine({
    respond: ({ request, sampleIndex }) => {
      const id = request.id.slice(request.id.indexOf('/') + 1);
      return right(id, sampleIndex) ? `Adding up. The answer is \\boxed{${answers.get(id)}}.` : 'The answer is \\boxed{-1}.';
    },
  });
}

function engineSeams(engine: ScriptedEngine, seen: { describe: number; create: number } = { describe: 0, create: 0 }): NonNullable<EvalCommandOptions['_internal']> {
  const info = (modelPath: string | undefined): EvaluationModelInfo => ({
    model: { path: modelPath ?? 'scripted', backend: 'ort', baseUrl: null, apiModel: null },
    promptFormat: 'messages',
  });
  return {
    describeModel: async (options) => {
      seen.describe += 1;
      return info(options.modelPath);
    },
    createEngine: async (options): Promise<EvaluationEngine> => {
      seen.create += 1;
      const close = async (): Promise<void> => undefined;
      return { engine, model: info(options.modelPath).model, close, [Symbol.asyncDispose]: close };
    },
  };
}

async function evalRun(args: string[], internal: NonNullable<EvalCommandOptions['_internal']>, extra: Partial<EvalCommandOptions> = {}): Promise<RunOutput> {
  let out = '';
  let err = '';
  const command = createEvalCommand({
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: {},
    isTTY: false,
    argv: ['eval', ...args],
    repoRoot: root,
    _internal: internal,
    ...extra,
  });
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
  let error: unknown;
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (caught: unknown) {
    error = caught;
  }
  return { out, err, error };
}

const synthetic = await loadDataset('synthetic-arith-test');
const answers = new Map(synthetic.problems.map((problem) => [problem.id, problem.answer]));

describe('masa eval (generation)', () => {
  it('with no arguments evaluates models/tiny-arith on synthetic-arith-test with its own prompts and defaults', async () => {
    // Sample j of problem i is right when (i + j) % 4 === 0: exactly 2 of 8 samples per problem.
    const right = (id: string, sample: number): boolean => (Number(id.slice(5)) + sample) % 4 === 0;
    const engine = synthEngine(answers, right);
    const seen = { describe: 0, create: 0 };
    const { out, err, error } = await evalRun([], engineSeams(engine, seen));
    expect(error).toBeUndefined();
    expect(seen).toEqual({ describe: 1, create: 1 });
    expect(err).toContain('no --dataset or --domain: evaluating on synthetic-arith-test');
    // Plain progress lines (not a TTY): the first problem and the last, with the accuracy so far.
    expect(err).toContain('1/500 problems · synthetic-arith-test · acc 25.0%');
    expect(err).toMatch(/500\/500 problems · synthetic-arith-test · acc 25\.0% · .* tok\/s · ETA 0s/);
    const requests = engine.calls.flat();
    expect(requests).toHaveLength(500);
    expect(requests[0]).toMatchObject({
      id: 'synthetic-arith-test/test-00000',
      messages: [{ role: 'user', content: `${synthetic.problems[0]?.question}\n` }],
      n: 8,
      temperature: 1,
      topP: 1,
      maxNewTokens: 320,
    });
    // pass@1 = 2/8 for every problem; pass@8 = 1 (one right sample is enough).
    expect(out).toContain('| synthetic-arith-test | math | correct | 500 | 8 | 25.00 ± 0.00 | 100.00 | 0 | 0 |');
    const outDir = join(cwd, 'runs', 'eval', 'tiny-arith', 'synthetic-arith-test');
    expect(readdirSync(outDir).sort()).toEqual(['config.json', 'responses.jsonl', 'scores.jsonl', 'summary.json', 'summary.md']);
    const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')) as { model: { path: string }; selection: unknown };
    expect(config.model.path).toBe(join(root, 'models', 'tiny-arith'));
    expect(config.selection).toEqual({ dataset: 'synthetic-arith-test' });
  });

  it('says how to create the default model when it is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'masa-cli-eval-root-'));
    const { error } = await evalRun(['--limit', '1'], engineSeams(synthEngine(answers, () => true)), { repoRoot: empty });
    expect(MasaError.hasCode(error, 'MODEL_LOAD_FAILED')).toBe(true);
    expect((error as MasaError).message).toContain('pnpm masa sft --recipe tiny');
    expect((error as MasaError).message).toContain('--model DIR');
  });

  it('--parity sends the reference prompts and writes to its own folder; --json prints NDJSON events', async () => {
    const math = await loadDataset('math500', { limit: 2 });
    const respond = createScriptedEngine({ respond: () => 'no idea' });
    const modelDir = join(cwd, 'my-model');
    mkdirSync(modelDir, { recursive: true });
    const { out, error } = await evalRun(['--model', modelDir, '--dataset', 'math500', '--limit', '2', '--n', '2', '--parity', '--json'], engineSeams(respond));
    expect(error).toBeUndefined();
    expect(respond.calls.flat().map((request) => request.messages)).toEqual(math.problems.map((problem) => [{ role: 'user', content: problem.question }]));
    expect(respond.calls[0]?.[0]).toMatchObject({ n: 2, temperature: 0.6, topP: 1, maxNewTokens: 16_384 });
    const events = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EvaluationEvent);
    expect(events.map((event) => event.type).filter((type) => type !== 'generation-progress')).toEqual([
      'evaluation-start',
      'dataset-start',
      'batch-start',
      'problem-end',
      'problem-end',
      'dataset-end',
      'evaluation-end',
    ]);
    expect(events[0]).toMatchObject({ outDir: join(cwd, 'runs', 'eval', 'my-model', 'math500-parity'), config: { prompt: { mode: 'parity' } } });
  });

  it('a stop request ends after the current batch with ABORTED and the resume command; rerunning finishes only the rest', async () => {
    const right = (id: string, sample: number): boolean => (Number(id.slice(5)) + sample) % 2 === 0;
    const args = ['--limit', '6', '--n', '2', '--batch-problems', '2', '--out', 'stop-run'];
    const stop = new AbortController();
    const first = synthEngine(answers, right);
    const originalGenerate = first.doGenerate.bind(first);
    first.doGenerate = async (requests, generateOptions) => {
      stop.abort(); // Ctrl-C while the first batch generates
      return originalGenerate(requests, generateOptions);
    };
    const stopped = await evalRun(args, { ...engineSeams(first), stopSignal: stop.signal });
    expect(MasaError.hasCode(stopped.error, 'ABORTED')).toBe(true);
    expect((stopped.error as MasaError).message).toBe('stopped: 2 of 6 problems finished and saved in stop-run; resume with: pnpm masa eval --limit 6 --n 2 --batch-problems 2 --out stop-run');
    expect(stopped.out).toContain('status: incomplete');
    expect(first.calls).toHaveLength(1);

    const second = synthEngine(answers, right);
    const resumed = await evalRun(args, engineSeams(second));
    expect(resumed.error).toBeUndefined();
    expect(second.calls.map((call) => call.map((request) => request.id.slice('synthetic-arith-test/'.length)))).toEqual([
      ['test-00002', 'test-00003'],
      ['test-00004', 'test-00005'],
    ]);
    expect(resumed.err).toContain('resuming: 2 of 6 problems already finished');
    // One right sample of two in every problem: pass@1 = 0.5, pass@2 = 1.
    expect(resumed.out).toContain('| synthetic-arith-test | math | correct | 6 | 2 | 50.00 ± 0.00 |');
  });

  it('refuses a folder of another configuration before the model is loaded, naming the key and the fixes', async () => {
    const engine = synthEngine(answers, () => true);
    expect((await evalRun(['--limit', '1', '--n', '1', '--out', 'mismatch'], engineSeams(engine))).error).toBeUndefined();
    const seen = { describe: 0, create: 0 };
    const { error } = await evalRun(['--limit', '1', '--n', '1', '--seed', '7', '--out', 'mismatch'], engineSeams(engine, seen));
    expect(MasaError.hasCode(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as MasaError).message).toMatch(/"sampling\.seed" was 0, now 7\. Pass --force-config .* or --out NEW_DIR/);
    expect(seen).toEqual({ describe: 1, create: 0 });
    const forced = await evalRun(['--limit', '2', '--n', '1', '--seed', '7', '--out', 'mismatch', '--force-config'], engineSeams(engine));
    expect(forced.error).toBeUndefined();
    expect(forced.err).toContain('warning: --force-config: "sampling.seed" changed from 0 to 7');
  });

  it('checks its flags', async () => {
    const seams = engineSeams(synthEngine(answers, () => true));
    const both = await evalRun(['--dataset', 'math500', '--domain', 'math'], seams);
    expect((both.error as MasaError).message).toContain('exactly one of --dataset NAME and --domain');
    expect(((await evalRun(['--top-p', '1.5'], seams)).error as MasaError).message).toBe('--top-p must be a number in (0, 1], got "1.5"');
    expect(((await evalRun(['--base-url', 'http://x/v1'], seams)).error as MasaError).message).toContain('go with --backend openai');
    const openaiModel = await evalRun(['--backend', 'openai', '--model', 'x'], seams);
    expect((openaiModel.error as MasaError).message).toContain('with --backend openai name the served model with --api-model');
    expect(((await evalRun(['--threads', '0'], seams)).error as MasaError).message).toBe('--threads must be a positive integer, got "0"');
  });

  it('hands --threads and --max-batch-size to the ORT engine (default: one thread, as the engine)', async () => {
    const seams = engineSeams(synthEngine(answers, () => true));
    const seenOptions: Array<Parameters<NonNullable<typeof seams.createEngine>>[0]> = [];
    const recording = { ...seams, createEngine: (options: Parameters<NonNullable<typeof seams.createEngine>>[0]) => (seenOptions.push(options), (seams.createEngine as NonNullable<typeof seams.createEngine>)(options)) };
    expect((await evalRun(['--limit', '1', '--n', '1', '--threads', '2', '--max-batch-size', '8', '--out', 'threads'], recording)).error).toBeUndefined();
    expect((await evalRun(['--limit', '1', '--n', '1', '--out', 'one-thread'], recording)).error).toBeUndefined();
    expect(seenOptions.map(({ threads, maxBatchSize }) => ({ threads, maxBatchSize }))).toEqual([
      { threads: 2, maxBatchSize: 8 },
      { threads: undefined, maxBatchSize: 32 },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Killing the CLI process halfway (SIGKILL) and rerunning: a tiny random Qwen3 through ORT.

const cliDir = join(root, 'apps', 'cli');
const bin = join(cliDir, 'dist', 'bin.js');

/** Rebuilds the CLI when its build is missing or older than this command's source. */
function ensureBuiltCli(): void {
  const source = join(cliDir, 'src', 'commands', 'eval.ts');
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(source).mtimeMs) return;
  const build = spawnSync('pnpm', ['--filter', '@masa-rl/cli', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the CLI failed:\n${build.stdout}\n${build.stderr}`);
}

interface CliRun {
  events: EvaluationEvent[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `masa eval …` in a child process; `killAfter` problem-end events it is SIGKILLed. */
function runCli(args: string[], killAfter?: number): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [bin, 'eval', ...args, '--json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: EvaluationEvent[] = [];
    let buffer = '';
    let stderr = '';
    let problems = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const event = JSON.parse(buffer.slice(0, newline)) as EvaluationEvent;
        buffer = buffer.slice(newline + 1);
        events.push(event);
        if (event.type === 'problem-end') {
          problems += 1;
          if (problems === killAfter) child.kill('SIGKILL');
        }
        newline = buffer.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ events, code, signal, stderr }));
  });
}

describe('masa eval killed halfway (SIGKILL) and run again', () => {
  it('keeps every finished problem and generates only the rest', async () => {
    ensureBuiltCli();
    const modelDir = join(cwd, 'tiny-random');
    await createRandomModel({
      modelDir,
      architecture: 'qwen3',
      hiddenSize: 32,
      layers: 1,
      heads: 2,
      kvHeads: 1,
      headDim: 16,
      intermediateSize: 48,
      vocabSize: 99,
      tie: true,
      seed: 'cli-eval-kill',
      maxPositionEmbeddings: 96,
      eosTokenId: 98,
      initStd: 0.5,
      tokenizerDir: join(root, 'models', 'tiny-arith'),
    });
    const args = ['--model', modelDir, '--dataset', 'synthetic-arith-test', '--limit', '8', '--n', '2', '--max-new-tokens', '24', '--batch-problems', '1', '--workers', '1', '--out', 'killed'];
    const killed = await runCli(args, 3);
    expect(killed.signal).toBe('SIGKILL');
    const responsesPath = join(cwd, 'killed', 'responses.jsonl');
    const before = readFileSync(responsesPath, 'utf8');
    const finishedBefore = before.split('\n').filter((line) => line !== '').length;
    expect(finishedBefore).toBeGreaterThanOrEqual(3);
    expect(finishedBefore).toBeLessThan(8);

    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    const start = again.events[0];
    expect(start).toMatchObject({ type: 'evaluation-start', totalProblems: 8, completedProblems: finishedBefore });
    // The engine was asked only for the problems that were not on disk.
    const asked = again.events.flatMap((event) => (event.type === 'batch-start' ? event.problemIds : []));
    expect(asked).toEqual(synthetic.problems.slice(finishedBefore, 8).map((problem) => problem.id));
    expect(again.events.at(-1)).toMatchObject({ type: 'evaluation-end', status: 'complete', completedProblems: 8, runProblems: 8 - finishedBefore });
    // Finished problems were kept byte for byte; every problem appears once, in order.
    const after = readFileSync(responsesPath, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    const records = after
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ResponseRecord);
    expect(records.map((record) => record.id)).toEqual(synthetic.problems.slice(0, 8).map((problem) => problem.id));
    const scores = readFileSync(join(cwd, 'killed', 'scores.jsonl'), 'utf8').trim().split('\n');
    expect(scores).toHaveLength(16);
    expect(existsSync(join(cwd, 'killed', '.lock'))).toBe(false);
  });
});
