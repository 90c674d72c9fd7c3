import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, type Tokenizer } from '@masa-rl/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAR_TOKEN_IDS, CHAR_VOCAB_SIZE, CHAT_PROMPT_OVERHEAD_TOKENS, writeCharTokenizer } from './char-tokenizer.js';

let dir: string;
let tokenizer: Tokenizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'char-tokenizer-'));
  await writeCharTokenizer({ dir });
  tokenizer = await loadTokenizer({ model: dir });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Expected ids written from the layout rule (printable ASCII: code − 32; `\n`: 95), not from the encoder. */
function expectedIds(text: string): number[] {
  return Array.from(text, (char) => (char === '\n' ? 95 : char.charCodeAt(0) - 32));
}

describe('character tokenizer (through @huggingface/transformers)', () => {
  it('has 99 ids and the special tokens at 96, 97, 98', () => {
    expect(CHAR_VOCAB_SIZE).toBe(99);
    expect(tokenizer.vocabSize).toBe(99);
    expect(tokenizer.tokenToId('<|endoftext|>')).toBe(96);
    expect(tokenizer.tokenToId('<|im_start|>')).toBe(97);
    expect(tokenizer.tokenToId('<|im_end|>')).toBe(98);
    expect(tokenizer.eosTokenId).toBe(98);
    expect(tokenizer.padTokenId).toBe(96);
    expect(tokenizer.bosTokenId).toBeNull();
    expect([...tokenizer.specialTokenIds].sort()).toEqual([96, 97, 98]);
    expect(CHAR_TOKEN_IDS).toEqual({ newline: 95, endOfText: 96, imStart: 97, imEnd: 98 });
  });

  it('encodes one character per token and round-trips every printable character and newline', () => {
    const all = `${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}\n`;
    const ids = tokenizer.encode(all);
    expect(ids).toEqual(Array.from({ length: 96 }, (_, i) => i));
    expect(tokenizer.decode(ids)).toBe(all);
    const samples = [
      'Compute (47 + 38) * 3 - 19.\n',
      '47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85. The answer is \\boxed{85}.',
      '{"math_notion": ["addition", "carry"], "pass_rate": 6, "solution_length": 57}',
      '  double  spaces , before comma . and \' quotes \'s n\'t ',
      ' ',
    ];
    for (const text of samples) {
      const encoded = tokenizer.encode(text);
      expect(encoded).toEqual(expectedIds(text));
      expect(tokenizer.decode(encoded)).toBe(text);
    }
  });

  it('keeps special tokens whole when encoding and drops them on request when decoding', () => {
    const ids = tokenizer.encode('<|im_start|>user\nhi<|im_end|><|endoftext|>');
    expect(ids).toEqual([97, ...expectedIds('user\nhi'), 98, 96]);
    expect(tokenizer.decode(ids)).toBe('<|im_start|>user\nhi<|im_end|><|endoftext|>');
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('user\nhi');
  });

  it('renders the Qwen-style chat template', () => {
    const prompt = 'Compute 47 + 38.\n';
    const text = tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true });
    expect(text).toBe('<|im_start|>user\nCompute 47 + 38.\n<|im_end|>\n<|im_start|>assistant\n');
    const ids = tokenizer.encodeChat([{ role: 'user', content: prompt }]);
    expect(ids).toEqual([97, ...expectedIds('user\n'), ...expectedIds(prompt), 98, 95, 97, ...expectedIds('assistant\n')]);
    expect(ids.length - prompt.length).toBe(CHAT_PROMPT_OVERHEAD_TOKENS);
    const conversation = tokenizer.applyChatTemplate(
      [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U' },
        { role: 'assistant', content: 'A' },
      ],
      { addGenerationPrompt: false },
    );
    expect(conversation).toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n');
  });

  it('writes plain JSON files', async () => {
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config['eos_token']).toBe('<|im_end|>');
    expect(config['model_max_length']).toBe(320);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as { model: { type: string; merges: unknown[] } };
    expect(json.model.type).toBe('BPE');
    expect(json.model.merges).toEqual([]);
  });
});
