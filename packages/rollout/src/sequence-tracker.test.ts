import { MasaError, createRng, type FinishReason } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createSequenceTracker, validateStopConditions, type SequenceTrackerOptions } from './sequence-tracker.js';

/**
 * A byte-level toy tokenizer: each token is a byte string, and decoding is
 * UTF-8 over the concatenated bytes (invalid or cut sequences become U+FFFD),
 * as with Qwen's byte-level BPE. Multi-byte characters are split across
 * tokens on purpose.
 */
const encoder = new TextEncoder();
const VOCAB: Uint8Array[] = [
  ...['Hel', 'lo', ' wor', 'ld', '#', '##', '\n', '\n\n', 'Answer', ':', ' 42', 'xSTOPy', 'ab', 'b', 'c', ' '].map((text) => encoder.encode(text)),
  Uint8Array.of(0xc3), // 16: first byte of é
  Uint8Array.of(0xa9), // 17: second byte of é
  Uint8Array.of(0xf0, 0x9f), // 18: first half of 😀
  Uint8Array.of(0x98, 0x80), // 19: second half of 😀
  encoder.encode('!'), // 20
  encoder.encode('<eos>'), // 21
];
const T = (text: string): number => {
  const id = VOCAB.findIndex((bytes) => new TextDecoder().decode(bytes) === text);
  if (id < 0) throw new Error(`no token ${text}`);
  return id;
};
let decodeCalls = 0;
function decode(ids: readonly number[]): string {
  decodeCalls++;
  const parts = ids.map((id) => VOCAB[id] as Uint8Array);
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

interface Outcome {
  tokenIds: number[];
  text: string;
  finishReason: FinishReason | null;
  deltas: string;
}

function run(ids: readonly number[], options: Omit<SequenceTrackerOptions, 'decode'>): Outcome {
  const tracker = createSequenceTracker({ decode, ...options });
  let deltas = '';
  for (const id of ids) {
    const step = tracker.push(id);
    deltas += step.textDelta;
    if (step.finishReason !== null) break;
  }
  return { tokenIds: [...tracker.tokenIds], text: tracker.text, finishReason: tracker.finishReason, deltas };
}

/**
 * Brute force by the documented contract: the first k whose decoded prefix
 * (tokens before any stop id) contains a stop string; the text is that prefix
 * cut before the earliest occurrence.
 */
function reference(ids: readonly number[], options: Omit<SequenceTrackerOptions, 'decode'>): Omit<Outcome, 'deltas'> {
  const stops = options.stopStrings ?? [];
  for (let k = 1; k <= Math.min(ids.length, options.maxNewTokens); k++) {
    const last = ids[k - 1] as number;
    if (options.stopTokenIds?.includes(last) === true) return { tokenIds: ids.slice(0, k), text: decode(ids.slice(0, k - 1)), finishReason: 'stop' };
    const full = decode(ids.slice(0, k));
    const hits = stops.map((stop) => full.indexOf(stop)).filter((at) => at >= 0);
    if (hits.length > 0) return { tokenIds: ids.slice(0, k), text: full.slice(0, Math.min(...hits)), finishReason: 'stop' };
    if (k === options.maxNewTokens) return { tokenIds: ids.slice(0, k), text: full, finishReason: options.budgetIsCutoff === true ? 'cutoff' : 'length' };
  }
  return { tokenIds: [...ids], text: decode(ids), finishReason: null };
}

describe('stop strings spanning tokens (acceptance 2)', () => {
  it('"###" completed by "#" + "##": tokens up to and including "##", text trimmed before the stop string', () => {
    const ids = [T('Answer'), T(':'), T(' 42'), T('#'), T('##'), T('\n')];
    const outcome = run(ids, { maxNewTokens: 50, stopStrings: ['###'] });
    expect(outcome).toEqual({ tokenIds: ids.slice(0, 5), text: 'Answer: 42', finishReason: 'stop', deltas: 'Answer: 42' });
  });

  it('a stop string ending inside a token drops the rest of that token', () => {
    const ids = [T('Hel'), T('lo'), T('xSTOPy'), T('ld')];
    expect(run(ids, { maxNewTokens: 50, stopStrings: ['STOP'] })).toEqual({
      tokenIds: ids.slice(0, 3),
      text: 'Hellox',
      finishReason: 'stop',
      deltas: 'Hellox',
    });
  });

  it('the earliest occurrence wins when two stop strings complete on the same token', () => {
    // Text "ab" + "c": "abc" holds "bc" (starts at 1) and "abc" (starts at 0).
    const ids = [T('Hel'), T('ab'), T('c')];
    expect(run(ids, { maxNewTokens: 50, stopStrings: ['bc', 'Helabc'] }).text).toBe('');
    expect(run(ids, { maxNewTokens: 50, stopStrings: ['bc', 'abc'] }).text).toBe('Hel');
  });

  it('stop strings with multi-byte characters split across tokens', () => {
    const ids = [T('Hel'), 16, 17, T('!'), T('lo')];
    expect(run(ids, { maxNewTokens: 50, stopStrings: ['é!'] })).toEqual({ tokenIds: ids.slice(0, 4), text: 'Hel', finishReason: 'stop', deltas: 'Hel' });
    // A stop string that ends before a pending half character is found on the token that completed it.
    const pendingIds = [T('ab'), 18, 19, T('c')];
    expect(run(pendingIds, { maxNewTokens: 50, stopStrings: ['b'] })).toMatchObject({ tokenIds: [T('ab')], text: 'a' });
    expect(run([T('Hel'), 18, 19, T('!')], { maxNewTokens: 50, stopStrings: ['😀!'] }).text).toBe('Hel');
  });

  it('a stop token id ends the sample: kept in tokenIds, its text left out', () => {
    const ids = [T('Hel'), T('lo'), 21, T('ld')];
    expect(run(ids, { maxNewTokens: 50, stopTokenIds: [21] })).toEqual({ tokenIds: ids.slice(0, 3), text: 'Hello', finishReason: 'stop', deltas: 'Hello' });
    // A half character before the stop token is flushed as U+FFFD, as a full decode would show it.
    expect(run([T('Hel'), 16, 21], { maxNewTokens: 50, stopTokenIds: [21] }).text).toBe('Hel\uFFFD');
  });

  it('the budget: length, or cutoff when budgetIsCutoff; a stop on the last budget token is a stop', () => {
    const ids = [T('Hel'), T('lo'), T(' wor'), T('ld')];
    expect(run(ids, { maxNewTokens: 3 })).toEqual({ tokenIds: ids.slice(0, 3), text: 'Hello wor', finishReason: 'length', deltas: 'Hello wor' });
    expect(run(ids, { maxNewTokens: 3, budgetIsCutoff: true }).finishReason).toBe('cutoff');
    expect(run([T('Hel'), T('lo'), 21], { maxNewTokens: 3, budgetIsCutoff: true, stopTokenIds: [21] }).finishReason).toBe('stop');
    expect(run([T('Hel'), T('#'), T('##')], { maxNewTokens: 3, stopStrings: ['###'] })).toMatchObject({ finishReason: 'stop', text: 'Hel' });
    // A half character at the budget is kept as U+FFFD (the honest decode of the tokens returned).
    expect(run([T('Hel'), 18], { maxNewTokens: 2 }).text).toBe('Hel\uFFFD');
  });

  it('streamed deltas hold back possible stop-string starts, so nothing streamed is trimmed later', () => {
    const tracker = createSequenceTracker({ decode, maxNewTokens: 50, stopStrings: ['\n\nAnswer'] });
    expect(tracker.push(T('Hel')).textDelta).toBe('Hel');
    expect(tracker.push(T('\n')).textDelta).toBe(''); // "\n" could start the stop string
    expect(tracker.push(T('lo')).textDelta).toBe('\nlo'); // it did not
    expect(tracker.push(T('\n\n')).textDelta).toBe('');
    const last = tracker.push(T('Answer'));
    expect(last).toEqual({ finishReason: 'stop', textDelta: '' });
    expect(tracker.text).toBe('Hel\nlo');
    expect(() => tracker.push(T('lo'))).toThrow(/after the sample finished/);
  });

  it('random sequences agree with the brute-force contract (tokens, text, reason, deltas = text)', () => {
    const rng = createRng('tracker');
    for (let trial = 0; trial < 400; trial++) {
      const maxNewTokens = rng.int(1, 14);
      const ids = Array.from({ length: maxNewTokens + rng.int(0, 3) }, () => rng.int(0, VOCAB.length - 1));
      // Stop strings: substrings of the decoded text (so they do occur) and random short ones.
      const full = decode(ids).replace(/\uFFFD/g, '');
      const stops: string[] = [];
      for (let s = rng.int(0, 3); s > 0; s--) {
        if (full.length > 0 && rng.next() < 0.7) {
          const start = rng.int(0, full.length - 1);
          stops.push(full.slice(start, start + rng.int(1, 5)));
        } else {
          stops.push(rng.pick(['#', '##', 'lo w', 'é', '\n\n', 'zz']));
        }
      }
      const options = {
        maxNewTokens,
        budgetIsCutoff: rng.next() < 0.5,
        stopStrings: stops.filter((stop) => stop.length > 0),
        stopTokenIds: rng.next() < 0.3 ? [21] : [],
      };
      const outcome = run(ids, options);
      expect({ tokenIds: outcome.tokenIds, text: outcome.text, finishReason: outcome.finishReason }, JSON.stringify({ ids, options })).toEqual(reference(ids, options));
      expect(outcome.deltas).toBe(outcome.text);
    }
  });

  it('end() finishes an unfinished sample from outside, flushing held-back text', () => {
    const tracker = createSequenceTracker({ decode, maxNewTokens: 50, stopStrings: ['\n\nX'] });
    expect(tracker.push(T('Hel')).textDelta).toBe('Hel');
    expect(tracker.push(T('\n\n')).textDelta).toBe('');
    expect(tracker.push(16).textDelta).toBe('');
    expect(tracker.end()).toEqual({ finishReason: 'stop', textDelta: '\n\n\uFFFD' });
    expect(tracker.text).toBe('Hel\n\n\uFFFD');
    expect(tracker.end('length')).toEqual({ finishReason: 'stop', textDelta: '' });
  });

  it('decodes a bounded window per token (not the whole sequence)', () => {
    const tracker = createSequenceTracker({ decode, maxNewTokens: 10_000 });
    decodeCalls = 0;
    for (let i = 0; i < 1000; i++) tracker.push(T('lo'));
    expect(decodeCalls).toBe(2000);
    expect(tracker.text).toBe('lo'.repeat(1000));
  });

  it('rejects a bad budget, empty stop strings and bad stop ids, naming the field', () => {
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error: unknown) {
        if (MasaError.isInstance(error)) return `${error.code}: ${error.message}`;
      }
      return 'no MasaError';
    };
    expect(message(() => validateStopConditions({ maxNewTokens: 0 }, 'request "a"'))).toBe(
      'ARGUMENT_INVALID: request "a": maxNewTokens must be an integer ≥ 1, got 0',
    );
    expect(message(() => createSequenceTracker({ decode, maxNewTokens: 2.5 }))).toMatch(/maxNewTokens must be an integer/);
    expect(message(() => createSequenceTracker({ decode, maxNewTokens: 2, stopStrings: [''] }))).toMatch(/stopStrings must hold non-empty strings/);
    expect(message(() => createSequenceTracker({ decode, maxNewTokens: 2, stopTokenIds: [-1] }))).toMatch(/stopTokenIds must hold integer/);
  });
});
