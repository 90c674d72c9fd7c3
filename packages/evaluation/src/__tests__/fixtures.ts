/**
 * Test fixtures: hand-made datasets, a scripted engine whose outcomes are decided per (problem,
 * sample), and an in-process grader (scoring's `gradeSync`, no worker threads) for fast tests.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GradeVerdict, Problem } from '@masa-rl/core';
import type { DatasetInfo } from '@masa-rl/datasets';
import { createScriptedEngine, type ScriptedEngine } from '@masa-rl/rollout/test';
import { gradeSync } from '@masa-rl/scoring';
import type { EvaluationModelConfig } from '../evaluation-config.js';
import type { EvaluationDataset } from '../load-evaluation-datasets.js';
import type { SampleGrader } from '../sample-grader.js';

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `masa-eval-${label}-`));
}

export const MODEL: EvaluationModelConfig = { path: '/models/scripted', backend: 'custom', baseUrl: null, apiModel: null };

export function mathInfo(name: string, template: DatasetInfo['template'] = 'math'): DatasetInfo {
  return {
    name,
    title: `Toy ${name}`,
    aliases: [],
    domain: 'math',
    answerKind: 'math',
    template,
    split: 'test',
    file: `${name}.jsonl`,
    rows: null,
    sha256: null,
    license: 'test',
    source: 'test',
    notes: '',
  };
}

/** Problems `q0`, `q1`, … asking for `i + 1`, with answer `i + 1` (a distinct gold each). */
export function toyDataset(name: string, count: number, template: DatasetInfo['template'] = 'math'): EvaluationDataset {
  const problems: Problem[] = Array.from({ length: count }, (_, index) => ({ id: `q${index}`, question: `What is ${index} + 1?`, answer: String(index + 1) }));
  return { info: mathInfo(name, template), problems, file: null };
}

/**
 * A scripted engine that answers problem `qI` sample `j` correctly (`\boxed{I+1}`) exactly when
 * `correct(I, j)`; otherwise `\boxed{0}` (wrong: every gold is ≥ 1).
 */
export function outcomeEngine(correct: (problem: number, sample: number) => boolean): ScriptedEngine {
  return createScriptedEngine({
    respond: ({ request, sampleIndex }) => {
      const match = /q(\d+)$/.exec(request.id);
      const problem = Number(match?.[1] ?? -1);
      return correct(problem, sampleIndex) ? `so the answer is \\boxed{${problem + 1}}` : 'I think \\boxed{0}';
    },
  });
}

/** Grades in this thread (no worker pool), counting calls. */
export function inlineGrader(): SampleGrader & { graded: number } {
  const grader = {
    graded: 0,
    grade(problem: Problem, _info: unknown, responses: readonly string[]): Array<Promise<GradeVerdict>> {
      return responses.map((response) => {
        grader.graded += 1;
        return Promise.resolve(gradeSync({ kind: 'math', gold: problem.answer, response }));
      });
    },
    close: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
  return grader;
}
