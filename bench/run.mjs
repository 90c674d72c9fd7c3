#!/usr/bin/env node
// `pnpm bench`: runs every benchmark under bench/ several times and writes
// bench/RESULTS.md (atomically) with the machine, the date, and each figure as
// a ratio against its anchor measured in the same run (medians with their
// range over the runs). See bench/README.md.
//
//   pnpm bench [--quick] [--only roofline,grading,train-step,model-memory,rollout]
//              [--repeat N] [--device cpu|cuda] [--out FILE] [--no-build] [--no-setup]
//
// Each benchmark runs as its own child process (with --json); a benchmark that
// cannot run is listed as "not run" with the reason, never left out silently.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, UsageError, USAGE } from './lib/args.mjs';
import { writeFileAtomic } from './lib/atomic-write.mjs';
import { BENCHMARKS } from './lib/benchmarks.mjs';
import { benchmarkJson, killRunningChildren, runChild, tailLines } from './lib/child.mjs';
import { describeMachine, findTorch, loadAverage } from './lib/machine.mjs';
import { formatNumber, renderResults, summarizeVariant } from './lib/report.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (/** @type {string} */ line) => process.stderr.write(`bench: ${line}\n`);

let args;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

process.on('SIGINT', () => {
  killRunningChildren();
  log('interrupted: nothing written');
  process.exit(130);
});

const startedAt = new Date();
const loadStart = loadAverage();
const invokedThroughPnpm = process.env['npm_lifecycle_event'] === 'bench';
const command = `${invokedThroughPnpm ? 'pnpm bench' : 'node bench/run.mjs'}${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const outPath = args.out === undefined ? join(root, 'bench', 'RESULTS.md') : isAbsolute(args.out) ? args.out : resolve(process.env['INIT_CWD'] ?? process.cwd(), args.out);
const readText = (/** @type {string} */ path) => {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return '';
  }
};

// ---- Which benchmarks run on this device.
/** @type {import('./lib/report.mjs').BenchmarkRecord[]} */
const records = [];
/** @type {typeof BENCHMARKS[number][]} */
const selected = [];
for (const benchmark of BENCHMARKS) {
  const base = { name: benchmark.name, title: benchmark.title, what: benchmark.what, variants: [] };
  if (!args.only.includes(benchmark.name)) {
    records.push({ ...base, status: 'skipped', reason: `not selected (--only ${args.only.join(',')})` });
  } else if (!benchmark.devices.includes(args.device)) {
    records.push({ ...base, status: 'skipped', reason: `runs on the CPU only; this run is --device ${args.device}` });
  } else {
    records.push({ ...base, status: 'ran' });
    selected.push(benchmark);
  }
}
const recordOf = (/** @type {string} */ name) => /** @type {import('./lib/report.mjs').BenchmarkRecord} */ (records.find((record) => record.name === name));
const skip = (/** @type {string} */ name, /** @type {string} */ reason) => {
  const record = recordOf(name);
  record.status = 'skipped';
  record.reason = reason;
  log(`${name}: not run — ${reason}`);
};

// ---- Build what the benchmarks import.
/** @type {import('./lib/report.mjs').RunRecordFile['build']} */
let build;
const packages = [...new Set(selected.flatMap((benchmark) => benchmark.packages))];
if (!args.build) build = { status: 'not built', detail: '--no-build: used each package\'s dist/ as it was' };
else if (packages.length === 0) build = { status: 'not built', detail: 'no benchmark needs a package' };
else {
  log(`building ${packages.join(', ')} (turbo, errors only) …`);
  const result = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', ...packages.map((name) => `--filter=${name}`), '--output-logs=errors-only'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    timeout: 900_000,
  });
  build =
    result.status === 0
      ? { status: 'built', detail: `${packages.join(', ')} built through turbo before the run` }
      : {
          status: 'build failed',
          detail: `\`pnpm exec turbo run build\` for ${packages.join(', ')} failed (${tailLines(`${result.stdout ?? ''}\n${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`, 2)}); the benchmarks used the existing dist/ folders`,
        };
  if (result.status !== 0) log(`build failed; going on with the existing dist/ folders: ${build.detail}`);
}
for (const benchmark of [...selected]) {
  const missing = benchmark.requires.filter((path) => !existsSync(join(root, path)));
  if (missing.length > 0) {
    const hint = missing.some((path) => path.includes('/dist/')) ? `: build with ${benchmark.packages.map((name) => `pnpm --filter ${name} build`).join(' && ')}` : '';
    skip(benchmark.name, `missing ${missing.join(', ')}${hint}`);
    selected.splice(selected.indexOf(benchmark), 1);
  }
}

// ---- Anchors that need installing (PyTorch for the training step).
/** @type {import('./lib/report.mjs').SetupRecord[]} */
const setup = [];
let torch;
let torchSkipped;
if (selected.some((benchmark) => benchmark.name === 'train-step')) {
  if (args.setup) {
    log('checking the PyTorch anchor (bench/train-step/setup.sh; installs python3-torch with apt when missing) …');
    const result = spawnSync('bash', [join(root, 'bench', 'train-step', 'setup.sh')], { cwd: root, encoding: 'utf8', timeout: 1_800_000 });
    torch = findTorch();
    const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
    if (result.status === 0 && torch) {
      setup.push({ name: 'PyTorch', status: output.includes('installing') ? 'installed' : 'present', detail: tailLines(result.stdout ?? '', 1) });
    } else {
      torchSkipped = `bench/train-step/setup.sh failed (${tailLines(output, 2) || `exit ${result.status}`}); install PyTorch by hand (apt-get install python3-torch libopenblas0-pthread) and rerun`;
      torch = undefined;
      setup.push({ name: 'PyTorch', status: 'unavailable', detail: torchSkipped });
    }
  } else {
    torch = findTorch();
    if (torch) setup.push({ name: 'PyTorch', status: 'present', detail: `${torch.version} at ${torch.python} (--no-setup: not checked by setup.sh)` });
    else {
      torchSkipped = '--no-setup and no python3 imports torch: run bash bench/train-step/setup.sh';
      setup.push({ name: 'PyTorch', status: 'unavailable', detail: torchSkipped });
    }
  }
  if (torch && args.device === 'cuda' && !torch.cuda) {
    setup.push({ name: 'PyTorch on CUDA', status: 'unavailable', detail: 'this PyTorch cannot use CUDA (torch.cuda.is_available() is False): the anchor runs on the CPU' });
  }
} else {
  setup.push({ name: 'PyTorch', status: 'not needed', detail: 'train-step not run' });
}
if (torchSkipped) log(`PyTorch anchor unavailable: ${torchSkipped}`);

const machine = describeMachine(root);
/** @type {import('./lib/benchmarks.mjs').Context} */
const context = { root, quick: args.quick, device: args.device, torch, torchSkipped, readText };

/**
 * Ceilings measured right after a run, for the working sets it asks for.
 * @param {import('./lib/benchmarks.mjs').CeilingRequest} request
 */
async function measureCeilings(request) {
  const probeArgs = [join(root, 'bench', 'lib', 'roofline.mjs'), '--bytes', request.bytes.join(','), '--reps', args.quick ? '3' : '5', '--json'];
  if (request.gemm !== undefined) probeArgs.push('--gemm', String(request.gemm));
  const result = await runChild({ command: process.execPath, args: probeArgs, cwd: root, timeoutMs: 120_000 });
  const json = benchmarkJson(result.stdout);
  if (result.status !== 0 || json === undefined) {
    log(`ceiling probe failed: ${tailLines(result.stderrTail, 2)}`);
    return undefined;
  }
  return /** @type {import('./lib/benchmarks.mjs').Ceilings} */ (json);
}

// ---- Run.
let failures = 0;
for (const benchmark of selected) {
  const record = recordOf(benchmark.name);
  const variants = benchmark.variants(context);
  if (!Array.isArray(variants)) {
    skip(benchmark.name, variants.skip);
    continue;
  }
  const repeat = args.repeat ?? (args.quick ? benchmark.repeat.quick : benchmark.repeat.full);
  for (const variant of variants) {
    /** @type {import('./lib/report.mjs').VariantRecord} */
    const variantRecord = { id: variant.id, label: variant.label, command: `node ${variant.script} ${variant.args.join(' ')}`, runs: [] };
    record.variants.push(variantRecord);
    for (let run = 1; run <= repeat; run++) {
      log(`${variant.id}: run ${run}/${repeat} …`);
      const result = await runChild({
        command: process.execPath,
        args: [join(root, variant.script), ...variant.args],
        cwd: root,
        env: { ...process.env, ...variant.env },
        timeoutMs: variant.timeoutMs,
      });
      const json = benchmarkJson(result.stdout);
      if (result.status !== 0 || json === undefined) {
        const why = result.timedOut
          ? `timed out after ${formatNumber(variant.timeoutMs / 1000)} s`
          : result.status !== 0
            ? `exit ${result.status ?? result.signal}`
            : 'printed no JSON result';
        variantRecord.runs.push({ ok: false, ms: result.ms, error: `${why}: ${tailLines(result.stderrTail, 3) || '(no output)'}` });
        log(`${variant.id}: run ${run} failed (${why})`);
        continue;
      }
      // The probes measure the CPU and host memory: no roofline for a GPU run (the figures say so).
      const request = args.device === 'cpu' ? benchmark.ceilings?.(json) : undefined;
      const ceilings = request === undefined ? undefined : await measureCeilings(request);
      try {
        const { figures, checks } = benchmark.figures(json, context, ceilings);
        if (figures.length === 0) throw new Error('no figures found in its output (has its --json format changed?)');
        variantRecord.runs.push({ ok: true, ms: result.ms, figures, checks, ...(ceilings ? { ceilings } : {}) });
        const headline = figures.filter((figure) => figure.headline);
        log(
          `${variant.id}: run ${run} ok in ${formatNumber(result.ms / 1000)} s — ${headline
            .map((figure) => `${figure.label} ${formatNumber(figure.value)} ${figure.unit}${figure.anchor ? ` = ${formatNumber(figure.value / figure.anchor.value)}× anchor` : ''}`)
            .join('; ')}`,
        );
      } catch (error) {
        variantRecord.runs.push({ ok: false, ms: result.ms, error: `output not understood: ${error instanceof Error ? error.message : String(error)}` });
        log(`${variant.id}: run ${run} output not understood`);
      }
    }
    if (variantRecord.runs.every((run) => !run.ok)) failures++;
  }
}

// ---- Write.
/** @type {import('./lib/report.mjs').RunRecordFile} */
const runRecord = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  command,
  quick: args.quick,
  device: args.device,
  machine,
  loadStart,
  loadEnd: loadAverage(),
  build,
  setup,
  benchmarks: records,
};
writeFileAtomic(outPath, renderResults(runRecord));
writeFileAtomic(join(root, 'bench', '.out', `results-${args.device}${args.quick ? '-quick' : ''}.json`), `${JSON.stringify(runRecord, null, 2)}\n`);

const shown = relative(process.cwd(), outPath);
const lines = [`wrote ${shown.startsWith('..') || shown === '' ? outPath : shown}${args.quick ? ' (quick run)' : ''}`];
for (const record of records) {
  if (record.status === 'skipped') {
    if (args.only.includes(record.name)) lines.push(`  ${record.name}: not run — ${record.reason}`);
    continue;
  }
  for (const variant of record.variants) {
    for (const figure of summarizeVariant(variant)) {
      if (!figure.headline) continue;
      const ratio = figure.anchor ? ` → ${formatNumber(figure.anchor.ratio.median)}× ${figure.anchor.label}` : figure.anchorSkipped ? ` (anchor skipped: ${figure.anchorSkipped})` : '';
      lines.push(`  ${variant.id}: ${figure.label} ${formatNumber(figure.value.median)} ${figure.unit}${ratio}`);
    }
    const failed = variant.runs.filter((run) => !run.ok).length;
    if (failed > 0) lines.push(`  ${variant.id}: ${failed} of ${variant.runs.length} run(s) FAILED (see the file)`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = failures > 0 ? 1 : 0;
