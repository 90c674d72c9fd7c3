import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createDataCommand } from './data.js';
import { expectMasaError } from '../test-support/expect-masa-error.js';

const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-data-'));

async function run(args: string[], extra: { fetch?: typeof fetch; env?: Record<string, string> } = {}): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const command = createDataCommand({
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: extra.env ?? {},
    ...(extra.fetch === undefined ? {} : { _internal: { fetch: extra.fetch } }),
  });
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return { out, err };
}

function failure(args: string[], extra: { fetch?: typeof fetch } = {}): Promise<MasaError> {
  return expectMasaError(run(args, extra));
}

describe('masa data list', () => {
  it('prints a table with name, domain, rows, answer kind and license', async () => {
    const { out } = await run(['list']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+domain\s+rows\s+answer\s+license\s+aliases$/);
    expect(lines.find((line) => line.startsWith('math500 '))).toMatch(/^math500\s+math\s+500\s+math\s+MIT\b/);
    expect(lines.find((line) => line.startsWith('arc_challenge '))).toMatch(/science\s+1172\s+choice\s+CC BY-SA 4\.0/);
    expect(lines.find((line) => line.startsWith('gpqa_diamond '))).toContain('not bundled');
  });

  it('--json prints one dataset per line', async () => {
    const { out } = await run(['list', '--json']);
    const infos = out.trim().split('\n').map((line) => JSON.parse(line) as { name: string; rows: number | null });
    expect(infos.find((info) => info.name === 'mbpp')?.rows).toBe(500);
  });
});

describe('masa data show', () => {
  it('shows problems and the prompt (parity vs default) for an alias', async () => {
    const { out } = await run(['show', 'aime24', '--limit', '1', '--prompt']);
    expect(out).toContain('aime2024: AIME 2024 · math · 30 problems');
    expect(out).toContain('[1/1] 60');
    expect(out).toContain('answer: 204');
    expect(out).toContain("coffee shop. Let's think step by step and output the final answer within \\boxed{}.\n--- end of prompt ---");
    const parity = await run(['show', 'aime2024', '--limit', '1', '--prompt', '--parity', '--json']);
    const row = JSON.parse(parity.out.trim()) as { problem: { id: string }; prompt: { role: string; content: string }[] };
    expect(row.problem.id).toBe('60');
    expect(row.prompt[0]?.content.endsWith('including the $t$ minutes spent in the coffee shop.')).toBe(true);
  });

  it('defaults to 3 problems and rejects a bad --limit and an unknown name', async () => {
    const { out } = await run(['show', 'folio', '--json']);
    expect(out.trim().split('\n')).toHaveLength(3);
    expect((await failure(['show', 'folio', '--limit', 'x'])).code).toBe('ARGUMENT_INVALID');
    const unknown = await failure(['show', 'foilo']);
    expect(unknown.code).toBe('DATASET_NOT_FOUND');
    expect(unknown.message).toContain('Did you mean "folio"?');
  });

  it('reads the GPQA CSV given with --gpqa-csv (relative to the working directory)', async () => {
    writeFileSync(
      join(cwd, 'gpqa.csv'),
      'Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Record ID\n"Which, truly?",yes,no1,no2,no3,recA\n',
    );
    const { out } = await run(['show', 'gpqa_diamond', '--gpqa-csv', 'gpqa.csv', '--parity', '--json']);
    expect(JSON.parse(out.trim())).toMatchObject({ id: 'recA', answer: 'D', choices: [{ text: 'no2' }, { text: 'no1' }, { text: 'no3' }, { text: 'yes' }] });
    const { err } = await run(['prepare', '--gpqa-csv', 'gpqa.csv', '--output', 'gpqa.jsonl']);
    expect(err).toContain('per-question shuffle');
    const prepared = JSON.parse(readFileSync(join(cwd, 'gpqa.jsonl'), 'utf8').trim()) as { id: string; answer: string; choices: { label: string; text: string }[] };
    expect(prepared.id).toBe('recA');
    expect(prepared.choices.find((choice) => choice.label === prepared.answer)?.text).toBe('yes');
  });
});

describe('masa data prepare', () => {
  it('converts a local file and writes JSONL to --output', async () => {
    writeFileSync(join(cwd, 'mine.jsonl'), '{"q":"What is $1+1$?","a":"2"}\n{"q":"And $2+2$?","a":"4"}\n');
    const { err } = await run(['prepare', '--input', 'mine.jsonl', '--question-field', 'q', '--answer-field', 'a', '--output', 'out/mine.jsonl']);
    expect(err).toContain('wrote 2 problems');
    expect(readFileSync(join(cwd, 'out', 'mine.jsonl'), 'utf8')).toBe(
      '{"id":"0","question":"What is $1+1$?","answer":"2"}\n{"id":"1","question":"And $2+2$?","answer":"4"}\n',
    );
  });

  it('rejects a file with a missing field, naming the line and the field (acceptance: issue 2)', async () => {
    writeFileSync(join(cwd, 'broken.jsonl'), '{"question":"a","answer":"1"}\n{"question":"b"}\n{"answer":"3"}\n');
    const error = await failure(['prepare', '--input', 'broken.jsonl', '--output', 'broken-out.jsonl']);
    expect(error.code).toBe('DATASET_INVALID');
    expect(error.message).toContain('line 2: field "answer": is missing');
    expect(error.message).toContain('line 3: field "question": is missing');
    expect(() => readFileSync(join(cwd, 'broken-out.jsonl'))).toThrow();
  });

  it('prints every issue when there are more than the message shows', async () => {
    writeFileSync(join(cwd, 'many.jsonl'), Array.from({ length: 60 }, (_, index) => `{"question":"q${index}"}`).join('\n'));
    let err = '';
    const command = createDataCommand({ stdout: { write: () => true }, stderr: { write: (text: string) => (err += text) }, cwd, env: {} });
    await expect(command.parseAsync(['prepare', '--input', 'many.jsonl', '--output', 'x.jsonl'], { from: 'user' })).rejects.toThrow('and 10 more');
    expect(err.split('\n').filter((line) => line.includes('field "answer": is missing'))).toHaveLength(60);
  });

  it('uses the DeepScaleR preset with the Hub (offline fetch) and reports a network failure', async () => {
    const json = new TextEncoder().encode(JSON.stringify([{ problem: 'P1', answer: '1', solution: 's' }]));
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (url.pathname.startsWith('/api/datasets/')) return new Response(JSON.stringify([{ type: 'file', path: 'deepscaler.json', size: json.length }]));
      const range = new Headers(init?.headers).get('Range');
      if (range === 'bytes=0-0') return new Response(json.slice(0, 1), { status: 206, headers: { 'Content-Range': `bytes 0-0/${json.length}`, ETag: '"e"' } });
      return new Response(json, { headers: { ETag: '"e"' } });
    }) as typeof globalThis.fetch;
    const { err } = await run(['prepare', '--preset', 'deepscaler', '--output', 'deepscaler.jsonl'], { fetch });
    expect(err).toContain('downloading agentica-org/DeepScaleR-Preview-Dataset split train');
    expect(readFileSync(join(cwd, 'deepscaler.jsonl'), 'utf8')).toBe('{"id":"0","question":"P1","answer":"1","meta":{"solution":"s"}}\n');
    const shown = await run(['show', 'deepscaler', '--file', 'deepscaler.jsonl', '--prompt', '--json']);
    expect(JSON.parse(shown.out.trim()).prompt[0].content).toBe("P1 Let's think step by step and output the final answer within \\boxed{}.");

    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    const error = await failure(['prepare', '--hf', 'R-Bench/R-Bench', '--preset', 'rbench', '--output', 'rbench.jsonl'], { fetch: offline });
    expect(error.code).toBe('NETWORK_UNAVAILABLE');
    expect(error.message).toContain('--input FILE');
  });

  it('checks its arguments', async () => {
    expect((await failure(['prepare', '--output', 'x.jsonl'])).message).toContain('--input FILE');
    expect((await failure(['prepare', '--input', 'a.jsonl', '--hf', 'a/b', '--output', 'x.jsonl'])).code).toBe('ARGUMENT_INVALID');
    expect((await failure(['prepare', '--input', 'mine.jsonl', '--output', 'x.csv'])).message).toContain('.jsonl');
  });
});

describe('masa data verify', () => {
  it('checks every bundled file', async () => {
    const { out } = await run(['verify']);
    expect(out).toMatch(/^ok {4}math500\.jsonl {2}500 rows$/m);
    expect(out).not.toContain('FAIL');
  });

  it('uses MASA_DATASETS_DIR and fails clearly when it is wrong', async () => {
    const error = await (async () => {
      try {
        await run(['list'], { env: { MASA_DATASETS_DIR: cwd } });
      } catch (caught: unknown) {
        return caught;
      }
      return undefined;
    })();
    expect(MasaError.hasCode(error, 'FILE_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('MASA_DATASETS_DIR');
  });
});
