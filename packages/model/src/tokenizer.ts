import { isAbsolute, resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';

/** One chat message, as chat templates expect it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

/** Options of {@link Tokenizer.applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** Append the assistant turn header (`<|im_start|>assistant\n`). @default true */
  addGenerationPrompt?: boolean;
  /**
   * Qwen3: `false` appends an empty think block (`<think>\n\n</think>\n\n`) so the model
   * answers directly. Passed to the template only when set.
   * @default unset (the template's own default)
   */
  enableThinking?: boolean;
  /** Extra variables for the Jinja template. @default {} */
  templateVariables?: Record<string, unknown>;
}

/** A Hugging Face tokenizer with its chat template. */
export interface Tokenizer {
  /** Number of ids, added tokens included. */
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  /** Ids of every special token (`<|im_start|>`, `<|endoftext|>` …). */
  readonly specialTokenIds: readonly number[];
  /** Text → ids. `addSpecialTokens` adds BOS/EOS where the tokenizer is configured to. @default false */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Ids → text. @default skipSpecialTokens false */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Renders messages with the model's chat template (the text that `encodeChat` tokenizes). */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
  /** Renders with the chat template and encodes without adding special tokens (as transformers does). */
  encodeChat(messages: readonly ChatMessage[], options?: ChatTemplateOptions): number[];
  /** The id of a token string (e.g. `<|im_end|>`), or undefined when unknown. */
  tokenToId(token: string): number | undefined;
}

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /**
   * A local folder with `tokenizer.json` and `tokenizer_config.json` (relative paths are
   * resolved against the working directory), or a Hub id when `allowRemote` is true.
   */
  model: string;
  /**
   * Allow downloading from the Hugging Face Hub. When false, nothing touches the network.
   * @default false
   */
  allowRemote?: boolean;
}

type TransformersModule = typeof import('@huggingface/transformers');
let transformersPromise: Promise<TransformersModule> | undefined;

/** transformers.js is loaded lazily: it pulls in onnxruntime and sharp. */
async function importTransformers(): Promise<TransformersModule> {
  transformersPromise ??= import('@huggingface/transformers').catch((error: unknown) => {
    transformersPromise = undefined;
    throw new MasaError(
      'RUNTIME_UNAVAILABLE',
      `cannot load @huggingface/transformers (${(error as Error).message}): run pnpm install in the masa-rl workspace`,
      { cause: error },
    );
  });
  return transformersPromise;
}

/**
 * Loads a tokenizer and its chat template through `@huggingface/transformers`.
 *
 * transformers.js keeps its settings in a process-global `env` object. This loader touches
 * one key, `env.allowRemoteModels`, only for the duration of the load (set from
 * `allowRemote`, then restored), and passes `local_files_only` as well, so a local load
 * never reaches the network.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` naming the folder when the files are missing or invalid.
 */
export async function loadTokenizer(options: LoadTokenizerOptions): Promise<Tokenizer> {
  const { model, allowRemote = false } = options;
  const transformers = await importTransformers();
  const looksLocal = !allowRemote || isAbsolute(model) || model.startsWith('.');
  const location = looksLocal ? resolve(model) : model;
  const { env, AutoTokenizer } = transformers;
  const previous = env.allowRemoteModels;
  let tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  try {
    env.allowRemoteModels = allowRemote;
    tokenizer = await AutoTokenizer.from_pretrained(location, { local_files_only: !allowRemote });
  } catch (error) {
    throw new MasaError(
      'MODEL_LOAD_FAILED',
      `cannot load a tokenizer from ${location}: ${(error as Error).message}. ` +
        (allowRemote
          ? 'Check the model id and the network.'
          : 'Put tokenizer.json and tokenizer_config.json in that folder (or allow Hub downloads).'),
      { cause: error, details: { file: location } },
    );
  } finally {
    env.allowRemoteModels = previous;
  }
  const vocab = tokenizer.get_vocab();
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  const idOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) ? value : null);
  const render = (messages: readonly ChatMessage[], chatOptions: ChatTemplateOptions = {}): string => {
    const { addGenerationPrompt = true, enableThinking, templateVariables = {} } = chatOptions;
    try {
      return tokenizer.apply_chat_template(
        messages.map((m) => ({ role: m.role, content: m.content })),
        {
          tokenize: false,
          add_generation_prompt: addGenerationPrompt,
          ...templateVariables,
          ...(enableThinking !== undefined ? { enable_thinking: enableThinking } : {}),
        },
      ) as string;
    } catch (error) {
      throw new MasaError(
        'MODEL_LOAD_FAILED',
        `the chat template of ${location} failed: ${(error as Error).message} (check "chat_template" in tokenizer_config.json)`,
        { cause: error, details: { file: location } },
      );
    }
  };
  const encode = (text: string, encodeOptions: { addSpecialTokens?: boolean } = {}): number[] =>
    tokenizer.encode(text, { add_special_tokens: encodeOptions.addSpecialTokens ?? false });
  return {
    vocabSize: maxId + 1,
    bosTokenId: idOrNull(tokenizer.bos_token_id),
    eosTokenId: idOrNull(tokenizer.eos_token_id),
    padTokenId: idOrNull(tokenizer.pad_token_id),
    specialTokenIds: [...tokenizer.all_special_ids],
    encode,
    decode: (ids, decodeOptions = {}) =>
      ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: decodeOptions.skipSpecialTokens ?? false }),
    applyChatTemplate: render,
    encodeChat: (messages, chatOptions) => encode(render(messages, chatOptions)),
    tokenToId: (token) => vocab.get(token),
  };
}
