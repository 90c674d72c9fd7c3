/**
 * From the experiment's log to the numbers of the report: curves with seed
 * bands, final accuracy with paired intervals against GRPO, time and tokens to
 * reach GRPO's final accuracy with a bootstrap interval for the speed-up,
 * calibration before and after (next to the drift of a fixed predictor),
 * gating precision / recall / F1, where the cutoff's tokens come from, and the
 * ablations. Pure: the same log gives the same analysis.
 */
import { fixed, pct } from './format.js';
import { ABLATION_DEFAULTS, METHODS, type AblationKey, type MethodName, type PaperClaimsBudget, type RlMethodName } from './plan.js';
import type { EvalPoint, RunResult } from './run.js';
import { bootstrapSpeedup, firstReach, mean, pairedDifference, precisionRecall, sampleSd, type Interval } from './stats.js';

/** The paper's gating quality (MASA v2, Table 4). */
export const PAPER_GATING = Object.freeze({ precision: 0.94, recall: 0.87, f1: 0.91 });
/** The paper's wall-clock speed-up of MASA-efficient to GRPO's final accuracy. */
export const PAPER_SPEEDUP = 1.28;

/** Everything the log holds. */
export interface PaperClaimsLog {
  budget: PaperClaimsBudget;
  /** Where and when it ran. */
  machine: Record<string, string | number>;
  base: EvalPoint;
  runs: RunResult[];
}

export interface CurvePoint {
  step: number;
  trainSeconds: number;
  rolloutTokens: number;
  accuracy: number;
  low: number;
  high: number;
}

export interface MethodSummary {
  method: MethodName;
  seeds: number[];
  finalAccuracy: number[];
  trainSeconds: number[];
  rolloutTokens: number[];
  /** Mean over seeds at each evaluation point; `low`/`high`: the lowest and highest seed. */
  curve: CurvePoint[];
  /** Final meta evaluation (greedy meta prediction per problem), one per seed. */
  finalMeta: Array<NonNullable<EvalPoint['meta']>>;
}

/**
 * Time (and rollout tokens) to reach GRPO's final accuracy, per seed: the
 * level of a seed is GRPO's final accuracy on that seed, and GRPO and the
 * method are both timed by the first moment they reach it (GRPO no later than
 * its last evaluation), so GRPO against itself is exactly 1.
 */
export interface ReachSummary {
  method: RlMethodName;
  /** Seeds both GRPO and the method ran. */
  seeds: number[];
  /** GRPO's final accuracy per seed. */
  targets: number[];
  grpoSeconds: number[];
  grpoTokens: number[];
  /** `null`: not reached within the budget. */
  seconds: Array<number | null>;
  tokens: Array<number | null>;
  speedupSeconds: ReturnType<typeof bootstrapSpeedup>;
  speedupTokens: ReturnType<typeof bootstrapSpeedup>;
}

export interface GatingSummary {
  /** Sums over the steps after calibration. */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  questions: number;
  gated: number;
}

export interface CutoffCounts {
  /** l_LC. */
  factor: number;
  cutCorrect: number;
  cutIncorrect: number;
  tokensCorrect: number;
  tokensIncorrect: number;
}

export interface CutoffSummary extends CutoffCounts {
  rolloutsCorrect: number;
  rolloutsIncorrect: number;
  /** The same counts at every factor scored (the configured one and the tighter sweep), ascending. */
  sweep: CutoffCounts[];
}

export interface AblationRow {
  key: AblationKey;
  value: number;
  isDefault: boolean;
  runId: string;
  finalAccuracy: number;
  trainSeconds: number;
  rolloutTokens: number;
  /** Mean share of questions gated per step after calibration. */
  gatedFraction: number;
  /** Precision of the gate on the audited questions (live gating). */
  auditedPrecision: number | null;
  cutoffRollouts: number;
  tokensSaved: number;
  finalMetaMae: number | null;
}

export type Verdict = 'holds' | 'does not hold' | 'not resolved';

export interface Claim {
  id: string;
  /** The paper's claim in one line. */
  claim: string;
  verdict: Verdict;
  /** The numbers behind the verdict, and the rule that turned them into it. */
  evidence: string;
}

export interface PaperClaimsAnalysis {
  budget: PaperClaimsBudget;
  base: EvalPoint;
  methods: MethodSummary[];
  /** Mean final accuracy of GRPO (the dashed line of the curves; the speed-ups use each seed's own). */
  target: number;
  /** Final accuracy minus GRPO's, paired by seed. */
  versusGrpo: Array<{ method: MethodName; difference: Interval }>;
  reach: ReachSummary[];
  gating: { shadow: GatingSummary | null; live: GatingSummary | null };
  cutoff: { shadow: CutoffSummary | null; live: { cutoffRollouts: number; tokensSavedUpperBound: number; solutionTokens: number } | null };
  ablations: AblationRow[];
  claims: Claim[];
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

function finalEval(run: RunResult): EvalPoint {
  const last = run.evals[run.evals.length - 1];
  if (last === undefined) throw new RangeError(`run ${run.spec.id} has no evaluation`);
  return last;
}

function summarizeMethod(method: MethodName, runs: readonly RunResult[]): MethodSummary {
  const sorted = [...runs].sort((a, b) => a.spec.seed - b.spec.seed);
  const points = Math.min(...sorted.map((run) => run.evals.length));
  const curve: CurvePoint[] = [];
  for (let i = 0; i < points; i++) {
    const at = sorted.map((run) => run.evals[i] as EvalPoint);
    const accuracies = at.map((point) => point.accuracy);
    curve.push({
      step: (at[0] as EvalPoint).step,
      trainSeconds: mean(at.map((point) => point.trainSeconds)),
      rolloutTokens: mean(at.map((point) => point.rolloutTokens)),
      accuracy: mean(accuracies),
      low: Math.min(...accuracies),
      high: Math.max(...accuracies),
    });
  }
  return {
    method,
    seeds: sorted.map((run) => run.spec.seed),
    finalAccuracy: sorted.map((run) => finalEval(run).accuracy),
    trainSeconds: sorted.map((run) => run.totals.trainSeconds),
    rolloutTokens: sorted.map((run) => run.totals.rolloutTokens),
    curve,
    finalMeta: sorted.map((run) => finalEval(run).meta).filter((meta): meta is NonNullable<EvalPoint['meta']> => meta !== null),
  };
}

/** Steps after the calibration steps: where gating and the cutoff act (masa-efficient) or would act (masa). */
function gatedSteps(run: RunResult, calibrationSteps: number) {
  return run.steps.filter((step) => step.step > calibrationSteps);
}

function summarizeGating(runs: readonly RunResult[], calibrationSteps: number): GatingSummary | null {
  if (runs.length === 0) return null;
  const steps = runs.flatMap((run) => gatedSteps(run, calibrationSteps));
  const total = (key: string): number => sum(steps.map((step) => step.metrics[key] ?? 0));
  const counts = { tp: total('gating/true_positives'), fp: total('gating/false_positives'), fn: total('gating/false_negatives'), tn: total('gating/true_negatives') };
  return { ...counts, ...precisionRecall(counts), questions: total('gating/questions'), gated: total('gating/gated') };
}

function summarizeShadowCutoff(runs: readonly RunResult[], calibrationSteps: number, factor: number): CutoffSummary | null {
  if (runs.length === 0) return null;
  const steps = runs.flatMap((run) => gatedSteps(run, calibrationSteps));
  const total = (key: string): number => sum(steps.map((step) => step.metrics[`cutoff/shadow/${key}`] ?? 0));
  const counts = (prefix: string, at: number): CutoffCounts => ({
    factor: at,
    cutCorrect: total(`${prefix}cut_correct`),
    cutIncorrect: total(`${prefix}cut_incorrect`),
    tokensCorrect: total(`${prefix}tokens_correct`),
    tokensIncorrect: total(`${prefix}tokens_incorrect`),
  });
  const swept = [...new Set(steps.flatMap((step) => Object.keys(step.metrics)).flatMap((key) => /^cutoff\/shadow\/l=([\d.]+)\//.exec(key)?.[1] ?? []))]
    .map(Number)
    .filter((at) => at < factor)
    .sort((a, b) => a - b);
  const configured = counts('', factor);
  return {
    ...configured,
    rolloutsCorrect: total('rollouts_correct'),
    rolloutsIncorrect: total('rollouts_incorrect'),
    sweep: [...swept.map((at) => counts(`l=${at}/`, at)), configured],
  };
}

const pts = (interval: Interval): string =>
  Number.isNaN(interval.low)
    ? `${(100 * interval.mean).toFixed(1)} points (one seed: no interval)`
    : `${(100 * interval.mean).toFixed(1)} points (95% CI ${(100 * interval.low).toFixed(1)} to ${(100 * interval.high).toFixed(1)}, ${interval.n} seeds)`;

/** Verdict of an interval against 0 (`better` says which sign is good). */
function intervalVerdict(interval: Interval, better: 'positive' | 'negative'): Verdict {
  if (Number.isNaN(interval.low)) return 'not resolved';
  const good = better === 'positive' ? interval.low > 0 : interval.high < 0;
  const bad = better === 'positive' ? interval.high < 0 : interval.low > 0;
  return good ? 'holds' : bad ? 'does not hold' : 'not resolved';
}

/** Analyses a complete log. */
export function analyzePaperClaims(log: PaperClaimsLog): PaperClaimsAnalysis {
  const { budget } = log;
  const main = log.runs.filter((run) => run.spec.group === 'main');
  const methods = METHODS.filter((method) => main.some((run) => run.spec.method === method)).map((method) =>
    summarizeMethod(
      method,
      main.filter((run) => run.spec.method === method),
    ),
  );
  const byMethod = new Map(methods.map((summary) => [summary.method, summary]));
  const grpo = byMethod.get('grpo');
  if (grpo === undefined) throw new RangeError('the log has no GRPO run: the comparison needs one');
  const target = mean(grpo.finalAccuracy);

  const pairedWithGrpo = (summary: MethodSummary, values: (s: MethodSummary) => number[]): Interval => {
    const seeds = summary.seeds.filter((seed) => grpo.seeds.includes(seed));
    const pick = (s: MethodSummary) => seeds.map((seed) => values(s)[s.seeds.indexOf(seed)] as number);
    return pairedDifference(pick(summary), pick(grpo));
  };
  const versusGrpo = methods.filter((summary) => summary.method !== 'grpo').map((summary) => ({ method: summary.method, difference: pairedWithGrpo(summary, (s) => s.finalAccuracy) }));

  const runsOf = (method: MethodName) => main.filter((run) => run.spec.method === method).sort((a, b) => a.spec.seed - b.spec.seed);
  const reachOf = (run: RunResult, x: 'trainSeconds' | 'rolloutTokens', level: number) => firstReach(run.evals.map((point) => ({ x: point[x], y: point.accuracy })), level);
  const grpoBySeed = new Map(runsOf('grpo').map((run) => [run.spec.seed, run]));
  const reach: ReachSummary[] = (['grpo', 'dapo', 'masa', 'masa-efficient'] as const)
    .filter((method) => byMethod.has(method))
    .map((method) => {
      const pairs = runsOf(method).flatMap((run) => {
        const baseline = grpoBySeed.get(run.spec.seed);
        return baseline === undefined ? [] : [{ run, baseline, level: finalEval(baseline).accuracy }];
      });
      // GRPO reaches its own final accuracy at its last evaluation at the latest.
      const grpoAt = (x: 'trainSeconds' | 'rolloutTokens') => pairs.map(({ baseline, level }) => reachOf(baseline, x, level) as number);
      const seconds = pairs.map(({ run, level }) => reachOf(run, 'trainSeconds', level));
      const tokens = pairs.map(({ run, level }) => reachOf(run, 'rolloutTokens', level));
      return {
        method,
        seeds: pairs.map(({ run }) => run.spec.seed),
        targets: pairs.map(({ level }) => level),
        grpoSeconds: grpoAt('trainSeconds'),
        grpoTokens: grpoAt('rolloutTokens'),
        seconds,
        tokens,
        speedupSeconds: bootstrapSpeedup(grpoAt('trainSeconds'), seconds, { seed: `paper-claims:${method}:seconds` }),
        speedupTokens: bootstrapSpeedup(grpoAt('rolloutTokens'), tokens, { seed: `paper-claims:${method}:tokens` }),
      };
    });

  const gating = {
    shadow: summarizeGating(runsOf('masa'), budget.calibrationSteps),
    live: summarizeGating(runsOf('masa-efficient'), budget.calibrationSteps),
  };
  const liveSteps = runsOf('masa-efficient').flatMap((run) => gatedSteps(run, budget.calibrationSteps));
  const cutoff = {
    shadow: summarizeShadowCutoff(runsOf('masa'), budget.calibrationSteps, ABLATION_DEFAULTS.cutoff_factor),
    live:
      liveSteps.length === 0
        ? null
        : {
            cutoffRollouts: sum(liveSteps.map((step) => step.metrics['tokens/cutoff_rollouts'] ?? 0)),
            tokensSavedUpperBound: sum(liveSteps.map((step) => step.metrics['tokens/saved_by_cutoff'] ?? 0)),
            solutionTokens: sum(liveSteps.map((step) => step.metrics['tokens/solution'] ?? 0)),
          },
  };

  const ablations: AblationRow[] = [];
  const defaultRun = main.find((run) => run.spec.method === 'masa-efficient' && run.spec.seed === budget.ablationSeed);
  const ablationRow = (run: RunResult, key: AblationKey, value: number, isDefault: boolean): AblationRow => {
    const steps = gatedSteps(run, budget.calibrationSteps);
    const audited = precisionRecall({
      tp: sum(steps.map((step) => step.metrics['gating/true_positives'] ?? 0)),
      fp: sum(steps.map((step) => step.metrics['gating/false_positives'] ?? 0)),
      fn: 0,
    });
    return {
      key,
      value,
      isDefault,
      runId: run.spec.id,
      finalAccuracy: finalEval(run).accuracy,
      trainSeconds: run.totals.trainSeconds,
      rolloutTokens: run.totals.rolloutTokens,
      gatedFraction: mean(steps.map((step) => step.metrics['gating/fraction'] ?? 0)),
      auditedPrecision: audited.precision,
      cutoffRollouts: sum(steps.map((step) => step.metrics['tokens/cutoff_rollouts'] ?? 0)),
      tokensSaved: sum(run.steps.map((step) => step.metrics['tokens/saved'] ?? 0)),
      finalMetaMae: finalEval(run).meta?.passRateMae ?? null,
    };
  };
  for (const { key, values } of budget.ablations) {
    const rows = log.runs
      .filter((run) => run.spec.group === 'ablation' && run.spec.ablation?.key === key && values.includes(run.spec.ablation.value))
      .map((run) => ablationRow(run, key, run.spec.ablation?.value as number, false));
    if (defaultRun !== undefined) rows.push(ablationRow(defaultRun, key, ABLATION_DEFAULTS[key], true));
    ablations.push(...rows.sort((a, b) => a.value - b.value));
  }

  const analysis: PaperClaimsAnalysis = {
    budget,
    base: log.base,
    methods,
    target,
    versusGrpo,
    reach,
    gating,
    cutoff,
    ablations,
    claims: [],
  };
  analysis.claims = judgeClaims(analysis);
  return analysis;
}

/** The paper's claims, each with a verdict from a stated rule. */
function judgeClaims(a: PaperClaimsAnalysis): Claim[] {
  const claims: Claim[] = [];
  const method = (name: MethodName) => a.methods.find((summary) => summary.method === name);
  const masa = method('masa');
  const grpo = method('grpo');
  const baseMeta = a.base.meta;

  if (masa !== undefined && grpo !== undefined && baseMeta !== null && masa.finalMeta.length > 0 && grpo.finalMeta.length === grpo.seeds.length && masa.finalMeta.length === masa.seeds.length) {
    const seeds = masa.seeds.filter((seed) => grpo.seeds.includes(seed));
    const maeOf = (summary: MethodSummary) => seeds.map((seed) => summary.finalMeta[summary.seeds.indexOf(seed)]?.passRateMae ?? Number.NaN);
    const difference = pairedDifference(maeOf(masa), maeOf(grpo));
    const masaMae = mean(maeOf(masa));
    const masaHeuristic = mean(masa.finalMeta.map((meta) => meta.heuristicMae));
    const beyondDrift = masaMae - (baseMeta.passRateMae ?? Number.NaN) < masaHeuristic - baseMeta.heuristicMae;
    const verdict = intervalVerdict(difference, 'negative');
    claims.push({
      id: 'alignment',
      claim: 'Meta-predictions become aligned with the true roll-outs (MASA lowers the pass-rate error more than GRPO does).',
      verdict: verdict === 'holds' && !beyondDrift ? 'not resolved' : verdict,
      evidence:
        `Greedy meta pass-rate MAE on the held-out problems (pass counts of ${a.base.samples}): ${fixed(baseMeta.passRateMae)} before; after MASA ${fixed(masaMae)}, after GRPO ${fixed(mean(maeOf(grpo)))}; ` +
        `MASA − GRPO ${fixed(difference.mean)} (95% CI ${fixed(difference.low)} to ${fixed(difference.high)}). A fixed predictor (the SFT heuristic) went from ${fixed(baseMeta.heuristicMae)} to ${fixed(masaHeuristic)} on MASA's evaluations, ` +
        `so MASA's error changed by ${fixed(masaMae - (baseMeta.passRateMae ?? Number.NaN))} against ${fixed(masaHeuristic - baseMeta.heuristicMae)} for a predictor that never learns (${beyondDrift ? 'a little more than the drift of the truth' : 'no more than the drift of the truth'}). ` +
        'Rule: holds when the interval of MASA − GRPO lies below 0 and MASA beats the drift; does not hold when it lies above 0.',
    });
  }

  const sftVsGrpo = a.versusGrpo.find((entry) => entry.method === 'sft');
  if (sftVsGrpo !== undefined) {
    const gain = { ...sftVsGrpo.difference, mean: -sftVsGrpo.difference.mean, low: -sftVsGrpo.difference.high, high: -sftVsGrpo.difference.low };
    claims.push({
      id: 'control',
      claim: "(Control, not a paper claim) GRPO's gain is RL, not just more SFT from the same checkpoint.",
      verdict: intervalVerdict(gain, 'positive'),
      evidence: `Final held-out accuracy, GRPO − continue-SFT paired by seed: ${pts(gain)}. Rule: holds when the interval lies above 0.`,
    });
  }

  const masaVsGrpo = a.versusGrpo.find((entry) => entry.method === 'masa');
  if (masaVsGrpo !== undefined) {
    claims.push({
      id: 'accuracy',
      claim: 'MASA beats GRPO in accuracy (same steps).',
      verdict: intervalVerdict(masaVsGrpo.difference, 'positive'),
      evidence: `Final held-out accuracy, MASA − GRPO paired by seed: ${pts(masaVsGrpo.difference)}. Rule: holds when the interval lies above 0, does not hold when below, else not resolved.`,
    });
  }

  const efficient = a.reach.find((entry) => entry.method === 'masa-efficient');
  if (efficient !== undefined) {
    const s = efficient.speedupSeconds;
    const reached = efficient.seconds.filter((value) => value !== null).length;
    // GRPO made no progress on a seed: there is nothing to race to.
    const noProgress = efficient.targets.some((level) => level <= a.base.accuracy);
    const verdict: Verdict =
      efficient.seeds.length < 3 || noProgress || Number.isNaN(s.low) ? 'not resolved' : s.low > 1 ? 'holds' : s.high < 1 ? 'does not hold' : 'not resolved';
    claims.push({
      id: 'speedup',
      claim: `MASA-efficient reaches GRPO's final accuracy faster in wall-clock (paper: ${PAPER_SPEEDUP}×).`,
      verdict,
      evidence:
        `Per seed, the level is GRPO's final accuracy on that seed (${efficient.targets.map((level) => pct(level)).join(', ')}); GRPO got there after ${efficient.grpoSeconds.map((value) => fixed(value / 60, 1)).join(', ')} min, ` +
        `MASA-efficient after ${efficient.seconds.map((value) => (value === null ? 'never' : fixed(value / 60, 1))).join(', ')} min (reached in ${reached} of ${efficient.seconds.length} seeds). ` +
        `Speed-up in training wall-clock ${fixed(s.estimate)}× (95% paired bootstrap CI ${fixed(s.low)}–${fixed(s.high)}), in rollout tokens ${fixed(efficient.speedupTokens.estimate)}× (${fixed(efficient.speedupTokens.low)}–${fixed(efficient.speedupTokens.high)}). ` +
        'Rule: holds when the interval lies above 1, does not hold when below 1; at least 3 seeds, and GRPO must have improved on the start in each.',
    });
  }

  const shadow = a.gating.shadow;
  if (shadow !== null) {
    const verdict: Verdict =
      shadow.precision === null || shadow.recall === null || shadow.tp + shadow.fp < 10 ? 'not resolved' : shadow.precision >= 0.85 && shadow.recall >= 0.75 ? 'holds' : 'does not hold';
    claims.push({
      id: 'gating',
      claim: `Gating decisions are precise (paper: precision ${PAPER_GATING.precision}, recall ${PAPER_GATING.recall}, F1 ${PAPER_GATING.f1}).`,
      verdict,
      evidence:
        `MASA runs scored in shadow (every question solved), steps after calibration: ${shadow.gated} of ${shadow.questions} questions would be gated; precision ${fixed(shadow.precision)}, recall ${fixed(shadow.recall)}, F1 ${fixed(shadow.f1)} ` +
        `(TP ${shadow.tp}, FP ${shadow.fp}, FN ${shadow.fn}). Rule: holds with precision ≥ 0.85 and recall ≥ 0.75 over at least 10 gated questions.`,
    });
  }

  const cut = a.cutoff.shadow;
  if (cut !== null) {
    // Judged at the configured l_LC when it cuts enough rollouts to say anything, else at the loosest swept factor that does.
    const judged = cut.cutCorrect + cut.cutIncorrect >= 10 ? cut : [...cut.sweep].reverse().find((counts) => counts.cutCorrect + counts.cutIncorrect >= 10);
    const configuredCuts = cut.cutCorrect + cut.cutIncorrect;
    const shareIncorrect = cut.rolloutsCorrect + cut.rolloutsIncorrect === 0 ? null : cut.rolloutsIncorrect / (cut.rolloutsCorrect + cut.rolloutsIncorrect);
    let verdict: Verdict = 'not resolved';
    let evidence = `MASA runs scored in shadow: at l_LC ${cut.factor} the cutoff would have cut ${configuredCuts} of ${(cut.rolloutsCorrect + cut.rolloutsIncorrect).toLocaleString('en-US')} rollouts`;
    if (judged !== undefined) {
      const tokens = judged.tokensCorrect + judged.tokensIncorrect;
      const fromIncorrect = tokens === 0 ? null : judged.tokensIncorrect / tokens;
      const rateCorrect = cut.rolloutsCorrect === 0 ? null : judged.cutCorrect / cut.rolloutsCorrect;
      const rateIncorrect = cut.rolloutsIncorrect === 0 ? null : judged.cutIncorrect / cut.rolloutsIncorrect;
      verdict = fromIncorrect === null || rateCorrect === null || rateIncorrect === null ? 'not resolved' : fromIncorrect > 0.5 && rateIncorrect > rateCorrect ? 'holds' : 'does not hold';
      evidence +=
        `${judged === cut ? '' : `; judged at l_LC ${judged.factor}, the loosest factor that cuts at least 10`}: it cuts ${pct(rateIncorrect)} of incorrect and ${pct(rateCorrect)} of correct rollouts, and ${pct(fromIncorrect)} of the ${tokens.toLocaleString('en-US')} tokens it saves ` +
        `come from incorrect rollouts, which are ${pct(shareIncorrect)} of all rollouts`;
    } else evidence += ', and no factor scored cuts 10';
    claims.push({
      id: 'cutoff',
      claim: 'The length cutoff saves tokens mostly on incorrect roll-outs.',
      verdict,
      evidence: `${evidence}. Rule: holds when most saved tokens come from incorrect rollouts and incorrect rollouts are cut more often (at least 10 cut).`,
    });
  }
  return claims;
}

/** Mean ± sd over seeds, as text. */
export function meanSd(values: readonly number[], format: (value: number) => string): string {
  return values.length < 2 ? format(mean(values)) : `${format(mean(values))} ± ${format(sampleSd(values))}`;
}
