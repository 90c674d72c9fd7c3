import { describe, expect, it } from 'vitest';
import { decodeEvent, readRecords, referenceCrc32c, referenceMask } from './__tests__/tfrecord-reader.js';
import { encodeEvent, frameRecord, TENSORBOARD_FILE_VERSION } from './tensorboard-event.js';

const ascii = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0));

describe('encodeEvent', () => {
  it('writes wall_time (1, double), step (2, varint) and file_version (3, string), byte for byte', () => {
    const encoded = encodeEvent({ wallTime: 1.5, step: 3, body: { type: 'file-version', version: TENSORBOARD_FILE_VERSION } });
    expect([...encoded]).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x10, 0x03, 0x1a, 13, ...ascii('brain.Event:2')]);
  });

  it('writes a summary (5) of Values { tag = 1, simple_value = 2 (float) }, byte for byte', () => {
    const encoded = encodeEvent({ wallTime: 0, step: 7, body: { type: 'scalars', values: [{ tag: 'a/b', value: 0.5 }] } });
    // Value: 0A 03 'a/b' 15 00 00 00 3F (10 bytes); Summary: 0A 0A <Value> (12 bytes); Event field 5: 2A 0C <Summary>.
    const value = [0x0a, 0x03, ...ascii('a/b'), 0x15, 0, 0, 0, 0x3f];
    expect([...encoded]).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x07, 0x2a, 12, 0x0a, 10, ...value]);
  });

  it('writes a SessionLog (7) with status START (1)', () => {
    const encoded = encodeEvent({ wallTime: 0, step: 4, body: { type: 'session-start' } });
    expect([...encoded.slice(9)]).toEqual([0x10, 0x04, 0x3a, 0x02, 0x08, 0x01]);
  });

  it('round-trips through the independent decoder, values as float32', () => {
    const values = [
      { tag: 'actor/pg_clipfrac', value: 0.1 },
      { tag: 'val-core/synthetic-arith-validation/acc/mean@1', value: 2 / 3 },
      { tag: 'critic/score/max', value: -1e-3 },
      { tag: 'timing_s/step', value: 12345.678 },
    ];
    const event = decodeEvent(encodeEvent({ wallTime: 1_790_000_000.25, step: 2 ** 40, body: { type: 'scalars', values } }));
    expect(event.wallTime).toBe(1_790_000_000.25);
    expect(event.step).toBe(2 ** 40);
    expect([...(event.scalars ?? new Map<string, number>()).entries()]).toEqual(values.map(({ tag, value }) => [tag, Math.fround(value)]));
  });
});

describe('frameRecord', () => {
  it('frames length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = Uint8Array.from(ascii('\x1a\x11CRC test, one two'));
    const record = frameRecord(data);
    expect(record.length).toBe(8 + 4 + data.length + 4);
    const view = new DataView(record.buffer);
    expect(view.getBigUint64(0, true)).toBe(BigInt(data.length));
    expect(view.getUint32(8, true)).toBe(referenceMask(referenceCrc32c(record.subarray(0, 8))));
    expect([...record.subarray(12, 12 + data.length)]).toEqual([...data]);
    // The data CRC TensorFlow itself wrote for this record.
    expect(view.getUint32(12 + data.length, true)).toBe(0x5794d08a);
    expect(readRecords(record)).toHaveLength(1);
  });

  it('is rejected by the reader when a byte flips', () => {
    const record = frameRecord(Uint8Array.of(1, 2, 3));
    const damaged = record.slice();
    damaged[13] = (damaged[13] ?? 0) ^ 1;
    expect(() => readRecords(damaged)).toThrow(/bad data CRC/);
  });
});
