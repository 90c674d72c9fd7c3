import { describe, expect, it } from 'vitest';
import { coversIds, createUidAllocator, NOBODY, parseIdMap, SANDBOX_UID_BASE, SANDBOX_UID_COUNT } from './sandbox-uid.js';

describe('parseIdMap', () => {
  it('reads the kernel format and skips junk', () => {
    const text = '         0          0 4294967295\n    100000     200000      65536\nbad line\n 5 5 0\n';
    expect(parseIdMap(text)).toEqual([
      { inside: 0, outside: 0, count: 4294967295 },
      { inside: 100000, outside: 200000, count: 65536 },
    ]);
  });
});

describe('coversIds', () => {
  const ranges = parseIdMap('0 1000 10\n10 5000 5\n20 9000 5');
  it('follows adjacent ranges and stops at gaps', () => {
    expect(coversIds(ranges, 0, 15)).toBe(true); // 0..9 and 10..14
    expect(coversIds(ranges, 3, 12)).toBe(true);
    expect(coversIds(ranges, 0, 16)).toBe(false); // 15 is unmapped
    expect(coversIds(ranges, 20, 5)).toBe(true);
    expect(coversIds(ranges, 24, 2)).toBe(false);
    expect(coversIds(ranges, 15, 1)).toBe(false);
  });
});

describe('createUidAllocator', () => {
  it('hands out distinct private uids on a full-range host, wrapping inside the block', () => {
    const full = parseIdMap('0 0 4294967295');
    const uids = createUidAllocator({ uidMap: full, gidMap: full, start: SANDBOX_UID_COUNT - 2 });
    expect([uids.next(), uids.next(), uids.next()]).toEqual([SANDBOX_UID_BASE + SANDBOX_UID_COUNT - 1, SANDBOX_UID_BASE, SANDBOX_UID_BASE + 1]);
  });

  it('falls back to nobody in a container with a 65536-id map, and to none without it', () => {
    const small = parseIdMap('0 100000 65536');
    expect(createUidAllocator({ uidMap: small, gidMap: small }).next()).toBe(NOBODY);
    const tiny = parseIdMap('0 1000 1');
    expect(createUidAllocator({ uidMap: tiny, gidMap: tiny }).next()).toBe(-1);
  });
});
