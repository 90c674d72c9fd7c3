import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.mjs';
import { benchmarkJson, jsonObjects, runChild, tailLines } from './child.mjs';

describe('benchmark output', () => {
  it('keeps only the JSON object lines', () => {
    const stdout = 'model tiny: 2.2M\n{"a":1}\n{not json\n[1,2]\n  {"b":2}  \n';
    expect(jsonObjects(stdout)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(benchmarkJson('{"a":1}\n')).toEqual({ a: 1 });
    expect(benchmarkJson('{"a":1}\n{"a":2}\n')).toEqual({ rows: [{ a: 1 }, { a: 2 }] });
    expect(benchmarkJson('no json here\n')).toBeUndefined();
  });

  it('tailLines keeps the last non-empty lines', () => {
    expect(tailLines('a\n\nb\nc\n\n', 2)).toBe('b | c');
  });
});

describe('runChild', () => {
  it('returns stdout, the exit status and the stderr tail', async () => {
    const lines: string[] = [];
    const result = await runChild({
      command: process.execPath,
      args: ['-e', 'console.log(JSON.stringify({ x: 3 })); console.error("progress 1"); process.exitCode = 3'],
      cwd: process.cwd(),
      timeoutMs: 20_000,
      onStderrLine: (line) => lines.push(line),
    });
    expect(result.status).toBe(3);
    expect(result.timedOut).toBe(false);
    expect(benchmarkJson(result.stdout)).toEqual({ x: 3 });
    expect(result.stderrTail).toContain('progress 1');
    expect(lines).toEqual(['progress 1']);
  });

  it('kills a child that runs past its deadline', async () => {
    const result = await runChild({ command: process.execPath, args: ['-e', 'setTimeout(() => {}, 30000)'], cwd: process.cwd(), timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.status).toBeNull();
    expect(result.ms).toBeLessThan(20_000);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary file behind', () => {
    const folder = mkdtempSync(join(tmpdir(), 'masa-bench-atomic-'));
    const path = join(folder, 'sub', 'RESULTS.md');
    writeFileAtomic(path, 'first\n');
    writeFileAtomic(path, 'second\n');
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    expect(readdirSync(join(folder, 'sub'))).toEqual(['RESULTS.md']);
  });
});
