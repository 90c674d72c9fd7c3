/**
 * The resolved configuration of an evaluation, as written to `config.json` in its results folder, and
 * the comparison that decides whether a rerun may resume that folder.
 */
import type { GradingMode } from '@masa-rl/scoring';

/** Version of the results-folder layout (bumped when files change shape). */
export const RESULTS_FORMAT_VERSION = 1;

/** Where the samples come from. */
export interface EvaluationModelConfig {
  /** Absolute model folder (ORT backend), or the model name on the server (OpenAI backend). */
  path: string;
  /** `ort`: ONNX Runtime on a local folder; `openai`: an OpenAI-compatible server (vLLM, SGLang, `masa serve`). */
  backend: 'ort' | 'openai' | 'custom';
  /** Server root for the OpenAI backend (`http://host:8000/v1`), else null. */
  baseUrl: string | null;
  /** Model name sent to the server, else null. */
  apiModel: string | null;
}

/** One dataset of the run. */
export interface EvaluationDatasetConfig {
  name: string;
  domain: string;
  /** A prepared copy or GPQA CSV the problems were read from (absolute), else null (the bundled file). */
  file: string | null;
}

/** Everything that decides the results of an evaluation. */
export interface EvaluationConfig {
  formatVersion: number;
  model: EvaluationModelConfig;
  /** What was asked for: one dataset, or a domain. */
  selection: { dataset: string } | { domain: string };
  datasets: EvaluationDatasetConfig[];
  sampling: {
    n: number;
    temperature: number;
    topP: number;
    /** Requested budget; a sample's budget is further capped at `contextTokens` − prompt tokens when known. */
    maxNewTokens: number;
    /** The model's context (prompt + response) in tokens, when known (ORT backend: `max_position_embeddings`). */
    contextTokens: number | null;
    /** Run seed; each problem samples with `hashString(seed:dataset:id)`. */
    seed: number;
  };
  prompt: {
    /** `corrected` (masa-rl's prompts) or `parity` (the reference's, MASA-SPEC §12.3). */
    mode: 'corrected' | 'parity';
    /** How prompts reach the engine: `chat-template` (tokenised here with the model's template) or `messages` (the server applies its template). */
    format: 'chat-template' | 'messages';
  };
  grading: {
    mode: GradingMode;
    /** Deadline of one math/choice grade. */
    deadlineMs: number;
    /** Wall-clock limit of one MBPP program. */
    codeTimeoutMs: number;
  };
  /**
   * Settings that do not change results: a rerun may change them freely.
   * (`limit` only selects how many problems of each dataset to run.)
   */
  run: {
    limit: number | null;
    /** Problems per engine call. */
    batchProblems: number;
    /** pass@k values reported. */
    ks: number[];
  };
}

/** The first key where two configurations differ. */
export interface ConfigDifference {
  /** Dotted path, e.g. `sampling.temperature`. */
  key: string;
  stored: unknown;
  current: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstDifference(stored: unknown, current: unknown, path: string): ConfigDifference | undefined {
  if (isPlainObject(stored) && isPlainObject(current)) {
    const keys = [...new Set([...Object.keys(current), ...Object.keys(stored)])];
    for (const key of keys) {
      const found = firstDifference(stored[key], current[key], path === '' ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Array.isArray(stored) && Array.isArray(current)) {
    if (stored.length !== current.length) return { key: path, stored, current };
    for (let index = 0; index < stored.length; index++) {
      const found = firstDifference(stored[index], current[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return Object.is(stored, current) ? undefined : { key: path, stored, current };
}

/**
 * Compares a stored configuration with the current one, ignoring `run` (settings that do not change
 * results). Returns the first differing key, or undefined when a rerun may resume.
 */
export function findConfigDifference(stored: unknown, current: EvaluationConfig): ConfigDifference | undefined {
  const strip = (value: unknown): unknown => {
    if (!isPlainObject(value)) return value;
    const { run: _run, ...rest } = value;
    return rest;
  };
  return firstDifference(strip(stored), strip(current), '');
}
