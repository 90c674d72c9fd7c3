import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** One line of `/proc/self/uid_map`: ids `[inside, inside + count)` exist in this namespace. */
export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

/** Parses `/proc/<pid>/uid_map` or `gid_map` text. Malformed lines are skipped. */
export function parseIdMap(text: string): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3) continue;
    const [inside, outside, count] = fields.map(Number) as [number, number, number];
    if ([inside, outside, count].every((n) => Number.isSafeInteger(n) && n >= 0) && count > 0) {
      ranges.push({ inside, outside, count });
    }
  }
  return ranges;
}

/** Are all ids in `[first, first + count)` mapped? (Ranges in a map never overlap.) */
export function coversIds(ranges: readonly IdRange[], first: number, count: number): boolean {
  let next = first;
  const end = first + count;
  const sorted = [...ranges].sort((a, b) => a.inside - b.inside);
  for (const range of sorted) {
    if (range.inside <= next && next < range.inside + range.count) next = range.inside + range.count;
    if (next >= end) return true;
  }
  return next >= end;
}

/**
 * Per-run uids for root callers come from this block. RLIMIT_NPROC counts
 * processes per uid, so each run gets its own uid: a fork bomb in one run
 * cannot use up another run's budget, and leftovers are found by uid.
 * 1.6e9 is far above login and container sub-uid ranges (100000–165535…).
 */
export const SANDBOX_UID_BASE = 1_600_000_000;
export const SANDBOX_UID_COUNT = 1 << 20;
/** The `nobody` uid, shared by concurrent runs, used when the private block is not mapped. */
export const NOBODY = 65534;

/** Picks uids for one run. */
export interface UidAllocator {
  /** A uid (and equal gid) for the next run, or -1 when no unprivileged id exists here. */
  next(): number;
}

/**
 * Chooses the uid block from the namespace's id maps: the private block when
 * it is mapped (a full-range root host), else `nobody`, else none.
 * `start` is the first offset into the block (random by default).
 */
export function createUidAllocator(options: { uidMap: readonly IdRange[]; gidMap: readonly IdRange[]; start?: number }): UidAllocator {
  const { uidMap, gidMap } = options;
  if (coversIds(uidMap, SANDBOX_UID_BASE, SANDBOX_UID_COUNT) && coversIds(gidMap, SANDBOX_UID_BASE, SANDBOX_UID_COUNT)) {
    let offset = (options.start ?? randomInt(SANDBOX_UID_COUNT)) % SANDBOX_UID_COUNT;
    return {
      next: () => {
        offset = (offset + 1) % SANDBOX_UID_COUNT;
        return SANDBOX_UID_BASE + offset;
      },
    };
  }
  if (coversIds(uidMap, NOBODY, 1) && coversIds(gidMap, NOBODY, 1)) return { next: () => NOBODY };
  return { next: () => -1 };
}

/** Reads this process's id maps (identity maps when /proc is unavailable). */
export async function readIdMaps(): Promise<{ uidMap: IdRange[]; gidMap: IdRange[] }> {
  const read = async (name: string): Promise<IdRange[]> => {
    try {
      return parseIdMap(await readFile(`/proc/self/${name}`, 'utf8'));
    } catch {
      return [{ inside: 0, outside: 0, count: 2 ** 32 - 1 }];
    }
  };
  return { uidMap: await read('uid_map'), gidMap: await read('gid_map') };
}
