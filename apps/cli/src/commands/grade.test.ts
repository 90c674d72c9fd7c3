import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createGradeCommand, parsePairs } from './grade.js';
import { expectMasaError } from '../test-support/expect-masa-error.js';

const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-grade-'));

async function run(args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const command = createGradeCommand({ stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) }, cwd });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return { out, err };
}

function failure(args: string[]): Promise<MasaError> {
  return expectMasaError(run(args));
}

describe('masa grade', () => {
  it('prints the verdict and the rule that decided it', async () => {
    const { out } = await run(['--gold', '\\frac{1}{2}', '--pred', '0.5', '--workers', '1']);
    expect(out).toMatch(/^equal — rule number-exact \(the same exact number\) \[math, correct, [\d.]+ ms\]\n$/);
    const different = await run(['--gold', '12345', '--pred', '12346', '--workers', '1']);
    expect(different.out).toMatch(/^not equal — rule number-mismatch \(different numbers\)/);
  });

  it('--json prints {"equal", "reason", "ms"} per line, and --mode masa-parity reproduces the reference', async () => {
    const { out } = await run(['--gold', '12345', '--pred', '12346', '--mode', 'masa-parity', '--json', '--workers', '1']);
    const line = JSON.parse(out) as { equal: boolean; reason: string; ms: number; status: string };
    expect(line).toMatchObject({ equal: true, reason: 'parity-2-numeric-ref', status: 'ok' });
    expect(typeof line.ms).toBe('number');
  });

  it('grades a JSONL file of pairs, one verdict per line, with kinds', async () => {
    const file = join(cwd, 'pairs.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ gold: '(3,4]', pred: '(3,4)' }),
        '',
        JSON.stringify({ gold: 'x \\le 3', pred: '(-\\infty, 3]' }),
        JSON.stringify({ gold: 'C', pred: 'The answer is (C).', kind: 'choice' }),
        JSON.stringify({ gold: '25', pred: '2500', mode: 'masa-parity' }),
      ].join('\n'),
    );
    const { out, err } = await run(['--pairs', 'pairs.jsonl', '--json', '--workers', '1']);
    const lines = out
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { equal: boolean; reason: string; line: number });
    expect(lines.map((line) => [line.line, line.equal])).toEqual([
      [1, false],
      [3, true],
      [4, true],
      [5, true],
    ]);
    expect(lines[0]?.reason).toBe('pair-or-interval-brackets');
    expect(lines[1]?.reason).toBe('inequality-as-interval');
    expect(err).toContain('4 pair(s): 3 equal, 1 not equal');
  });

  it('names the file and line of a malformed pair', async () => {
    const file = join(cwd, 'bad.jsonl');
    writeFileSync(file, `${JSON.stringify({ gold: '1', pred: '1' })}\n{"gold": 1, "pred": "1"}\n`);
    const error = await failure(['--pairs', file]);
    expect(error.code).toBe('ARGUMENT_INVALID');
    expect(error.message).toContain('bad.jsonl:2');
    expect(() => parsePairs('not json', 'p.jsonl', { kind: 'math', mode: 'correct' })).toThrow(/p\.jsonl:1: not valid JSON/);
    expect(() => parsePairs('{"gold":"1","pred":"2","kind":"essay"}', 'p.jsonl', { kind: 'math', mode: 'correct' })).toThrow(/--kind must be one of/);
  });

  it('asks for --gold and --pred, or --pairs', async () => {
    expect((await failure(['--gold', '1'])).message).toContain('pass --gold and --pred');
    expect((await failure(['--pairs', 'x.jsonl', '--gold', '1', '--pred', '1'])).message).toContain('not both');
    expect((await failure(['--pairs', 'missing.jsonl'])).code).toBe('FILE_NOT_FOUND');
  });
});
