/** `RECIPE.md`: the tiny recipe's settings and measured result, for people. */
import { CHAR_VOCAB_SIZE } from './char-tokenizer.js';
import type { TinyRecipeResult } from './tiny.js';

const pct = (value: number | null): string => (value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`);
const num = (value: number | null, digits = 2): string => (value === null ? 'n/a' : value.toFixed(digits));

/** Renders `RECIPE.md` for a finished run. */
export function renderRecipeMarkdown(result: TinyRecipeResult): string {
  const { settings: s, training: t, evaluation: e } = result;
  const lines = [
    '# tiny-arith — the embedded default model',
    '',
    'Written by `pnpm masa sft --recipe tiny` (`packages/trainer/src/recipes/tiny.ts`). Rerunning the command with',
    `\`--steps ${s.steps} --seed ${s.seed}\` reproduces \`model.safetensors\` bit for bit (sha256 \`${result.weightsSha256}\`).`,
    '',
    '## Model',
    '',
    `Qwen3 architecture, ${result.parameters.toLocaleString('en-US')} parameters: hidden 128, 3 layers, 4 query / 2 key-value heads of 32,`,
    `SwiGLU 352, tied embeddings, RoPE θ 10,000, context 320 tokens. Character tokenizer of ${CHAR_VOCAB_SIZE} ids (95 printable ASCII`,
    'characters, `\\n`, `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`) with a Qwen-style chat template; responses end with `<|im_end|>`.',
    '',
    '## Recipe',
    '',
    `- Data: the synthetic arithmetic task (TINY-TASK.md), \`${s.mix}\` mix, train split only (\`arithSplitOf\`), generated on the fly;`,
    `  ${pct(1 - s.metaFraction)} solution examples, ${pct(s.metaFraction)} meta examples (\`Meta: \` + prompt → heuristic meta JSON); loss on the response + EOS.`,
    `- ${s.steps} steps of ${s.batchSize} examples, length-bucketed (pools of ${s.poolBatches} batches, padding to multiples of ${s.sequenceBucket}).`,
    `- AdamW β (${s.betas[0]}, ${s.betas[1]}), ε ${s.eps}, weight decay ${s.weightDecay} on matrices, gradient clip ${s.maxGradNorm};`,
    `  LR: ${s.warmupSteps} warm-up steps, constant ${s.peakLr}, then a cosine anneal to ${s.finalLr} over the last ${s.annealSteps} steps.`,
    `- Seed ${s.seed}.`,
    '',
    '## Training (measured)',
    '',
    `- ${t.steps} steps in ${(t.ms / 60_000).toFixed(1)} minutes (${t.stepsPerSecond.toFixed(2)} steps/s, ${Math.round(t.tokens / (t.ms / 1000)).toLocaleString('en-US')} tokens/s) on one ORT thread.`,
    `- ${t.examples.solution.toLocaleString('en-US')} solution and ${t.examples.meta.toLocaleString('en-US')} meta examples, ${t.tokens.toLocaleString('en-US')} tokens (${t.responseTokens.toLocaleString('en-US')} trained), padding overhead ${pct(t.paddedTokens / t.tokens - 1)}.`,
    `- Final loss (EMA, per response token): ${t.lossEma.toFixed(4)}.`,
    '',
  ];
  if (e === null) {
    lines.push('## Evaluation', '', 'Not run.', '');
  } else {
    lines.push(
      '## Evaluation (measured)',
      '',
      `${e.problems} held-out problems (the validation split of \`datasets/synthetic\`, \`rl-hard\` mix), ${e.samples} samples each at temperature ${e.temperature}; one greedy solution and one greedy meta prediction each.`,
      '',
      '| metric | value |',
      '|---|---|',
      `| accuracy (T = ${e.temperature}) | ${pct(e.accuracy)} |`,
      `| greedy accuracy | ${pct(e.greedyAccuracy)} |`,
      `| pass-count histogram 0..${e.samples} | ${e.passCountHistogram.join(' / ')} |`,
      `| problems with mixed outcomes | ${pct(e.mixedFraction)} |`,
      `| accuracy by operations k = 1/2/3/4 | ${e.accuracyByOperations.map((value) => (value === null ? 'n/a' : pct(value))).join(' / ')} |`,
      `| mean length of correct samples (tokens) | ${num(e.meanCorrectLength, 1)} |`,
      `| meta JSON parse rate | ${pct(e.meta?.parseRate ?? null)} |`,
      `| meta pass-rate MAE (predicted vs measured pass count) | ${num(e.meta?.passRateMae ?? null)} |`,
      `| correlation of predicted and measured pass counts | ${num(e.meta?.passRateCorrelation ?? null)} |`,
      `| MAE of the heuristic SFT target / of a constant (median) | ${num(e.meta?.heuristicMae ?? null)} / ${num(e.meta?.constantMae ?? null)} |`,
      `| mean MASA meta reward of the greedy predictions | ${num(e.meta?.meanReward ?? null, 3)} |`,
      '',
      `Evaluation: ${e.generatedTokens.toLocaleString('en-US')} generated tokens in ${(e.ms / 1000).toFixed(1)} s.`,
      '',
    );
  }
  return `${lines.join('\n')}`;
}
