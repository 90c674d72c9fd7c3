import { join } from 'node:path';
import { PAPER_CLAIMS_BUDGETS, type PaperClaimsOutcome, type RunPaperClaimsOptions } from '@masa-rl/experiments';
import { describe, expect, it } from 'vitest';
import { expectMasaError } from '../test-support/expect-masa-error.js';
import { createExperimentCommand } from './experiment.js';

async function run(args: string[]): Promise<{ out: string; err: string; calls: RunPaperClaimsOptions[] }> {
  let out = '';
  let err = '';
  const calls: RunPaperClaimsOptions[] = [];
  const command = createExperimentCommand({
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd: '/work/here',
    _internal: {
      signal: new AbortController().signal,
      repoRoot: '/repo',
      run: async (options) => {
        calls.push(options);
        options.log?.('run 1/1: grpo-s1');
        const outcome: Pick<PaperClaimsOutcome, 'ran' | 'reused' | 'files'> & { analysis: { claims: Array<{ claim: string; verdict: string }> } } = {
          ran: ['grpo-s1'],
          reused: ['dapo-s1', 'masa-s1'],
          files: [],
          analysis: { claims: [{ claim: 'MASA beats GRPO in accuracy (same steps).', verdict: 'not resolved' }] },
        };
        return outcome as unknown as PaperClaimsOutcome;
      },
    },
  });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return { out, err, calls };
}

describe('masa experiment', () => {
  it('paper-claims runs the full budget into docs/experiments/ of the repository and prints the verdicts', async () => {
    const { out, err, calls } = await run(['paper-claims']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      budget: PAPER_CLAIMS_BUDGETS.full,
      repoRoot: '/repo',
      logDir: join('/repo', 'docs/experiments/paper-claims', 'log'),
      figuresDir: join('/repo', 'docs/experiments/paper-claims'),
      reportPath: join('/repo', 'docs/experiments/paper-claims.md'),
      fresh: false,
      reportOnly: false,
      command: 'pnpm masa experiment paper-claims',
    });
    expect(out).toContain('1 run(s) done now, 2 from the log');
    expect(out).toContain('not resolved   MASA beats GRPO in accuracy');
    expect(err).toMatch(/\[0\.0 min\] run 1\/1: grpo-s1/);
  });

  it('--quick writes under runs/ unless told otherwise; --out and --report are relative to the working folder', async () => {
    const quick = await run(['paper-claims', '--quick', '--fresh']);
    expect(quick.calls[0]).toMatchObject({ budget: PAPER_CLAIMS_BUDGETS.quick, reportPath: join('/repo', 'runs/experiments/paper-claims-quick.md'), fresh: true });
    const moved = await run(['paper-claims', '--out', 'mine', '--report', 'r/claims.md', '--report-only']);
    expect(moved.calls[0]).toMatchObject({ logDir: join('/work/here', 'mine', 'log'), reportPath: join('/work/here', 'r/claims.md'), reportOnly: true });
  });

  it('names the experiments it knows when given another', async () => {
    const error = await expectMasaError(run(['paper-claim']));
    expect(error.code).toBe('ARGUMENT_INVALID');
    expect(error.message).toContain('masa experiment paper-claims');
  });
});
