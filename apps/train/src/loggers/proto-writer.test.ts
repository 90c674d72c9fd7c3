import { describe, expect, it } from 'vitest';
import { createProtoWriter } from './proto-writer.js';

const bytes = (writer: { finish(): Uint8Array }): number[] => [...writer.finish()];

describe('createProtoWriter', () => {
  it('encodes varints (hand-computed from the wire-format rules)', () => {
    // key = field << 3 | wire type: step = field 2, varint → 0x10.
    expect(bytes(createProtoWriter().int64(2, 1))).toEqual([0x10, 0x01]);
    // 300 = 0b10_0101100 → 0xAC 0x02.
    expect(bytes(createProtoWriter().int64(2, 300))).toEqual([0x10, 0xac, 0x02]);
    expect(bytes(createProtoWriter().int64(2, 0))).toEqual([0x10, 0x00]);
    // 2^53 - 1 = 0x1F_FFFF_FFFF_FFFF: seven full 7-bit groups, then 0b1111.
    expect(bytes(createProtoWriter().int64(1, Number.MAX_SAFE_INTEGER))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    // Negative int64: 64-bit two's complement, ten bytes.
    expect(bytes(createProtoWriter().int64(1, -1))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('encodes fixed-width and length-delimited fields', () => {
    // double 1.5 = 0x3FF8000000000000, little-endian; key field 1 wire 1 = 0x09.
    expect(bytes(createProtoWriter().double(1, 1.5))).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    // float 0.5 = 0x3F000000; key field 2 wire 5 = 0x15.
    expect(bytes(createProtoWriter().float(2, 0.5))).toEqual([0x15, 0, 0, 0, 0x3f]);
    // string "hé": UTF-8 68 C3 A9; key field 1 wire 2 = 0x0A.
    expect(bytes(createProtoWriter().string(1, 'hé'))).toEqual([0x0a, 0x03, 0x68, 0xc3, 0xa9]);
    // Field 16, wire 2: key 130 = 0x82 0x01.
    expect(bytes(createProtoWriter().bytes(16, Uint8Array.of(7)))).toEqual([0x82, 0x01, 0x01, 0x07]);
    // Fields in the order written.
    expect(bytes(createProtoWriter().int64(2, 3).string(3, 'a'))).toEqual([0x10, 0x03, 0x1a, 0x01, 0x61]);
  });

  it('refuses values it cannot encode exactly', () => {
    expect(() => createProtoWriter().int64(2, 1.5)).toThrow(RangeError);
    expect(() => createProtoWriter().int64(2, 2 ** 60)).toThrow(/not a safe integer/);
    expect(() => createProtoWriter().int64(0, 1)).toThrow(/field number 0/);
  });
});
