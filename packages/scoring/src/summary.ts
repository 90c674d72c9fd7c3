/**
 * Per-dataset and per-domain score tables (markdown and JSON) from per-sample
 * scores.
 */
import { MasaError } from '@masa-rl/core';
import type { GradingMode } from './math-equal.js';
import { passAtKStat, type PassAtKStat } from './pass-at-k.js';

/** The per-sample scores of one problem. */
export interface ScoredProblem {
  problemId: string;
  /** One entry per sample: 1 correct, 0 wrong. */
  scores: number[];
  /** Samples whose grade hit its deadline. */
  timeouts: number;
  /** Samples whose grade failed with an error. */
  errors: number;
}

export interface DatasetSummary {
  dataset: string;
  domain: string;
  mode: GradingMode;
  problems: number;
  samples: number;
  samplesPerProblem: { min: number; max: number };
  /** One entry per requested k that every problem has enough samples for. */
  passAtK: PassAtKStat[];
  timeouts: number;
  errors: number;
}

export interface DomainSummary {
  domain: string;
  datasets: string[];
  /** Unweighted mean over the domain's datasets, for each k all of them report. */
  passAtK: Array<{ k: number; mean: number }>;
}

export interface ScoreSummary {
  datasets: DatasetSummary[];
  domains: DomainSummary[];
}

export interface SummarizeDatasetOptions {
  dataset: string;
  domain: string;
  mode: GradingMode;
  problems: readonly ScoredProblem[];
  /**
   * Which pass@k to report (those larger than the smallest sample count are skipped).
   * @default [1, 8, 32]
   */
  ks?: readonly number[];
}

/** pass@k (mean ± std), counts, timeouts and errors of one dataset. */
export function summarizeDataset(options: SummarizeDatasetOptions): DatasetSummary {
  const { dataset, domain, mode, problems, ks = [1, 8, 32] } = options;
  if (problems.length === 0) throw new MasaError('ARGUMENT_INVALID', `no scored problems for dataset ${dataset}`);
  const counts = problems.map((problem) => problem.scores.length);
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  if (min < 1) {
    const empty = problems.find((problem) => problem.scores.length === 0);
    throw new MasaError('ARGUMENT_INVALID', `problem ${empty?.problemId ?? '?'} of ${dataset} has no samples`);
  }
  const matrix = problems.map((problem) => problem.scores);
  return {
    dataset,
    domain,
    mode,
    problems: problems.length,
    samples: counts.reduce((a, b) => a + b, 0),
    samplesPerProblem: { min, max },
    passAtK: [...new Set(ks)].filter((k) => Number.isInteger(k) && k >= 1 && k <= min).sort((a, b) => a - b).map((k) => passAtKStat(matrix, k)),
    timeouts: problems.reduce((a, p) => a + p.timeouts, 0),
    errors: problems.reduce((a, p) => a + p.errors, 0),
  };
}

/** Groups dataset summaries by domain (unweighted means over datasets). */
export function summarizeScores(datasets: readonly DatasetSummary[]): ScoreSummary {
  const byDomain = new Map<string, DatasetSummary[]>();
  for (const summary of datasets) {
    const list = byDomain.get(summary.domain) ?? [];
    list.push(summary);
    byDomain.set(summary.domain, list);
  }
  const domains: DomainSummary[] = [...byDomain.entries()].map(([domain, list]) => {
    const ks = (list[0] as DatasetSummary).passAtK.map((stat) => stat.k).filter((k) => list.every((s) => s.passAtK.some((stat) => stat.k === k)));
    return {
      domain,
      datasets: list.map((s) => s.dataset),
      passAtK: ks.map((k) => ({
        k,
        mean: list.reduce((acc, s) => acc + (s.passAtK.find((stat) => stat.k === k) as PassAtKStat).mean, 0) / list.length,
      })),
    };
  });
  return { datasets: [...datasets], domains };
}

function percent(value: number): string {
  return (100 * value).toFixed(2);
}

/** Markdown tables: one row per dataset, then one per domain. pass@k in percent, `± std` across runs. */
export function renderSummaryMarkdown(summary: ScoreSummary): string {
  const ks = [...new Set(summary.datasets.flatMap((s) => s.passAtK.map((stat) => stat.k)))].sort((a, b) => a - b);
  const lines: string[] = [];
  lines.push(`| dataset | domain | mode | problems | samples/problem | ${ks.map((k) => `pass@${k}`).join(' | ')} | timeouts | errors |`);
  lines.push(`|---|---|---|---:|---:|${ks.map(() => '---:').join('|')}|---:|---:|`);
  for (const s of summary.datasets) {
    const cells = ks.map((k) => {
      const stat = s.passAtK.find((x) => x.k === k);
      if (!stat) return '—';
      return stat.std === null ? percent(stat.mean) : `${percent(stat.mean)} ± ${percent(stat.std)}`;
    });
    const perProblem = s.samplesPerProblem.min === s.samplesPerProblem.max ? `${s.samplesPerProblem.min}` : `${s.samplesPerProblem.min}–${s.samplesPerProblem.max}`;
    lines.push(`| ${s.dataset} | ${s.domain} | ${s.mode} | ${s.problems} | ${perProblem} | ${cells.join(' | ')} | ${s.timeouts} | ${s.errors} |`);
  }
  if (summary.domains.length > 0) {
    lines.push('');
    lines.push(`| domain | datasets | ${ks.map((k) => `pass@${k}`).join(' | ')} |`);
    lines.push(`|---|---|${ks.map(() => '---:').join('|')}|`);
    for (const d of summary.domains) {
      const cells = ks.map((k) => {
        const stat = d.passAtK.find((x) => x.k === k);
        return stat ? percent(stat.mean) : '—';
      });
      lines.push(`| ${d.domain} | ${d.datasets.join(', ')} | ${cells.join(' | ')} |`);
    }
  }
  lines.push('');
  lines.push('pass@k: unbiased estimator 1 − C(n−c,k)/C(n,k), averaged over problems. ± is the sample standard deviation across runs');
  lines.push('(run j = the j-th sample of every problem for pass@1; disjoint blocks of k samples for pass@k).');
  return `${lines.join('\n')}\n`;
}
