/**
 * Resolving a training configuration: YAML text + `--set a.b=c` overrides +
 * an algorithm preset, validated once by the zod schema, returned as a plain
 * frozen object. Pure: it takes text, never reads files (see `config-file.ts`).
 */
import { MasaError } from '@masa-rl/core';
import { LineCounter, parseDocument, stringify, isMap, isScalar, type Document } from 'yaml';
import type * as z from 'zod';
import {
  ALGORITHM_NAMES,
  trainerConfigSchema,
  type AlgorithmName,
  type TrainerConfig,
  type TrainerConfigShape,
} from './config-schema.js';

/** One parsed `--set` override. */
export interface ConfigOverride {
  /** Dotted key path split into segments. */
  path: string[];
  value: unknown;
  /** The override as the user wrote it, for error messages. */
  source: string;
}

/** One problem found while resolving a config. */
export interface ConfigIssue {
  /** Dotted key path (`actor_rollout_ref.actor.clip_ratio_high`). */
  key: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** Where the offending value came from: `file:line`, `--set …`, `--algo`, or `default`. */
  origin: string;
}

export interface ResolveConfigOptions {
  /** YAML config text and (for messages) the file it came from. */
  file?: { text: string; path?: string };
  /** `a.b=c` overrides in order (later ones win), as given to `--set`. */
  overrides?: readonly string[];
  /** Algorithm chosen on the command line; beats the file's `algorithm.name`, loses to `--set algorithm.name=…`. */
  algo?: AlgorithmName;
}

/** Presets applied beneath the config file for each algorithm. */
const ALGORITHM_PRESETS: Record<AlgorithmName, Record<string, unknown>> = {
  grpo: {},
  dapo: { algorithm: { filter_groups: { enable: true } } },
  masa: {},
  'masa-efficient': {},
  'dapo-masa': { algorithm: { filter_groups: { enable: true } } },
};

const KEY_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER_LITERAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Parses one `--set a.b=c` override. Values: numbers, `true`/`false`,
 * `null`/`~`, JSON arrays and objects, JSON-quoted strings; anything else is
 * a plain string.
 */
export function parseOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new MasaError('CONFIG_INVALID', `--set ${text}: expected KEY=VALUE, e.g. --set actor_rollout_ref.actor.optim.lr=1e-6`, {
      details: { override: text },
    });
  }
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const path = key.split('.');
  if (path.some((segment) => !KEY_SEGMENT.test(segment))) {
    throw new MasaError('CONFIG_INVALID', `--set ${text}: "${key}" is not a dotted key path like data.train_batch_size`, {
      details: { override: text },
    });
  }
  return { path, value: parseOverrideValue(raw, text), source: `--set ${text}` };
}

function parseOverrideValue(raw: string, text: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null' || raw === '~') return null;
  if (NUMBER_LITERAL.test(raw)) return Number(raw);
  if (raw.startsWith('[') || raw.startsWith('{') || raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch (error: unknown) {
      throw new MasaError('CONFIG_INVALID', `--set ${text}: the value is not valid JSON (${(error as Error).message}); quote it for the shell, e.g. --set 'key=["a","b"]'`, {
        cause: error,
        details: { override: text },
      });
    }
  }
  return raw;
}

type PlainObject = Record<string, unknown>;

const isPlainObject = (value: unknown): value is PlainObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function deepMerge(base: PlainObject, top: PlainObject): PlainObject {
  const out: PlainObject = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function setPath(target: PlainObject, path: readonly string[], value: unknown): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = node[key];
    if (isPlainObject(next)) node = next;
    else {
      const created: PlainObject = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1] as string] = value;
}

function getPath(target: unknown, path: readonly string[]): unknown {
  let node = target;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---- schema introspection (for "did you mean" and the list of keys) ----

interface SchemaNode {
  _zod: { def: { type: string; innerType?: SchemaNode; shape?: Record<string, SchemaNode> } };
}

function unwrapSchema(node: SchemaNode): SchemaNode {
  let current = node;
  while (current._zod.def.innerType !== undefined) current = current._zod.def.innerType;
  return current;
}

function objectShape(node: SchemaNode | undefined): Record<string, SchemaNode> | undefined {
  if (node === undefined) return undefined;
  const inner = unwrapSchema(node);
  return inner._zod.def.type === 'object' ? inner._zod.def.shape : undefined;
}

function schemaAt(path: readonly (string | number)[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = trainerConfigSchema as unknown as SchemaNode;
  for (const segment of path) {
    const shape = objectShape(node);
    if (shape === undefined || typeof segment !== 'string') return undefined;
    node = shape[segment];
  }
  return node;
}

/** Every leaf key path of the schema, dotted (`data.train_batch_size` …). */
export function configKeyPaths(): string[] {
  const out: string[] = [];
  const walk = (node: SchemaNode, prefix: string): void => {
    const shape = objectShape(node);
    if (shape === undefined) {
      out.push(prefix);
      return;
    }
    for (const [key, child] of Object.entries(shape)) walk(child, prefix === '' ? key : `${prefix}.${key}`);
  };
  walk(trainerConfigSchema as unknown as SchemaNode, '');
  return out;
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}

function suggestKey(parent: readonly (string | number)[], key: string): string | undefined {
  const siblings = Object.keys(objectShape(schemaAt(parent)) ?? {});
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of siblings) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3))) return best;
  // The key exists elsewhere in the tree: suggest its full path.
  const paths = configKeyPaths();
  const leaves = paths.filter((path) => path.endsWith(`.${key}`));
  if (leaves.length > 0) return leaves.join(' or ');
  const section = paths.map((path) => path.split('.')).find((segments) => segments.slice(0, -1).includes(key));
  return section === undefined ? undefined : section.slice(0, section.indexOf(key) + 1).join('.');
}

// ---- locating where a key came from ----

interface Origins {
  fileName: string;
  document: Document | undefined;
  lineCounter: LineCounter;
  overrides: readonly ConfigOverride[];
  algoGiven: boolean;
}

function fileLineOf(origins: Origins, path: readonly (string | number)[]): number | undefined {
  const { document } = origins;
  if (document === undefined) return undefined;
  let node: unknown = document.contents;
  let line: number | undefined;
  for (const segment of path) {
    if (!isMap(node)) return line;
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    if (pair === undefined) return line;
    const range = isScalar(pair.key) ? pair.key.range : undefined;
    if (range !== undefined && range !== null) line = origins.lineCounter.linePos(range[0]).line;
    node = pair.value;
  }
  return line;
}

function originOf(origins: Origins, path: readonly (string | number)[]): string {
  const dotted = path.join('.');
  for (let i = origins.overrides.length - 1; i >= 0; i--) {
    const override = origins.overrides[i] as ConfigOverride;
    const overridePath = override.path.join('.');
    if (dotted === overridePath || dotted.startsWith(`${overridePath}.`) || overridePath.startsWith(`${dotted}.`)) {
      return override.source;
    }
  }
  if (origins.algoGiven && dotted.startsWith('algorithm')) return '--algo';
  const line = fileLineOf(origins, path);
  if (line !== undefined) return `${origins.fileName}:${line}`;
  return origins.document === undefined ? 'default' : origins.fileName;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${truncate(JSON.stringify(value))}`;
  return `${typeof value} ${String(value)}`;
}

const truncate = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

function issueMessage(issue: z.core.$ZodIssue, key: string): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
    case 'invalid_union':
      if (input === undefined) {
        if (key === 'data.train_files') {
          return 'required: set data.train_files to the training data in the config file, or pass --set data.train_files=PATH';
        }
        return `required: set ${key}`;
      }
      if (issue.code === 'invalid_union') return `expected a file path or a list of file paths, got ${describeValue(input)}`;
      return `expected ${issue.expected}, got ${describeValue(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(' | ')}, got ${describeValue(input)}`;
    default:
      return `${issue.message.replace(/^Invalid input: /, '')}, got ${describeValue(input)}`;
  }
}

function toIssues(error: z.ZodError, origins: Origins): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const full = [...path, key];
        const suggestion = suggestKey(path, key);
        out.push({
          key: full.join('.'),
          message: `unknown key${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`,
          origin: originOf(origins, full),
        });
      }
      continue;
    }
    const key = path.join('.');
    out.push({ key, message: issueMessage(issue, key), origin: originOf(origins, path) });
  }
  return out;
}

function throwIssues(issues: readonly ConfigIssue[]): never {
  const lines = issues.map((issue) => `${issue.origin}: ${issue.key}: ${issue.message}`);
  const head = issues.length === 1 ? 'invalid training config: ' : `invalid training config (${issues.length} problems):\n  `;
  throw new MasaError('CONFIG_INVALID', head + lines.join('\n  '), { details: { issues } });
}

/** Checks between keys that the per-key schema cannot express. */
function crossFieldIssues(config: TrainerConfigShape, origins: Origins): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string[], message: string): void => {
    issues.push({ key: path.join('.'), message, origin: originOf(origins, path) });
  };
  const { data, actor_rollout_ref: ar } = config;
  const actor = ar.actor;
  if (actor.ppo_mini_batch_size !== null && actor.ppo_mini_batch_size > data.train_batch_size) {
    add(
      ['actor_rollout_ref', 'actor', 'ppo_mini_batch_size'],
      `${actor.ppo_mini_batch_size} is larger than data.train_batch_size (${data.train_batch_size}); use at most the batch size`,
    );
  }
  const longest = data.max_prompt_length + data.max_response_length;
  if (actor.use_dynamic_bsz && actor.ppo_max_token_len_per_gpu < longest) {
    add(
      ['actor_rollout_ref', 'actor', 'ppo_max_token_len_per_gpu'],
      `${actor.ppo_max_token_len_per_gpu} tokens cannot hold one sequence of max_prompt_length + max_response_length = ${longest}; raise it to at least ${longest}`,
    );
  }
  if (ar.rollout.log_prob_max_token_len_per_gpu < longest) {
    add(
      ['actor_rollout_ref', 'rollout', 'log_prob_max_token_len_per_gpu'],
      `${ar.rollout.log_prob_max_token_len_per_gpu} tokens cannot hold one sequence of ${longest} tokens; raise it to at least ${longest}`,
    );
  }
  if (!actor.recompute_old_log_prob && (ar.rollout.top_p < 1 || ar.rollout.top_k > 0)) {
    add(
      ['actor_rollout_ref', 'actor', 'recompute_old_log_prob'],
      `false needs rollouts sampled from the whole distribution, but rollout.top_p = ${ar.rollout.top_p} and rollout.top_k = ${ar.rollout.top_k} truncate it (their log-probs are not the policy's): set top_p 1 and top_k -1, or recompute`,
    );
  }
  if (!actor.use_dynamic_bsz && actor.ppo_micro_batch_size_per_gpu === null) {
    add(
      ['actor_rollout_ref', 'actor', 'ppo_micro_batch_size_per_gpu'],
      'required when actor_rollout_ref.actor.use_dynamic_bsz is false: set a sequence count, or turn use_dynamic_bsz on',
    );
  }
  return issues;
}

/**
 * Resolves a training config: schema defaults < algorithm preset < file <
 * `algo` < `--set` overrides. Rejects unknown keys and wrong types with the
 * key's path and where it came from (file line or override), and a missing
 * `data.train_files`. Returns a deeply frozen plain object.
 *
 * @throws MasaError `CONFIG_INVALID`
 */
export function resolveConfig(options: ResolveConfigOptions = {}): TrainerConfig {
  const { file, overrides = [], algo } = options;
  const fileName = file?.path ?? 'config';
  const lineCounter = new LineCounter();
  let document: Document | undefined;
  let fileObject: PlainObject = {};
  if (file !== undefined) {
    document = parseDocument(file.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const first = document.errors[0];
    if (first !== undefined) {
      const { line, col } = lineCounter.linePos(first.pos[0]);
      throw new MasaError('CONFIG_INVALID', `${fileName}:${line}:${col}: not valid YAML: ${first.message.split('\n')[0]}`, {
        cause: first,
        details: { file: fileName, line, column: col },
      });
    }
    const parsed: unknown = document.toJS();
    if (parsed !== null && parsed !== undefined) {
      if (!isPlainObject(parsed)) {
        throw new MasaError('CONFIG_INVALID', `${fileName}: the config must be a YAML mapping of sections (data:, actor_rollout_ref:, …), got ${describeValue(parsed)}`, {
          details: { file: fileName },
        });
      }
      fileObject = parsed;
    }
  }
  const parsedOverrides = overrides.map(parseOverride);
  if (algo !== undefined && !(ALGORITHM_NAMES as readonly string[]).includes(algo)) {
    throw new MasaError('CONFIG_INVALID', `--algo ${String(algo)}: unknown algorithm; use one of ${ALGORITHM_NAMES.join(', ')}`, {
      details: { algo },
    });
  }

  let merged: PlainObject = structuredClone(fileObject);
  if (algo !== undefined) setPath(merged, ['algorithm', 'name'], algo);
  for (const override of parsedOverrides) {
    if (override.path.length > 1 && !isPlainObject(getPath(merged, override.path.slice(0, -1)))) {
      const parent = getPath(merged, override.path.slice(0, -1));
      if (parent !== undefined) {
        throw new MasaError('CONFIG_INVALID', `${override.source}: ${override.path.slice(0, -1).join('.')} is not a section`, {
          details: { override: override.source },
        });
      }
    }
    setPath(merged, override.path, structuredClone(override.value));
  }
  const name = getPath(merged, ['algorithm', 'name']);
  const preset = typeof name === 'string' && name in ALGORITHM_PRESETS ? ALGORITHM_PRESETS[name as AlgorithmName] : {};
  merged = deepMerge(preset, merged);

  const origins: Origins = { fileName, document, lineCounter, overrides: parsedOverrides, algoGiven: algo !== undefined };
  const result = trainerConfigSchema.safeParse(merged, { reportInput: true });
  if (!result.success) throwIssues(toIssues(result.error, origins));
  const cross = crossFieldIssues(result.data, origins);
  if (cross.length > 0) throwIssues(cross);
  return deepFreeze(result.data) as TrainerConfig;
}

/** The resolved config as YAML text (what the run folder's `config.resolved.yaml` holds). Resolving it again gives the same config. */
export function dumpResolvedConfig(config: TrainerConfig): string {
  return `# masa-rl resolved training config: every key with the value the run used\n${stringify(config, { lineWidth: 0 })}`;
}
