import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { parseJsonlLog } from './jsonl-log.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const FIX = 'delete that line';

describe('parseJsonlLog', () => {
  it('reads complete lines and skips blank ones', () => {
    const text = '{"a":1}\n\n{"b":"é"}\n';
    expect(parseJsonlLog(bytes(text), 'f.jsonl', FIX)).toEqual({
      records: [
        { line: 1, value: { a: 1 } },
        { line: 3, value: { b: 'é' } },
      ],
      validBytes: bytes(text).length,
      torn: false,
    });
  });

  it('reports a last line without its newline as torn, with the byte length of the good prefix', () => {
    // "{"b":"é"}\n" is 11 bytes (é takes two); the torn tail cuts a multi-byte character in half.
    const good = '{"a":1}\n{"b":"é"}\n';
    const torn = new Uint8Array([...bytes(good), ...bytes('{"c":"é').subarray(0, 6)]);
    const log = parseJsonlLog(torn, 'f.jsonl', FIX);
    expect(log.records.map((record) => record.value)).toEqual([{ a: 1 }, { b: 'é' }]);
    expect(log.validBytes).toBe(8 + 11);
    expect(log.torn).toBe(true);
  });

  it('treats an unparseable last line as torn', () => {
    const log = parseJsonlLog(bytes('{"a":1}\n{"a":\n'), 'f.jsonl', FIX);
    expect(log).toEqual({ records: [{ line: 1, value: { a: 1 } }], validBytes: 8, torn: true });
  });

  it('refuses a bad line with more lines after it, naming file and line', () => {
    let error: unknown;
    try {
      parseJsonlLog(bytes('{"a":1}\nnot json\n{"a":2}\n'), 'runs/x/scores.jsonl', FIX);
    } catch (caught: unknown) {
      error = caught;
    }
    expect(MasaError.hasCode(error, 'CHECKPOINT_INVALID')).toBe(true);
    expect((error as MasaError).message).toMatch(/^runs\/x\/scores\.jsonl:2: not valid JSON .*, and more lines follow it; delete that line$/);
  });

  it('reads an empty file as empty', () => {
    expect(parseJsonlLog(new Uint8Array(0), 'f', FIX)).toEqual({ records: [], validBytes: 0, torn: false });
  });
});
