/**
 * The engine an evaluation samples from: ONNX Runtime on a local model folder (in a child process, so
 * progress and Ctrl-C stay responsive while ORT computes) or an OpenAI-compatible server (vLLM,
 * SGLang, `masa serve`).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, type RolloutEngine } from '@masa-rl/core';
import { loadTokenizer, readModelConfig } from '@masa-rl/model';
import { createOpenAIEngine, createOrtChildEngine, loadOrtEngine, type LoadOrtEngineOptions } from '@masa-rl/rollout';
import type { EvaluationModelConfig } from './evaluation-config.js';
import type { PromptTokenizer } from './run-evaluation.js';

/** The backends `masa eval --backend` accepts. */
export const EVALUATION_BACKENDS = ['ort', 'openai'] as const;
export type EvaluationBackend = (typeof EVALUATION_BACKENDS)[number];

export interface CreateEvaluationEngineOptions {
  /**
   * `ort`: ONNX Runtime on `modelPath`; `openai`: an OpenAI-compatible server at `baseUrl`.
   * @default 'ort'
   */
  backend?: EvaluationBackend;
  /** ORT: the Hugging Face model folder (config.json, safetensors, tokenizer files). */
  modelPath?: string;
  /** OpenAI: the API root, e.g. `http://localhost:8000/v1`. */
  baseUrl?: string;
  /** OpenAI: the model name on the server. */
  apiModel?: string;
  /** OpenAI: bearer token (never written to the results folder). */
  apiKey?: string;
  /**
   * OpenAI: requests in flight at once.
   * @default 8
   */
  concurrency?: number;
  /**
   * ORT: sequences decoded together.
   * @default 32
   */
  maxBatchSize?: number;
  /**
   * ORT: threads inside one operator (more pay off on idle cores only; like the batch size, they can change float
   * rounding, so they are not part of the results folder's config).
   * @default 1
   */
  threads?: number;
  /**
   * ORT: execution device.
   * @default 'cpu'
   */
  device?: LoadOrtEngineOptions['device'];
  /**
   * ORT: run the engine in this process instead of a child process (ORT's runs then block the event loop).
   * @default false
   */
  inProcess?: boolean;
}

/** An engine with what the evaluation needs to know about its model. */
export interface EvaluationEngine extends AsyncDisposable {
  engine: RolloutEngine;
  /** ORT: the model's tokenizer (prompts are tokenised with its chat template here). */
  tokenizer?: PromptTokenizer;
  /** ORT: `max_position_embeddings` of the model. */
  contextTokens?: number;
  /** As recorded in config.json. */
  model: EvaluationModelConfig;
  close(): Promise<void>;
}

/**
 * The module the engine's child process imports: it ignores SIGINT, so Ctrl-C reaches only the evaluation, which stops
 * after its batch. Beside this file in dist/; from source (tests), the built one.
 */
function quietChildModule(): string {
  const beside = fileURLToPath(new URL('./ort-child-quiet.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = fileURLToPath(new URL('../dist/ort-child-quiet.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new MasaError('RUNTIME_UNAVAILABLE', `${beside} is missing: build the package (pnpm --filter @masa-rl/evaluation build)`, { details: { file: beside } });
}

/** What an evaluation records about its model, known before the engine starts. */
export interface EvaluationModelInfo {
  model: EvaluationModelConfig;
  /** ORT: `max_position_embeddings`. */
  contextTokens?: number;
  /** ORT: prompts are tokenised here with the model's chat template; OpenAI: the server applies its own. */
  promptFormat: 'chat-template' | 'messages';
}

/**
 * Checks the backend's options and reads what the results folder's config.json needs (cheap: no model
 * is loaded), so a caller can compare it with an existing folder before starting the engine.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` when the folder lacks config.json or tokenizer.json.
 * @throws MasaError `ARGUMENT_INVALID` when the OpenAI backend lacks `baseUrl` or `apiModel`.
 */
export async function describeEvaluationModel(options: CreateEvaluationEngineOptions): Promise<EvaluationModelInfo> {
  const { backend = 'ort' } = options;
  if (backend === 'openai') {
    const { baseUrl, apiModel } = options;
    if (baseUrl === undefined || apiModel === undefined) {
      throw new MasaError('ARGUMENT_INVALID', '--backend openai needs --base-url (e.g. http://localhost:8000/v1) and --api-model (the model name on the server)', {
        details: { baseUrl, apiModel },
      });
    }
    return { model: { path: apiModel, backend: 'openai', baseUrl, apiModel }, promptFormat: 'messages' };
  }
  if (backend !== 'ort') {
    throw new MasaError('ARGUMENT_INVALID', `unknown backend "${String(backend)}": use --backend ${EVALUATION_BACKENDS.join(' or ')}`, { details: { backend } });
  }
  if (options.modelPath === undefined) throw new MasaError('ARGUMENT_INVALID', '--backend ort needs --model DIR (a Hugging Face model folder)');
  const modelPath = resolve(options.modelPath);
  for (const file of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(modelPath, file))) {
      throw new MasaError('MODEL_LOAD_FAILED', `${modelPath} has no ${file}: pass a Hugging Face model folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) with --model`, {
        details: { file: join(modelPath, file) },
      });
    }
  }
  const config = await readModelConfig(modelPath);
  return { model: { path: modelPath, backend: 'ort', baseUrl: null, apiModel: null }, contextTokens: config.maxPositionEmbeddings, promptFormat: 'chat-template' };
}

/**
 * Creates the evaluation's engine. ORT: checks the folder, loads its tokenizer and context length,
 * and starts the engine (waiting until the model is loaded).
 *
 * @throws MasaError `MODEL_LOAD_FAILED` when the folder lacks config.json or tokenizer.json.
 * @throws MasaError `ARGUMENT_INVALID` when the OpenAI backend lacks `baseUrl` or `apiModel`.
 */
export async function createEvaluationEngine(options: CreateEvaluationEngineOptions): Promise<EvaluationEngine> {
  const info = await describeEvaluationModel(options);
  if (info.model.backend === 'openai') {
    const engine = createOpenAIEngine({
      baseURL: info.model.baseUrl as string,
      model: info.model.apiModel as string,
      strict: false,
      ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    });
    const close = async (): Promise<void> => engine.close?.();
    return { engine, model: info.model, close, [Symbol.asyncDispose]: close };
  }
  const modelPath = info.model.path;
  const tokenizer = await loadTokenizer({ model: modelPath });
  const engineOptions: LoadOrtEngineOptions = {
    modelPath,
    maxBatchSize: options.maxBatchSize ?? 32,
    ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
    ...(options.device === undefined ? {} : { device: options.device }),
  };
  let engine: RolloutEngine;
  if (options.inProcess === true) {
    engine = await loadOrtEngine(engineOptions);
  } else {
    const child = createOrtChildEngine({ ...engineOptions, _internal: { modulePath: quietChildModule() } });
    try {
      await child.ready();
    } catch (error: unknown) {
      await child.close().catch(() => undefined);
      throw error;
    }
    engine = child;
  }
  const close = async (): Promise<void> => engine.close?.();
  return {
    engine,
    tokenizer: { encodeChat: (messages) => tokenizer.encodeChat(messages) },
    ...(info.contextTokens === undefined ? {} : { contextTokens: info.contextTokens }),
    model: info.model,
    close,
    [Symbol.asyncDispose]: close,
  };
}
