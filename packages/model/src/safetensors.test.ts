import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensorInto, writeSafetensors } from './safetensors.js';

/** Builds a safetensors file byte by byte: 8-byte LE header length, JSON, raw data. */
function buildFile(header: string, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.byteLength + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masa-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reading', () => {
  // a: F32 [2] = [1.0 (00 00 80 3f), -2.0 (00 00 00 c0)]
  // b: BF16 [3] = [1.0 (80 3f), 0.333984375 (ab 3e), -Inf (80 ff)]
  // c: F16 [2] = [65504 (ff 7b), 2^-24 (01 00)]
  // d: F64 [1] = [0.1 (9a 99 99 99 99 99 b9 3f)]
  const header = JSON.stringify({
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [3], data_offsets: [8, 14] },
    c: { dtype: 'F16', shape: [2, 1], data_offsets: [14, 18] },
    d: { dtype: 'F64', shape: [], data_offsets: [18, 26] },
  });
  const bytes = [
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, //
    0x80, 0x3f, 0xab, 0x3e, 0x80, 0xff, //
    0xff, 0x7b, 0x01, 0x00, //
    0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f,
  ];

  it('parses the header and converts every dtype into float32 and float64 targets', async () => {
    const file = join(dir, 'hand.safetensors');
    await writeFile(file, buildFile(header, bytes));
    const parsed = await readSafetensorsHeader(file);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.entries.map((e) => [e.name, e.dtype, e.shape])).toEqual([
      ['a', 'F32', [2]],
      ['b', 'BF16', [3]],
      ['c', 'F16', [2, 1]],
      ['d', 'F64', []],
    ]);
    const [a, b, c, d] = parsed.entries as [never, never, never, never];
    const a32 = new Float32Array(2);
    await readTensorInto({ entry: a, target: a32 });
    expect(Array.from(a32)).toEqual([1, -2]);
    const b32 = new Float32Array(3);
    await readTensorInto({ entry: b, target: b32 });
    expect(Array.from(b32)).toEqual([1, 0.333984375, Number.NEGATIVE_INFINITY]);
    const c64 = new Float64Array(2);
    await readTensorInto({ entry: c, target: c64 });
    expect(Array.from(c64)).toEqual([65504, 2 ** -24]);
    const d64 = new Float64Array(1);
    await readTensorInto({ entry: d, target: d64 });
    expect(d64[0]).toBe(0.1);
    const d32 = new Float32Array(1);
    await readTensorInto({ entry: d, target: d32 });
    expect(d32[0]).toBe(Math.fround(0.1));
  });

  it('reads F32 data straight into the destination buffer, and converts others through a bounded chunk', async () => {
    const n = 3_000_000; // 12 MB as F32, 6 MB as BF16: larger than one conversion chunk
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i % 200) - 100;
    const file = join(dir, 'big.safetensors');
    await writeSafetensors({
      file,
      tensors: [
        { name: 'f32', shape: [n], data, dtype: 'F32' },
        { name: 'bf16', shape: [n], data, dtype: 'BF16' },
      ],
    });
    const { entries } = await readSafetensorsHeader(file);
    const reads: Array<{ buffer: ArrayBufferLike; length: number }> = [];
    const real = await open(file, 'r');
    const spy = {
      read: (buffer: Uint8Array, offset: number, length: number, position: number) => {
        reads.push({ buffer: buffer.buffer, length });
        return real.read(buffer, offset, length, position);
      },
    } as unknown as FileHandle;
    try {
      for (const entry of entries) {
        reads.length = 0;
        const target = new Float32Array(n);
        await readTensorInto({ entry, target, handle: spy });
        let mismatches = 0; // integers of magnitude ≤ 256 are exact in bf16
        for (let i = 0; i < n; i++) if (target[i] !== data[i]) mismatches += 1;
        expect(mismatches).toBe(0);
        if (entry.dtype === 'F32') expect(reads.every((r) => r.buffer === target.buffer)).toBe(true);
        else {
          expect(reads.every((r) => r.buffer !== target.buffer && r.length <= 1 << 22)).toBe(true);
          expect(reads.length).toBeGreaterThan(1);
        }
      }
    } finally {
      await real.close();
    }
  });

  it('rejects malformed files with MODEL_LOAD_FAILED naming the file', async () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['short', new Uint8Array([1, 2, 3]), /fewer than the 8-byte header/],
      ['huge-header', buildFile('{}', []).map((v, i) => (i === 0 ? 0xff : v)), /header length/],
      ['not-json', buildFile('{"a":', []), /not valid UTF-8 JSON/],
      [
        'bad-offsets',
        buildFile(JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }), [0, 0, 0, 0]),
        /needs 8 bytes/,
      ],
      [
        'past-end',
        buildFile(JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), [0, 0, 0, 0]),
        /needs 8 bytes but data_offsets are \[0, 8\] of 4/,
      ],
      [
        'overlap',
        buildFile(
          JSON.stringify({
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'F16', shape: [2], data_offsets: [2, 6] },
          }),
          [0, 0, 0, 0, 0, 0],
        ),
        /overlap/,
      ],
      ['dtype', buildFile(JSON.stringify({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }), [0]), /unknown dtype "Q4"/],
    ];
    for (const [name, content, pattern] of cases) {
      const file = join(dir, `${name}.safetensors`);
      await writeFile(file, content);
      const error = await readSafetensorsHeader(file).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, name).toMatchObject({ code: 'MODEL_LOAD_FAILED' });
      expect((error as Error).message, name).toMatch(pattern);
      expect((error as Error).message, name).toContain(file);
    }
    await expect(readSafetensorsHeader(join(dir, 'absent.safetensors'))).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });

  it('refuses integer tensors and a target of the wrong length', async () => {
    const file = join(dir, 'ints.safetensors');
    await writeFile(file, buildFile(JSON.stringify({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }), [1, 0, 0, 0, 0, 0, 0, 0]));
    const [entry] = (await readSafetensorsHeader(file)).entries;
    await expect(readTensorInto({ entry: entry as never, target: new Float32Array(1) })).rejects.toThrow(/dtype I64/);
    await expect(readTensorInto({ entry: entry as never, target: new Float32Array(2) })).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
  });
});

describe('writing', () => {
  it('writes the exact bytes: 8-aligned header, wider dtypes first, rounded half floats', async () => {
    const file = join(dir, 'written.safetensors');
    await writeSafetensors({
      file,
      metadata: { format: 'pt' },
      tensors: [
        { name: 'h', shape: [2], data: new Float32Array([1, 1 + 2 ** -8 + 2 ** -7]), dtype: 'BF16' },
        { name: 'w', shape: [1, 2], data: new Float64Array([1, -2]), dtype: 'F32' },
        { name: 'x', shape: [2], data: new Float64Array([1 + 2 ** -11 + 2 ** -40, 65520]), dtype: 'F16' },
      ],
    });
    const bytes = new Uint8Array(await readFile(file));
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header).toEqual({
      __metadata__: { format: 'pt' },
      w: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] },
      h: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      x: { dtype: 'F16', shape: [2], data_offsets: [12, 16] },
    });
    expect(Array.from(bytes.subarray(8 + headerLength))).toEqual([
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, // 1, -2 as F32
      0x80, 0x3f, 0x82, 0x3f, // bf16 1.0; 1 + 3·2^-8 is a tie with odd kept LSB (0x3f81) → 0x3f82
      0x01, 0x3c, 0x00, 0x7c, // f16 1 + 2^-11 + 2^-40 → 0x3c01; 65520 → +Inf
    ]);
  });

  it('rejects a shape/length mismatch and duplicate names, and leaves no file behind', async () => {
    const file = join(dir, 'bad-write.safetensors');
    await expect(
      writeSafetensors({ file, tensors: [{ name: 'a', shape: [3], data: new Float32Array(2) }] }),
    ).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    await expect(
      writeSafetensors({
        file,
        tensors: [
          { name: 'a', shape: [1], data: new Float32Array(1) },
          { name: 'a', shape: [1], data: new Float32Array(1) },
        ],
      }),
    ).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    await expect(readFile(file)).rejects.toThrow();
    await expect(
      writeSafetensors({ file: join(dir, 'no-such-dir', 'x.safetensors'), tensors: [] }),
    ).rejects.toMatchObject({ code: 'FILE_WRITE_FAILED' });
  });
});
