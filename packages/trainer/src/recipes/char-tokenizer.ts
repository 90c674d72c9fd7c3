/**
 * The character-level tokenizer of the tiny default model, as ordinary Hugging Face files:
 * `tokenizer.json` (a BPE model with an empty merge list, so every character is one token, and
 * a `Fuse` decoder that concatenates them) and `tokenizer_config.json` (special tokens and a
 * Qwen-style chat template). `loadTokenizer` of `@masa-rl/model` reads them through
 * `@huggingface/transformers` like any other model's files: there is no special code path.
 *
 * Ids: the 95 printable ASCII characters (space … `~`) are 0–94 (code − 32), `\n` is 95, then
 * `<|endoftext|>` 96, `<|im_start|>` 97, `<|im_end|>` 98 — 99 tokens.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';

/** The end-of-text token: padding, and a second stop token in `generation_config.json`. */
export const ENDOFTEXT_TOKEN = '<|endoftext|>';
/** Opens a chat turn. */
export const IM_START_TOKEN = '<|im_start|>';
/** Closes a chat turn; the model's end-of-sequence token (it ends every trained response). */
export const IM_END_TOKEN = '<|im_end|>';

/** Id of the first printable ASCII character (space); character `c` has id `c.charCodeAt(0) − 32`. */
const FIRST_PRINTABLE = 32;
const PRINTABLE_COUNT = 95;

/** Token ids of the character tokenizer. */
export const CHAR_TOKEN_IDS = Object.freeze({
  newline: PRINTABLE_COUNT,
  endOfText: PRINTABLE_COUNT + 1,
  imStart: PRINTABLE_COUNT + 2,
  imEnd: PRINTABLE_COUNT + 3,
});

/** Vocabulary size (added tokens included). */
export const CHAR_VOCAB_SIZE = PRINTABLE_COUNT + 4;

/**
 * The chat template: Qwen's `<|im_start|>role\ncontent<|im_end|>\n` turns and, with
 * `add_generation_prompt`, an open `<|im_start|>assistant\n` turn. No default system turn and
 * no think block (the tiny model never saw either).
 */
export const CHAR_CHAT_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** Tokens that the chat template adds around one user turn and the generation prompt. */
export const CHAT_PROMPT_OVERHEAD_TOKENS = 19;

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The characters of the vocabulary, in id order (without the special tokens). */
export function charVocabulary(): string[] {
  const chars = Array.from({ length: PRINTABLE_COUNT }, (_, i) => String.fromCharCode(FIRST_PRINTABLE + i));
  chars.push('\n');
  return chars;
}

/** The `tokenizer.json` object. */
export function createCharTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  charVocabulary().forEach((char, id) => {
    vocab[char] = id;
  });
  const specials: Array<[number, string]> = [
    [CHAR_TOKEN_IDS.endOfText, ENDOFTEXT_TOKEN],
    [CHAR_TOKEN_IDS.imStart, IM_START_TOKEN],
    [CHAR_TOKEN_IDS.imEnd, IM_END_TOKEN],
  ];
  for (const [id, content] of specials) vocab[content] = id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([id, content]) => addedToken(id, content)),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** The `tokenizer_config.json` object (special tokens, chat template, no space clean-up on decode). */
export function createCharTokenizerConfigJson(options: { modelMaxLength: number }): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const [id, content] of [
    [CHAR_TOKEN_IDS.endOfText, ENDOFTEXT_TOKEN],
    [CHAR_TOKEN_IDS.imStart, IM_START_TOKEN],
    [CHAR_TOKEN_IDS.imEnd, IM_END_TOKEN],
  ] as const) {
    const { id: _id, ...rest } = addedToken(id, content);
    decoder[String(id)] = rest;
  }
  return {
    added_tokens_decoder: decoder,
    additional_special_tokens: [IM_START_TOKEN, IM_END_TOKEN],
    bos_token: null,
    eos_token: IM_END_TOKEN,
    pad_token: ENDOFTEXT_TOKEN,
    unk_token: null,
    chat_template: CHAR_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: options.modelMaxLength,
    split_special_tokens: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/** Options of {@link writeCharTokenizer}. */
export interface WriteCharTokenizerOptions {
  /** Folder to write into (created when missing). */
  dir: string;
  /**
   * `model_max_length` in `tokenizer_config.json`.
   * @default 320
   */
  modelMaxLength?: number;
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir`, each atomically. */
export async function writeCharTokenizer(options: WriteCharTokenizerOptions): Promise<void> {
  const { dir, modelMaxLength = 320 } = options;
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'tokenizer.json'), `${JSON.stringify(createCharTokenizerJson(), null, 2)}\n`);
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(createCharTokenizerConfigJson({ modelMaxLength }), null, 2)}\n`);
}
