/**
 * `trainer.logger` (verl's key: `['console', 'wandb']`) read at the app's
 * edge. The trainer's config schema does not know the key yet, so the app
 * takes it out of the config file and the `--set` overrides before the
 * trainer resolves them: in a block-style file the entry is turned into a
 * comment, so every other key keeps its line number for error messages.
 */
import { MasaError } from '@masa-rl/core';
import { isMap, isScalar, LineCounter, parse, parseDocument, type Pair, type YAMLMap } from 'yaml';

/** The loggers `trainer.logger` may list. */
export const LOGGER_NAMES = ['console', 'tensorboard', 'wandb'] as const;
export type LoggerName = (typeof LOGGER_NAMES)[number];

export interface ExtractLoggerSettingOptions {
  /** The config file (text and the path shown in messages); omit when there is none. */
  file?: { text: string; path: string };
  /** `--set key=value` overrides, in order. @default [] */
  overrides?: readonly string[];
}

export interface LoggerSetting {
  /** The file without `trainer.logger`. */
  file?: { text: string; path: string };
  /** The overrides without `trainer.logger=…`. */
  overrides: string[];
  /** The loggers asked for (the last `--set` wins over the file), or `undefined` when the key is absent. */
  loggers: LoggerName[] | undefined;
}

function checkLoggers(value: unknown, where: string): LoggerName[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    throw new MasaError('CONFIG_INVALID', `${where}: trainer.logger must be a list such as ['console', 'wandb'], got ${JSON.stringify(value)}`, {
      details: { where },
    });
  }
  return list.map((item: unknown) => {
    if (typeof item !== 'string' || !(LOGGER_NAMES as readonly string[]).includes(item)) {
      throw new MasaError('CONFIG_INVALID', `${where}: trainer.logger: unknown logger ${JSON.stringify(item)}; use any of ${LOGGER_NAMES.join(', ')}`, {
        details: { where, logger: item },
      });
    }
    return item as LoggerName;
  });
}

/** Comments out the lines from `start` to `end` (exclusive) by putting `# ` before each line's first non-blank character. */
function commentOut(text: string, start: number, end: number): string {
  const firstLine = text.lastIndexOf('\n', start - 1) + 1;
  const lastChar = Math.max(start, end - 1);
  let out = text.slice(0, firstLine);
  let cursor = firstLine;
  while (cursor <= lastChar && cursor < text.length) {
    const newline = text.indexOf('\n', cursor);
    const lineEnd = newline === -1 ? text.length : newline + 1;
    const line = text.slice(cursor, lineEnd);
    const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
    out += line.trim() === '' ? line : `${line.slice(0, indent)}# ${line.slice(indent)}`;
    cursor = lineEnd;
  }
  return out + text.slice(cursor);
}

function fromFile(file: { text: string; path: string }): { text: string; loggers: LoggerName[] | undefined } {
  const lineCounter = new LineCounter();
  const document = parseDocument(file.text, { lineCounter, prettyErrors: false });
  // Invalid YAML or no `trainer.logger`: leave the text alone (the trainer reports YAML errors with their position).
  if (document.errors.length > 0 || !isMap(document.contents)) return { text: file.text, loggers: undefined };
  const root = document.contents;
  const trainerPair = root.items.find((pair) => isScalar(pair.key) && pair.key.value === 'trainer') as Pair<unknown, unknown> | undefined;
  const trainer = trainerPair?.value;
  if (trainerPair === undefined || !isMap(trainer)) return { text: file.text, loggers: undefined };
  const loggerPair = (trainer as YAMLMap).items.find((pair) => isScalar(pair.key) && pair.key.value === 'logger');
  if (loggerPair === undefined || !isScalar(loggerPair.key)) return { text: file.text, loggers: undefined };
  const line = loggerPair.key.range === undefined || loggerPair.key.range === null ? undefined : lineCounter.linePos(loggerPair.key.range[0]).line;
  const plain = document.toJS() as { trainer?: { logger?: unknown } };
  const loggers = checkLoggers(plain.trainer?.logger, `${file.path}${line === undefined ? '' : `:${line}`}`);

  const keyRange = loggerPair.key.range;
  const valueNode = loggerPair.value as { range?: [number, number, number] | null } | null;
  const keyNode = isScalar(trainerPair.key) ? trainerPair.key : undefined;
  if (root.flow === true || (trainer as YAMLMap).flow === true || keyRange === undefined || keyRange === null || keyNode?.range === undefined || keyNode.range === null) {
    document.deleteIn(['trainer', 'logger']);
    return { text: document.toString(), loggers };
  }
  const end = valueNode?.range?.[1] ?? keyRange[1];
  let text = commentOut(file.text, keyRange[0], end);
  if ((trainer as YAMLMap).items.length === 1) {
    // `trainer:` would now hold nothing (null): make it an explicit empty map on the same line.
    const colon = text.indexOf(':', keyNode.range[1]);
    text = `${text.slice(0, colon + 1)} {}${text.slice(colon + 1)}`;
  }
  return { text, loggers };
}

/**
 * Takes `trainer.logger` out of the config file and the overrides.
 *
 * @throws MasaError `CONFIG_INVALID` (not a list, or an unknown logger), naming the file line or the `--set`
 */
export function extractLoggerSetting(options: ExtractLoggerSettingOptions): LoggerSetting {
  const { file, overrides = [] } = options;
  let loggers: LoggerName[] | undefined;
  let outFile = file;
  if (file !== undefined) {
    const result = fromFile(file);
    loggers = result.loggers;
    outFile = { text: result.text, path: file.path };
  }
  const kept: string[] = [];
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0 || override.slice(0, eq).trim() !== 'trainer.logger') {
      kept.push(override);
      continue;
    }
    const raw = override.slice(eq + 1).trim();
    let value: unknown;
    try {
      value = parse(raw) as unknown;
    } catch (error: unknown) {
      throw new MasaError('CONFIG_INVALID', `--set ${override}: the value is not a list; write it as --set 'trainer.logger=["console","wandb"]'`, {
        cause: error,
        details: { override },
      });
    }
    loggers = checkLoggers(value, `--set ${override}`);
  }
  return { ...(outFile === undefined ? {} : { file: outFile }), overrides: kept, loggers };
}
