/**
 * The pass@k summary of a results folder: `@masa-rl/scoring`'s per-dataset and per-domain tables over
 * the finished problems, plus what a reader needs to trust them (progress, token use, finish reasons).
 */
import type { FinishReason } from '@masa-rl/core';
import { renderSummaryMarkdown, summarizeDataset, summarizeScores, type GradingMode, type ScoredProblem, type ScoreSummary } from '@masa-rl/scoring';
import type { EvaluationConfig } from './evaluation-config.js';
import type { CompletedProblem } from './results-store.js';

/** Per-dataset facts beside pass@k. */
export interface DatasetDetails {
  dataset: string;
  title: string;
  /** Finished problems of the selection. */
  completed: number;
  /** Problems selected (after `limit`). */
  total: number;
  /** Mean generated tokens per sample, over samples whose count is known; null when none is. */
  meanTokens: number | null;
  finishReasons: Record<FinishReason, number>;
  /** Problems whose prompt alone filled the context (no sample generated; they score 0). */
  promptTooLong: number;
}

/** What `summary.json` holds (besides the configuration). */
export interface EvaluationSummary extends ScoreSummary {
  /** Every selected problem is finished. */
  complete: boolean;
  details: DatasetDetails[];
}

/** Input of {@link summarizeEvaluation}: the finished problems of each dataset. */
export interface SummarizeEvaluationOptions {
  datasets: ReadonlyArray<{ name: string; title: string; domain: string; total: number; completed: readonly CompletedProblem[] }>;
  mode: GradingMode;
  /** @default [1, 8, 32] */
  ks?: readonly number[];
}

/** Builds the summary; datasets without a finished problem get details but no pass@k row. */
export function summarizeEvaluation(options: SummarizeEvaluationOptions): EvaluationSummary {
  const { datasets, mode, ks = [1, 8, 32] } = options;
  const rows = [];
  const details: DatasetDetails[] = [];
  for (const dataset of datasets) {
    const scored: ScoredProblem[] = dataset.completed.map(({ record, scores }) => ({
      problemId: record.id,
      scores: scores.map((score) => score.score),
      timeouts: scores.filter((score) => score.verdict.status === 'timeout').length,
      errors: scores.filter((score) => score.verdict.status === 'error').length,
    }));
    const finishReasons: Record<FinishReason, number> = { stop: 0, length: 0, cutoff: 0 };
    let tokenSum = 0;
    let tokenCount = 0;
    let promptTooLong = 0;
    for (const { record } of dataset.completed) {
      for (const reason of record.finishReasons) finishReasons[reason] += 1;
      for (const tokens of record.tokens) {
        if (tokens !== null) {
          tokenSum += tokens;
          tokenCount += 1;
        }
      }
      if (record.maxNewTokens < 1) promptTooLong += 1;
    }
    details.push({
      dataset: dataset.name,
      title: dataset.title,
      completed: dataset.completed.length,
      total: dataset.total,
      meanTokens: tokenCount === 0 ? null : tokenSum / tokenCount,
      finishReasons,
      promptTooLong,
    });
    if (scored.length > 0 && scored.every((problem) => problem.scores.length > 0)) {
      rows.push(summarizeDataset({ dataset: dataset.name, domain: dataset.domain, mode, problems: scored, ks }));
    }
  }
  return { ...summarizeScores(rows), complete: details.every((detail) => detail.completed === detail.total), details };
}

/** `summary.md`: a heading with the settings, the pass@k tables, and progress / token details. */
export function renderEvaluationMarkdown(summary: EvaluationSummary, config: EvaluationConfig): string {
  const { model, sampling, prompt, grading } = config;
  const source = model.backend === 'openai' ? `${model.apiModel ?? model.path} at ${model.baseUrl ?? '?'}` : model.path;
  const lines = [
    `# Evaluation of ${source}`,
    '',
    `- sampling: n ${sampling.n}, temperature ${sampling.temperature}, top-p ${sampling.topP}, max new tokens ${sampling.maxNewTokens}` +
      `${sampling.contextTokens === null ? '' : ` (context ${sampling.contextTokens})`}, seed ${sampling.seed}`,
    `- prompts: ${prompt.mode} (${prompt.format}); grading: ${grading.mode}, deadline ${grading.deadlineMs} ms`,
    `- status: ${summary.complete ? 'complete' : 'incomplete (rerun the same command to resume)'}`,
    '',
  ];
  if (summary.datasets.length > 0) lines.push(renderSummaryMarkdown(summary));
  else lines.push('No finished problems yet.\n');
  lines.push('| dataset | finished | mean tokens | stop | length | cutoff | prompt too long |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const detail of summary.details) {
    const reasons = detail.finishReasons;
    lines.push(
      `| ${detail.dataset} | ${detail.completed}/${detail.total} | ${detail.meanTokens === null ? '—' : detail.meanTokens.toFixed(1)} | ${reasons.stop} | ${reasons.length} | ${reasons.cutoff} | ${detail.promptTooLong} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
