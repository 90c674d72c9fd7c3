/**
 * The MASA family on the generic step (MASA-SPEC §5, §8, §9.2, §10.3):
 *
 * - `masa`: every question gets G solution rollouts and M meta rollouts
 *   (uid + `_meta_cog`) in one generation call; solution rewards come from
 *   the reward plug-in, meta rewards from `@masa-rl/meta-gating` against the
 *   solution statistics of the same question; GRPO groups never mix.
 * - `masa-efficient`: plain MASA for `masa.calibration_steps` steps, then
 *   meta rollouts first → predictive gating (questions predicted all-right or
 *   all-wrong get no solution rollouts; their meta rows are dropped) → solution
 *   rollouts for the survivors, each capped at `ceil(l_LC × predicted length)`
 *   tokens (finishing with `cutoff`). No refilling: the batch shrinks.
 * - `dapo-masa`: MASA plus DAPO's dynamic sampling on the solution groups; a
 *   dropped question takes its meta group with it.
 *
 * Options: notion feed-in (meta first, one predicted-notion hint per
 * question appended to its solution prompt) and behaviour cloning on expert
 * meta trajectories after each update.
 */
import { MasaError, createRng, type ChatMessage, type Problem } from '@masa-rl/core';
import {
  appendNotionHint,
  buildMetaPrompt,
  computeCutoffBudget,
  computeMetaReward,
  computeSolutionStats,
  createExpertBuffer,
  decidePredictiveGate,
  parseMetaPrediction,
  pickNotionHint,
  selectExpertMetaTrajectory,
  summarizeMetaRewards,
  tinyTaskMetaTemplate,
  validPassCount,
  type MetaParseResult,
  type MetaRewardResult,
  type SolutionStats,
} from '@masa-rl/meta-gating';
import {
  generationOptions,
  miniBatchPrompts,
  splitByVariance,
  type CollectedStep,
  type StepAlgorithm,
  type StepContext,
} from './algorithm.js';
import type { AlgorithmName, TrainerConfig } from './config-schema.js';
import type { TrainEvent } from './events.js';
import { computeMasaStepMetrics, type MetricsRollout } from './masa-metrics.js';
import { runPolicyUpdate } from './policy-update.js';
import {
  generateGroups,
  scoreGroups,
  type GenerateGroupsOptions,
  type GroupRequest,
  type PromptInput,
  type RolloutGroup,
} from './rollouts.js';

/** Builds the meta prompt of a question from its solution prompt. */
export type MetaPromptBuilder = (input: { problem: Problem; dataset: string; solutionPrompt: PromptInput; config: TrainerConfig }) => PromptInput;

export interface MasaOptions {
  /**
   * Meta prompt of a question. @default `@masa-rl/meta-gating`'s
   * `buildMetaPrompt` on the last user message of the solution prompt
   * (`masa.meta_prompt_template`, `masa.parity`, `masa.solution_length_max`);
   * required when solution prompts are token ids.
   */
  buildMetaPrompt?: MetaPromptBuilder;
  /** Token ids of a behaviour-cloning target text, including the EOS token. Required when `masa.expert_sft.enable`. */
  tokenizeTarget?: (text: string) => number[];
}

/** The uid suffix of meta groups (the reference's). */
export const META_UID_SUFFIX = '_meta_cog';

/** The uid suffix of a gated question's solution group solved for the gating audit (metrics only, never trained on). */
export const GATING_AUDIT_UID_SUFFIX = '_gating_audit';

const MASA_NAMES: readonly AlgorithmName[] = ['masa', 'masa-efficient', 'dapo-masa'];

/** Is this one of the MASA algorithms? */
export function isMasaAlgorithm(name: AlgorithmName): boolean {
  return MASA_NAMES.includes(name);
}

function lastUserContent(prompt: PromptInput): string | undefined {
  if (!('messages' in prompt)) return undefined;
  for (let i = prompt.messages.length - 1; i >= 0; i--) {
    const message = prompt.messages[i] as ChatMessage;
    if (message.role === 'user') return message.content;
  }
  return undefined;
}

function replaceLastUserContent(prompt: PromptInput, content: string): PromptInput {
  if (!('messages' in prompt)) return prompt;
  const messages = [...prompt.messages];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as ChatMessage;
    if (message.role === 'user') {
      messages[i] = { ...message, content };
      break;
    }
  }
  return { messages };
}

/** The default meta prompt: `buildMetaPrompt` on the solution prompt's last user message. */
export const defaultMetaPromptBuilder: MetaPromptBuilder = ({ problem, solutionPrompt, config }) => {
  const content = lastUserContent(solutionPrompt);
  if (content === undefined) {
    throw new MasaError(
      'CONFIG_INVALID',
      `problem ${problem.id}: the solution prompt has no user message to build a meta prompt from (token-id prompts need TrainOptions.masa.buildMetaPrompt)`,
    );
  }
  const masa = config.masa;
  const maxSolutionLength = masa.solution_length_max ?? (masa.parity ? config.data.max_prompt_length : config.data.max_response_length);
  return {
    messages: buildMetaPrompt({
      solutionPrompt: content,
      mode: masa.parity ? 'parity' : 'default',
      maxSolutionLength,
      ...(masa.meta_prompt_template === 'tiny' ? { template: tinyTaskMetaTemplate } : {}),
    }),
  };
};

/** One expert example waiting for behaviour cloning (checkpointed). */
interface ExpertExample {
  promptTokenIds: number[];
  targetTokenIds: number[];
}

/** A question of the step and everything MASA learned about it. */
interface Question {
  uid: string;
  problemIndex: number;
  problem: Problem;
  solutionPrompt: PromptInput;
  metaPrompt: PromptInput;
  solution?: RolloutGroup;
  meta?: RolloutGroup;
  parsed?: MetaParseResult[];
  rewards?: MetaRewardResult[];
  stats?: SolutionStats;
  gated?: ReturnType<typeof decidePredictiveGate>;
  budget?: number;
  /** Solution rollouts of a gated question solved for the gating audit. */
  audit?: RolloutGroup;
}

const asMetricsRollouts = (group: RolloutGroup | undefined): MetricsRollout[] | undefined =>
  group?.records.map((record) => ({ correct: record.reward.acc > 0.5, tokens: record.responseTokenIds.length, finishReason: record.finishReason }));

const responseTokens = (group: RolloutGroup): number => group.records.reduce((sum, record) => sum + record.responseTokenIds.length, 0);

const meanOf = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** The meta prompt as text, for the parity notion filter (roles and contents, like a decoded chat template). */
function promptText(prompt: PromptInput): string {
  return 'messages' in prompt ? prompt.messages.map((message) => `${message.role}\n${message.content}`).join('\n') : '';
}

/**
 * Creates `masa`, `masa-efficient` or `dapo-masa`.
 *
 * @throws MasaError `CONFIG_INVALID` when behaviour cloning is on without `tokenizeTarget`.
 */
export function createMasaAlgorithm(input: { config: TrainerConfig; masa?: MasaOptions }): StepAlgorithm {
  const { config, masa: options = {} } = input;
  const name = config.algorithm.name;
  if (!isMasaAlgorithm(name)) throw new MasaError('ARGUMENT_INVALID', `createMasaAlgorithm: ${name} is not a MASA algorithm`);
  const settings = config.masa;
  const expertSft = settings.expert_sft;
  if (expertSft.enable && options.tokenizeTarget === undefined) {
    throw new MasaError('CONFIG_INVALID', 'masa.expert_sft.enable needs a tokenizer for the targets: pass TrainOptions.masa.tokenizeTarget (text → token ids including EOS), or turn masa.expert_sft.enable off');
  }
  const buildMeta = options.buildMetaPrompt ?? defaultMetaPromptBuilder;
  const rangeTop = settings.solution_length_max ?? (settings.parity ? config.data.max_prompt_length : config.data.max_response_length);
  if (options.buildMetaPrompt === undefined && settings.meta_prompt_template === 'reference' && rangeTop < 128) {
    throw new MasaError(
      'CONFIG_INVALID',
      `the meta prompt asks for a solution_length from 128 to ${rangeTop} (masa.solution_length_max, else data.max_response_length); set masa.solution_length_max to at least 128, or use masa.meta_prompt_template=tiny`,
      { details: { key: 'masa.solution_length_max', value: rangeTop } },
    );
  }
  const parseMode = settings.parity ? 'parity' : 'robust';
  const rewardMode = settings.parity ? 'parity' : 'default';
  const lengthBounds = settings.length_bounds ?? (settings.parity ? 'strict' : 'inclusive');
  const n = config.actor_rollout_ref.rollout.n;
  const maxResponse = config.data.max_response_length;
  const auditFraction = settings.parity ? 0 : settings.gating_audit_fraction;
  let buffer = createExpertBuffer<ExpertExample>({ batchSize: expertSft.batch_size });
  let lastQuestions: Question[] = [];

  function scoreMeta(question: Question): void {
    const { meta, solution } = question;
    if (meta === undefined || solution === undefined) return;
    const stats = computeSolutionStats({
      rollouts: solution.records.map((record) => ({
        text: record.text,
        score: record.reward.acc > 0.5 ? 1 : 0,
        length: record.responseTokenIds.length,
      })),
    });
    question.stats = stats;
    const parsed = question.parsed ?? meta.records.map((record) => parseMetaPrediction(record.text, { mode: parseMode }));
    question.parsed = parsed;
    const notionExcludeText = settings.parity ? promptText(question.metaPrompt) : question.problem.question;
    question.rewards = parsed.map((prediction, index) => {
      const reward = computeMetaReward({
        parsed: prediction,
        stats,
        notionExcludeText,
        mode: rewardMode,
        lengthBounds,
        passRateBase: settings.difficulty_base,
      });
      const record = meta.records[index] as RolloutGroup['records'][number];
      record.reward = {
        score: reward.score,
        acc: reward.score,
        extra: { parsed: prediction.ok, notionScore: reward.notionScore, passRateScore: reward.passRateScore, lengthScore: reward.lengthScore },
      };
      return reward;
    });
  }

  async function* collect(context: StepContext): AsyncGenerator<TrainEvent, CollectedStep | undefined> {
    const { step, train, loader, buildPrompt } = context;
    const efficient = name === 'masa-efficient' && step > settings.calibration_steps;
    const dynamic = config.algorithm.filter_groups.enable;
    const sequential = efficient || settings.notion_feedin;
    const target = config.data.train_batch_size;
    const kept: Question[] = [];
    let generated = 0;
    let dropped = 0;
    let gatedCount = 0;
    let round = 0;
    let epoch: number | undefined;
    let exhausted = false;
    const allQuestions: Question[] = [];
    // Phase wall-clock (ms); a call that samples both branches is split by their share of generated tokens.
    const timing = { gen: 0, meta_gen: 0, reward: 0, meta_reward: 0, gating_audit: 0 };
    let metaTokens = 0;
    async function* timedGenerate(requests: GroupRequest[], generateOptions: GenerateGroupsOptions): AsyncGenerator<TrainEvent, RolloutGroup[]> {
      const started = context.now();
      const groups = yield* generateGroups(requests, generateOptions);
      const ms = context.now() - started;
      let meta = 0;
      let solution = 0;
      for (const group of groups) {
        if (group.branch === 'meta') meta += responseTokens(group);
        else solution += responseTokens(group);
      }
      metaTokens += meta;
      const metaShare = meta + solution === 0 ? groups.filter((group) => group.branch === 'meta').length / Math.max(1, groups.length) : meta / (meta + solution);
      timing.meta_gen += ms * metaShare;
      timing.gen += ms * (1 - metaShare);
      return groups;
    }

    for (;;) {
      const batch = loader.next();
      if (batch === undefined) {
        exhausted = true;
        break;
      }
      epoch ??= batch.epoch;
      round += 1;
      const questions: Question[] = batch.indices.map((problemIndex, position) => {
        const problem = train.problems[problemIndex] as Problem;
        const solutionPrompt = buildPrompt({ problem, dataset: train.name });
        return {
          uid: `s${step}r${round}p${position}`,
          problemIndex,
          problem,
          solutionPrompt,
          metaPrompt: buildMeta({ problem, dataset: train.name, solutionPrompt, config }),
        };
      });
      allQuestions.push(...questions);
      const metaRequest = (question: Question): GroupRequest => ({
        uid: `${question.uid}${META_UID_SUFFIX}`,
        branch: 'meta',
        problemIndex: question.problemIndex,
        problem: question.problem,
        dataset: train.name,
        prompt: question.metaPrompt,
        n: settings.meta_n,
        maxNewTokens: maxResponse,
      });
      const solutionRequest = (question: Question): GroupRequest => ({
        uid: question.uid,
        branch: 'solution',
        problemIndex: question.problemIndex,
        problem: question.problem,
        dataset: train.name,
        prompt: question.solutionPrompt,
        n,
        maxNewTokens: question.budget ?? maxResponse,
        ...(question.budget !== undefined && question.budget < maxResponse ? { budgetIsCutoff: true } : {}),
      });

      let survivors = questions;
      if (sequential) {
        const metaGroups = yield* timedGenerate(questions.map(metaRequest), generationOptions(context, round));
        questions.forEach((question, index) => {
          const group = metaGroups[index] as RolloutGroup;
          question.meta = group;
          question.parsed = group.records.map((record) => parseMetaPrediction(record.text, { mode: parseMode }));
        });
        if (efficient) {
          for (const question of questions) {
            const predictions = question.parsed ?? [];
            question.gated = decidePredictiveGate({
              predictions,
              stdThreshold: settings.gating_std,
              tolerance: settings.gating_tolerance,
              minValid: settings.gating_min_valid,
            });
            question.budget = computeCutoffBudget({ predictions, maxNewTokens: maxResponse, lengthFactor: settings.cutoff_factor }).maxNewTokens;
          }
          survivors = questions.filter((question) => question.gated?.gate !== true);
          gatedCount += questions.length - survivors.length;
        }
        if (settings.notion_feedin) {
          for (const question of survivors) {
            const hint = pickNotionHint({ predictions: question.parsed ?? [], rng: context.rng, mode: settings.parity ? 'parity' : 'default' });
            const content = lastUserContent(question.solutionPrompt);
            if (hint !== null && content !== undefined) {
              question.solutionPrompt = replaceLastUserContent(question.solutionPrompt, appendNotionHint({ solutionPrompt: content, hint }));
            }
          }
        }
        const solutionGroups = yield* timedGenerate(survivors.map(solutionRequest), generationOptions(context, round));
        survivors.forEach((question, index) => {
          question.solution = solutionGroups[index] as RolloutGroup;
        });
        if (efficient && auditFraction > 0) {
          // Gating audit: a seeded sample of the gated questions is solved anyway, for the metrics only.
          const gated = questions.filter((question) => question.gated?.gate === true);
          const auditRng = createRng(config.trainer.seed).fork(`gating-audit-${step}-${round}`);
          const audited = auditRng.shuffle([...gated]).slice(0, Math.ceil(auditFraction * gated.length));
          if (audited.length > 0) {
            const auditStarted = context.now();
            const auditGroups = yield* generateGroups(
              audited.map((question) => ({ ...solutionRequest(question), uid: `${question.uid}${GATING_AUDIT_UID_SUFFIX}` })),
              { ...generationOptions(context, round), rng: auditRng },
            );
            yield* scoreGroups(auditGroups, { step, round, reward: context.reward, now: context.now });
            audited.forEach((question, index) => {
              question.audit = auditGroups[index] as RolloutGroup;
            });
            timing.gating_audit += context.now() - auditStarted;
          }
        }
      } else {
        const groups = yield* timedGenerate([...questions.map(solutionRequest), ...questions.map(metaRequest)], generationOptions(context, round));
        questions.forEach((question, index) => {
          question.solution = groups[index] as RolloutGroup;
          question.meta = groups[questions.length + index] as RolloutGroup;
        });
      }
      const solutionGroups = survivors.map((question) => question.solution as RolloutGroup);
      const rewardStarted = context.now();
      yield* scoreGroups(solutionGroups, { step, round, reward: context.reward, now: context.now });
      timing.reward += context.now() - rewardStarted;
      const metaStarted = context.now();
      for (const question of survivors) scoreMeta(question);
      timing.meta_reward += context.now() - metaStarted;
      const metaScores = survivors.flatMap((question) => (question.rewards ?? []).map((reward) => reward.score));
      yield {
        type: 'reward-end',
        step,
        round,
        branch: 'meta',
        sequences: metaScores.length,
        meanScore: meanOf(metaScores),
        errors: 0,
        ms: context.now() - metaStarted,
      };
      generated += survivors.length;
      if (!dynamic) {
        kept.push(...survivors);
        break;
      }
      const split = splitByVariance(solutionGroups, config);
      const keep = new Set(split.kept.map((group) => group.uid));
      for (const question of survivors) {
        if (keep.has(question.uid)) kept.push(question);
        else dropped += 1;
      }
      if (kept.length >= target) {
        kept.length = target;
        break;
      }
      if (config.algorithm.filter_groups.max_num_gen_batches > 0 && round >= config.algorithm.filter_groups.max_num_gen_batches) {
        yield {
          type: 'warning',
          step,
          code: 'dapo-gen-cap',
          message: `step ${step}: dynamic sampling kept ${kept.length} of ${target} questions after ${round} generation rounds (algorithm.filter_groups.max_num_gen_batches); training on what was kept`,
        };
        break;
      }
    }
    if (epoch === undefined) return undefined;
    lastQuestions = kept;

    const metrics: Record<string, number> = { 'train/num_gen_batches': round, 'masa/phase': efficient ? 1 : 0 };
    if (dynamic) {
      metrics['train/kept_groups'] = kept.length;
      metrics['train/dropped_groups'] = dropped;
      metrics['train/generated_groups'] = generated;
    }
    const records = kept.flatMap((question) =>
      (question.parsed ?? []).map((parsed, index) => ({ ok: parsed.ok, reward: (question.rewards ?? [])[index] as MetaRewardResult })),
    );
    const summary = summarizeMetaRewards({ records: records.filter((record) => record.reward !== undefined) });
    const put = (key: string, value: number | null): void => {
      if (value !== null) metrics[key] = value;
    };
    put('masa/meta_reward/mean', summary.meanScore);
    put('masa/notion_score/mean', summary.meanNotionScore);
    put('masa/pass_rate_score/mean', summary.meanPassRateScore);
    put('masa/length_score/mean', summary.meanLengthScore);
    put('masa/parse_rate', summary.parseRate);
    const errors: number[] = [];
    for (const question of kept) {
      for (const parsed of question.parsed ?? []) {
        const count = validPassCount(parsed);
        if (count !== null && question.stats !== undefined) errors.push(Math.abs(count / 8 - question.stats.passRate));
      }
    }
    if (errors.length > 0) metrics['masa/pass_rate_mae'] = meanOf(errors);
    if (efficient) {
      const gatedQuestions = allQuestions.filter((question) => question.gated?.gate === true);
      metrics['masa/gated_questions'] = gatedCount;
      metrics['masa/gated_frac'] = allQuestions.length === 0 ? 0 : gatedCount / allQuestions.length;
      metrics['masa/gated_all_wrong'] = gatedQuestions.filter((question) => question.gated?.reason === 'all-wrong').length;
      metrics['masa/gated_all_right'] = gatedQuestions.filter((question) => question.gated?.reason === 'all-right').length;
      const budgets = kept.map((question) => question.budget ?? maxResponse);
      metrics['masa/cutoff_budget/mean'] = meanOf(budgets);
      const solutionRecords = kept.flatMap((question) => question.solution?.records ?? []);
      metrics['masa/cutoff_frac'] = meanOf(solutionRecords.map((record) => (record.finishReason === 'cutoff' ? 1 : 0)));
    }
    Object.assign(
      metrics,
      computeMasaStepMetrics({
        questions: allQuestions.map((question) => {
          const solution = asMetricsRollouts(question.solution);
          const audit = asMetricsRollouts(question.audit);
          return {
            parsed: question.parsed ?? [],
            ...(question.rewards === undefined ? {} : { rewards: question.rewards }),
            ...(solution === undefined ? {} : { solution }),
            ...(audit === undefined ? {} : { audit }),
            gated: question.gated?.gate === true,
          };
        }),
        gatingMode: efficient ? 'live' : 'shadow',
        gate: { stdThreshold: settings.gating_std, tolerance: settings.gating_tolerance, minValid: settings.gating_min_valid },
        rolloutsPerQuestion: n,
        maxResponseTokens: maxResponse,
        metaTokens,
        gatedBudgets: allQuestions.filter((question) => question.gated?.gate === true).map((question) => question.budget ?? maxResponse),
        cutoffFactor: settings.cutoff_factor,
      }),
    );
    for (const [phase, ms] of Object.entries(timing)) metrics[`timing_s/${phase}`] = ms / 1000;
    // Training order: all solution groups (prompt-major), then all meta groups.
    const groups = [
      ...kept.map((question) => question.solution as RolloutGroup),
      ...kept.map((question) => question.meta as RolloutGroup),
    ];
    return { groups, exhausted, epoch, metrics };
  }

  async function* afterUpdate(context: StepContext): AsyncGenerator<TrainEvent, Record<string, number>> {
    if (!expertSft.enable || options.tokenizeTarget === undefined) return {};
    const tokenize = options.tokenizeTarget;
    let added = 0;
    for (const question of lastQuestions) {
      if (question.meta === undefined || question.stats === undefined || question.parsed === undefined || question.rewards === undefined) continue;
      const rewards = question.rewards;
      const selection = selectExpertMetaTrajectory({
        candidates: question.parsed.map((parsed, index) => ({ parsed, reward: rewards[index] as MetaRewardResult })),
        stats: question.stats,
        rankBy: expertSft.selection,
        minNotionScore: expertSft.selection === 'notion-score' ? expertSft.min_notion_score : 0,
      });
      if (selection.selected === null) continue;
      const record = question.meta.records[selection.selected.index] as RolloutGroup['records'][number];
      buffer.add([{ promptTokenIds: record.promptTokenIds, targetTokenIds: tokenize(selection.selected.target) }]);
      added += 1;
    }
    const metrics: Record<string, number> = { 'masa/expert_sft/added': added };
    const batch = buffer.takeBatch();
    if (batch !== null) {
      const update = await runPolicyUpdate({
        backend: context.backend,
        config,
        sequences: batch.map((example) => ({ promptTokenIds: example.promptTokenIds, responseTokenIds: example.targetTokenIds })),
        loss: { kind: 'cross-entropy', temperature: 1 },
        miniBatchSize: batch.length,
        lr: expertSft.lr,
        maxGradNorm: expertSft.grad_clip,
        step: context.step,
        rng: context.rng,
        phase: 'expert meta SFT',
        lossAggMode: 'token-mean',
        epochs: 1,
      });
      metrics['masa/expert_sft/loss'] = meanOf(update.losses);
      metrics['masa/expert_sft/grad_norm'] = meanOf(update.gradNorms);
      metrics['masa/expert_sft/steps'] = update.optimizerSteps;
    }
    metrics['masa/expert_sft/buffer'] = buffer.size;
    return metrics;
  }

  return {
    name,
    collect,
    miniBatchSize: (_collected, cfg) =>
      miniBatchPrompts(cfg) * (settings.two_optimizer_steps ? n : n + settings.meta_n),
    ...(expertSft.enable ? { afterUpdate } : {}),
    getState: () => ({ expertBuffer: buffer.pending() }),
    setState(state: unknown) {
      const pending = (state as { expertBuffer?: ExpertExample[] } | null)?.expertBuffer;
      if (pending !== undefined && !Array.isArray(pending)) {
        throw new MasaError('CHECKPOINT_INVALID', 'the MASA state in the checkpoint is malformed (expertBuffer is not a list)');
      }
      buffer = createExpertBuffer<ExpertExample>({ batchSize: expertSft.batch_size, initial: pending ?? [] });
    },
  };
}
