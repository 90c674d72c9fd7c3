import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { referenceCrc32c, referenceMask } from './__tests__/tfrecord-reader.js';
import { crc32c, maskCrc32c, maskedCrc32c } from './crc32c.js';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));

describe('crc32c', () => {
  it('matches the published CRC-32C check values', () => {
    // The standard check value of CRC-32C.
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI), appendix B.4.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, index) => index))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, index) => 31 - index))).toBe(0x113fdb5c);
  });

  it('masks like TFRecord: the checksum of a real TensorFlow file_version record', () => {
    // Event(file_version="CRC test, one two") as TensorFlow wrote it; masked CRC read from that file.
    expect(maskedCrc32c(ascii('\x1a\x11CRC test, one two'))).toBe(0x5794d08a);
    // RFC 3720's all-zero vector, masked by hand: rotr15(0x8A9136AA) = 0x11522 | (0x36AA << 17 = 0x6D540000) = 0x6D551522; + 0xA282EAD8 = 0x0FD7FFFA (mod 2^32).
    expect(maskCrc32c(0x8a9136aa)).toBe(0x0fd7fffa);
  });

  it('agrees with a bit-at-a-time reference on seeded random buffers', () => {
    const rng = createRng('crc32c');
    for (let trial = 0; trial < 40; trial += 1) {
      const bytes = Uint8Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255));
      const crc = crc32c(bytes);
      expect(crc).toBe(referenceCrc32c(bytes));
      expect(maskCrc32c(crc)).toBe(referenceMask(crc));
    }
  });
});
