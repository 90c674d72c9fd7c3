import { MasaError, type ChatMessage } from '@masa-rl/core';

/** The system line of the reference meta prompt. */
export const META_SYSTEM_PROMPT = 'You are a helpful assistant.';

/**
 * The instruction paragraph, in our own words. It asks for what the
 * reference asks for (MASA-SPEC §4.2): step-by-step reasoning inside
 * `<meta>…</meta>` with care for pass_rate and solution_length, a concrete
 * illustration per key, notions that do not repeat the problem statement, and
 * a JSON object with three keys after `</meta>`. For token-exact parity with a
 * reference run, pass the reference paragraph as `instructions`.
 */
export const META_INSTRUCTIONS =
  'Reason step by step between <meta> and </meta>, thoroughly and in detail, and be especially careful when you decide ' +
  'the pass_rate and solution_length values. In the <meta> section, work through a concrete illustration for each of ' +
  'math_notion, pass_rate and solution_length that shows how you arrived at its value. The notions you give in ' +
  'math_notion must not simply repeat notions that the problem statement already names. After </meta>, return a JSON ' +
  'object with three keys:';

/** What a meta prompt template receives. */
export interface MetaPromptTemplateInput {
  /** The full user content of the solution prompt (problem plus any instruction sentence). */
  solutionPrompt: string;
  minSolutionLength: number;
  maxSolutionLength: number;
}

/** Builds the meta prompt messages from a solution prompt. */
export type MetaPromptTemplate = (input: MetaPromptTemplateInput) => ChatMessage[];

/**
 * The embedded tiny task's meta prompt (TINY-TASK.md §1): one user turn,
 * `Meta: ` followed by the solution prompt; no system line, no instructions.
 */
export const tinyTaskMetaTemplate: MetaPromptTemplate = ({ solutionPrompt }) => [
  { role: 'user', content: `Meta: ${solutionPrompt}` },
];

export interface BuildMetaPromptOptions {
  /** The full user content of the solution prompt (problem plus the step-by-step/boxed sentence). */
  solutionPrompt: string;
  /**
   * `parity` keeps the reference layout's artefacts (the user content starts
   * and ends with a newline and 16 spaces, left over from an indented Python
   * triple-quoted string) and the reference range bound 2048 (its max prompt
   * length); `default` drops the artefacts and bounds the range by the max
   * response length.
   * @default 'default'
   */
  mode?: 'default' | 'parity';
  /** Lower end of the `solution_length` range stated in the prompt. @default 128 */
  minSolutionLength?: number;
  /**
   * Upper end L of the `solution_length` range: the max response length.
   * @default 2048 in parity mode, else 8192
   */
  maxSolutionLength?: number;
  /** The instruction paragraph. @default META_INSTRUCTIONS */
  instructions?: string;
  /** Replaces the whole layout (e.g. {@link tinyTaskMetaTemplate}); the options above are passed to it. */
  template?: MetaPromptTemplate;
}

const ARTEFACT = `\n${' '.repeat(16)}`;

/**
 * Builds the meta prompt for one question (MASA-SPEC §4.2): a system turn
 * `You are a helpful assistant.` and a user turn with the instruction
 * paragraph, the three key bullets
 * (`- math_notion (list[str])`, `- pass_rate (integer from 0 to 8)`,
 * `- solution_length (integer from 128 to L)`), a blank line and
 * `Problem: ` followed by the solution prompt.
 *
 * @throws MasaError `CONFIG_INVALID` for a bad length range, `ARGUMENT_INVALID` for a non-string prompt.
 *
 * @example
 * const messages = buildMetaPrompt({ solutionPrompt: 'What is 2 + 3? Put the answer in \\boxed{}.', maxSolutionLength: 4096 });
 */
export function buildMetaPrompt(options: BuildMetaPromptOptions): ChatMessage[] {
  const { solutionPrompt, mode = 'default', minSolutionLength = 128, instructions = META_INSTRUCTIONS, template } = options;
  const parity = mode === 'parity';
  const maxSolutionLength = options.maxSolutionLength ?? (parity ? 2048 : 8192);
  if (typeof solutionPrompt !== 'string') {
    throw new MasaError('ARGUMENT_INVALID', 'buildMetaPrompt: `solutionPrompt` must be the user content of the solution prompt (a string).');
  }
  if (!Number.isInteger(minSolutionLength) || minSolutionLength < 0) {
    throw new MasaError('CONFIG_INVALID', `minSolutionLength is ${String(minSolutionLength)}; it must be an integer ≥ 0 (default 128).`);
  }
  if (!Number.isInteger(maxSolutionLength) || maxSolutionLength < minSolutionLength) {
    throw new MasaError(
      'CONFIG_INVALID',
      `maxSolutionLength is ${String(maxSolutionLength)}; it must be an integer ≥ minSolutionLength (${minSolutionLength}); use the max response length (e.g. 8192).`,
    );
  }
  if (template !== undefined) return template({ solutionPrompt, minSolutionLength, maxSolutionLength });
  const body =
    `${instructions}\n` +
    `- math_notion (list[str])\n` +
    `- pass_rate (integer from 0 to 8)\n` +
    `- solution_length (integer from ${minSolutionLength} to ${maxSolutionLength})\n` +
    `\n` +
    `Problem: ${solutionPrompt}`;
  const content = parity ? `${ARTEFACT}${body}${ARTEFACT}` : body;
  return [
    { role: 'system', content: META_SYSTEM_PROMPT },
    { role: 'user', content },
  ];
}
