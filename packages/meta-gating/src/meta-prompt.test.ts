import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { buildMetaPrompt, META_INSTRUCTIONS, tinyTaskMetaTemplate } from './meta-prompt.js';

const PROBLEM = "What is 2 + 3? Let's think step by step and output the final answer within \\boxed{}.";
const SIXTEEN = '                ';

describe('buildMetaPrompt', () => {
  it('parity: system line, 16-space artefacts, the exact bullets with L = 2048, blank line, Problem:', () => {
    const messages = buildMetaPrompt({ solutionPrompt: PROBLEM, mode: 'parity' });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
    expect(messages[1]?.role).toBe('user');
    expect(messages[1]?.content).toBe(
      `\n${SIXTEEN}${META_INSTRUCTIONS}\n` +
        '- math_notion (list[str])\n' +
        '- pass_rate (integer from 0 to 8)\n' +
        '- solution_length (integer from 128 to 2048)\n' +
        '\n' +
        `Problem: ${PROBLEM}\n${SIXTEEN}`,
    );
  });

  it('default: no artefacts, and L is the max response length (8192 unless given)', () => {
    const content = buildMetaPrompt({ solutionPrompt: PROBLEM })[1]?.content ?? '';
    expect(content.startsWith(META_INSTRUCTIONS)).toBe(true);
    expect(content.endsWith(`\n\nProblem: ${PROBLEM}`)).toBe(true);
    expect(content).toContain('- solution_length (integer from 128 to 8192)\n');
    const custom = buildMetaPrompt({ solutionPrompt: PROBLEM, maxSolutionLength: 4096, minSolutionLength: 64 })[1]?.content ?? '';
    expect(custom).toContain('- solution_length (integer from 64 to 4096)\n');
    // Parity with an explicit L (the paper's 8192) keeps the artefacts.
    const parity = buildMetaPrompt({ solutionPrompt: PROBLEM, mode: 'parity', maxSolutionLength: 8192 })[1]?.content ?? '';
    expect(parity).toContain('(integer from 128 to 8192)');
    expect(parity.startsWith(`\n${SIXTEEN}`)).toBe(true);
  });

  it('names every key and tag the reference asks about in the instructions', () => {
    for (const word of ['<meta>', '</meta>', 'math_notion', 'pass_rate', 'solution_length', 'JSON', 'problem statement']) {
      expect(META_INSTRUCTIONS).toContain(word);
    }
  });

  it('accepts a replacement instruction paragraph (for token-exact reference parity)', () => {
    const content = buildMetaPrompt({ solutionPrompt: 'p', mode: 'parity', instructions: 'REFERENCE TEXT' })[1]?.content ?? '';
    expect(content.startsWith(`\n${SIXTEEN}REFERENCE TEXT\n- math_notion`)).toBe(true);
  });

  it('the tiny task template is "Meta: " + prompt as one user turn', () => {
    expect(buildMetaPrompt({ solutionPrompt: 'Compute 47 + 38.\n', template: tinyTaskMetaTemplate })).toEqual([
      { role: 'user', content: 'Meta: Compute 47 + 38.\n' },
    ]);
  });

  it('a custom template receives the range', () => {
    const messages = buildMetaPrompt({
      solutionPrompt: 'q',
      maxSolutionLength: 300,
      template: ({ solutionPrompt, minSolutionLength, maxSolutionLength }) => [
        { role: 'user', content: `${solutionPrompt} ${minSolutionLength}-${maxSolutionLength}` },
      ],
    });
    expect(messages).toEqual([{ role: 'user', content: 'q 128-300' }]);
  });

  it('rejects a bad range or prompt', () => {
    const cases: Array<[Parameters<typeof buildMetaPrompt>[0], string]> = [
      [{ solutionPrompt: 'p', maxSolutionLength: 100 }, 'CONFIG_INVALID'],
      [{ solutionPrompt: 'p', maxSolutionLength: 1000.5 }, 'CONFIG_INVALID'],
      [{ solutionPrompt: 'p', minSolutionLength: -1 }, 'CONFIG_INVALID'],
      [{ solutionPrompt: 42 as unknown as string }, 'ARGUMENT_INVALID'],
    ];
    for (const [options, code] of cases) {
      let caught: unknown;
      try {
        buildMetaPrompt(options);
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.isInstance(caught) && caught.code).toBe(code);
    }
  });
});
