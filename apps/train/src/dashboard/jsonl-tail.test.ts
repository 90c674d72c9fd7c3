import { appendFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../__tests__/fake-run.js';
import { createJsonlTail } from './jsonl-tail.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('createJsonlTail', () => {
  it('returns complete new lines, holds a partial line (even a split UTF-8 character) until its newline', () => {
    const dir = tempDir('tail');
    dirs.push(dir);
    const path = join(dir, 'metrics.jsonl');
    const tail = createJsonlTail(path);
    expect(tail.poll()).toEqual({ reset: false, records: [] }); // missing file
    writeFileSync(path, '{"step":1,"a":1}\n{"step":2,');
    expect(tail.poll()).toEqual({ reset: false, records: [{ step: 1, a: 1 }] });
    const euro = Buffer.from('"é"}\n', 'utf8'); // é is two bytes
    appendFileSync(path, Buffer.concat([Buffer.from('"t":'), euro.subarray(0, 2)]));
    expect(tail.poll().records).toEqual([]);
    appendFileSync(path, euro.subarray(2));
    expect(tail.poll()).toEqual({ reset: false, records: [{ step: 2, t: 'é' }] });
    appendFileSync(path, 'not json\n[1,2]\n{"step":3}\n');
    expect(tail.poll().records).toEqual([{ step: 3 }]);
    expect(tail.poll()).toEqual({ reset: false, records: [] });
  });

  it('starts over with reset when the file shrinks or is replaced (a resumed run rewrites it)', () => {
    const dir = tempDir('tail');
    dirs.push(dir);
    const path = join(dir, 'metrics.jsonl');
    writeFileSync(path, '{"step":1}\n{"step":2}\n');
    const tail = createJsonlTail(path);
    expect(tail.poll().records).toHaveLength(2);
    truncateSync(path, 0);
    appendFileSync(path, '{"step":1}\n');
    expect(tail.poll()).toEqual({ reset: true, records: [{ step: 1 }] });
    // Atomic rewrite: temp file + rename gives a new inode, possibly of the same size.
    writeFileSync(join(dir, 'tmp'), '{"step":9}\n');
    renameSync(join(dir, 'tmp'), path);
    expect(tail.poll()).toEqual({ reset: true, records: [{ step: 9 }] });
    rmSync(path);
    expect(tail.poll()).toEqual({ reset: true, records: [] });
  });
});
