// The benchmarks `pnpm bench` runs: how to call each script, and how to turn
// its JSON into figures, each with the anchor it is compared against.
//
// A figure's anchor is measured in the same run wherever one exists (PyTorch's
// step time, transformers.js' tokens/s, the bandwidth and GEMM ceilings
// measured next to the run, the size of one weight copy). Where the anchor is a
// fixed number (the grading target, the reference ceilings of
// shared/docs/ENVIRONMENT.md) its `source` says so.

import { availableParallelism } from 'node:os';

/**
 * @typedef {'same run' | 'target' | 'reference'} AnchorSource
 * @typedef {{ label: string, value: number, unit: string, source: AnchorSource }} Anchor
 * @typedef {object} Figure
 * @property {string} key stable id, the same in every run of a variant
 * @property {string} label
 * @property {number} value
 * @property {string} unit
 * @property {'higher' | 'lower'} better
 * @property {Anchor} [anchor]
 * @property {string} [anchorSkipped] why there is no anchor (never silently absent)
 * @property {string} [goal] what the ratio should be, e.g. "≥ 1 (target reached)"
 * @property {boolean} [headline] shown in the summary table
 * @typedef {{ label: string, ok: boolean, detail: string }} Check
 * @typedef {{ bytes: number[], gemm?: number }} CeilingRequest
 * @typedef {{ bandwidth: { bytes: number, gbPerSecond: number, method: string }[], gemm?: { n: number, gflopsPerSecond: number, method: string } }} Ceilings
 * @typedef {object} Variant
 * @property {string} id
 * @property {string} label
 * @property {string} script path from the repository root
 * @property {string[]} args
 * @property {number} timeoutMs
 * @property {NodeJS.ProcessEnv} [env] extra environment
 * @typedef {object} Context
 * @property {string} root
 * @property {boolean} quick
 * @property {'cpu' | 'cuda'} device
 * @property {{ python: string, version: string, cuda: boolean } | undefined} torch
 * @property {string | undefined} torchSkipped why the PyTorch anchor is unavailable
 * @property {(path: string) => string} readText reads a repository file ('' when absent)
 * @typedef {object} Benchmark
 * @property {string} name
 * @property {string} title
 * @property {string} what one paragraph for RESULTS.md
 * @property {readonly ('cpu' | 'cuda')[]} devices
 * @property {readonly string[]} packages workspace packages the scripts import (built first)
 * @property {readonly string[]} requires repository files that must exist
 * @property {{ full: number, quick: number }} repeat
 * @property {(context: Context) => Variant[] | { skip: string }} variants
 * @property {(json: Record<string, any>) => CeilingRequest | undefined} [ceilings] measured right after each run
 * @property {(json: Record<string, any>, context: Context, ceilings: Ceilings | undefined) => { figures: Figure[], checks: Check[] }} figures
 */

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Working sets above this read at the DRAM rate; probing a larger buffer adds nothing but time. */
export const MAX_PROBE_BYTES = 512 * MiB;
const GRADING_TARGET = 1000;
/** Why a GPU run has no roofline: the probes measure the CPU and host memory. */
export const NO_GPU_ROOFLINE = 'no GPU roofline: the ceiling probes measure the CPU and host memory, not the GPU';

/**
 * The bandwidth measured for the working set closest in size to `bytes`.
 * @param {Ceilings | undefined} ceilings
 * @param {number} bytes
 */
export function bandwidthFor(ceilings, bytes) {
  const wanted = Math.min(bytes, MAX_PROBE_BYTES);
  let best;
  for (const entry of ceilings?.bandwidth ?? []) {
    if (best === undefined || Math.abs(Math.log(entry.bytes / wanted)) < Math.abs(Math.log(best.bytes / wanted))) best = entry;
  }
  return best;
}

/**
 * The ceilings measured after a run, as plain figures (their spread shows in the details).
 * @param {Ceilings | undefined} ceilings
 * @returns {Figure[]}
 */
function ceilingFigures(ceilings) {
  /** @type {Figure[]} */
  const figures = (ceilings?.bandwidth ?? []).map((entry) => ({
    key: `ceiling-bandwidth-${entry.bytes}`,
    label: `ceiling: read bandwidth, ${(entry.bytes / MiB).toFixed(1)} MiB working set (measured after the run)`,
    value: entry.gbPerSecond,
    unit: 'GB/s',
    better: 'higher',
  }));
  if (ceilings?.gemm) {
    figures.push({ key: 'ceiling-gemm', label: `ceiling: fp32 GEMM ${ceilings.gemm.n}³, 1 thread (measured after the run)`, value: ceilings.gemm.gflopsPerSecond, unit: 'GFLOP/s', better: 'higher' });
  }
  return figures;
}

/** @type {Benchmark} */
const roofline = {
  name: 'roofline',
  title: 'Machine ceilings (memory bandwidth, fp32 GEMM)',
  what:
    'Read bandwidth of a 512 MiB working set (a C loop, best of the repetitions, as STREAM reports) and fp32 GEMM throughput of ' +
    'ONNX Runtime on one thread (2048³ MatMul). These are the anchors of the decode rooflines; they are compared here only with ' +
    'the reference values of shared/docs/ENVIRONMENT.md (measured on an idle machine), which shows how busy the machine was.',
  devices: ['cpu'],
  packages: ['@masa-rl/onnx'],
  requires: ['bench/lib/roofline.mjs', 'bench/lib/gemm-probe.mjs', 'bench/lib/bandwidth.c'],
  repeat: { full: 5, quick: 3 },
  variants: ({ quick }) => [
    {
      id: 'roofline',
      label: 'DRAM read bandwidth and fp32 GEMM',
      script: 'bench/lib/roofline.mjs',
      args: ['--bytes', String(MAX_PROBE_BYTES), '--gemm', '2048', '--reps', quick ? '3' : '5', '--json'],
      timeoutMs: 120_000,
    },
  ],
  figures(json) {
    const dram = json.bandwidth?.[0];
    const gemm = json.gemm;
    /** @type {Figure[]} */
    const figures = [];
    if (dram) {
      figures.push({
        key: 'dram',
        label: 'read bandwidth, 512 MiB working set',
        value: dram.gbPerSecond,
        unit: 'GB/s',
        better: 'higher',
        anchor: { label: 'ENVIRONMENT.md reference (idle machine)', value: 18, unit: 'GB/s', source: 'reference' },
        headline: true,
      });
    }
    if (gemm) {
      figures.push({
        key: 'gemm',
        label: 'fp32 GEMM 2048³, ONNX Runtime, 1 thread',
        value: gemm.gflopsPerSecond,
        unit: 'GFLOP/s',
        better: 'higher',
        anchor: { label: 'ENVIRONMENT.md reference (OpenBLAS sgemm, idle)', value: 92, unit: 'GFLOP/s', source: 'reference' },
        headline: true,
      });
    }
    return { figures, checks: [] };
  },
};

/** @type {Benchmark} */
const grading = {
  name: 'grading',
  title: 'Math grading throughput',
  what:
    'The 500 MATH-500 golds against a value-preserving rewrite each and against a last-digit change each (989 pairs), through a ' +
    'grading pool of one worker thread (one core, deadlines on). The headline is the first round, with a cold parse cache. ' +
    'Anchor: the issue\'s target of 1,000 pairs/s per core. Source: bench/grading/.',
  devices: ['cpu'],
  packages: ['@masa-rl/scoring'],
  requires: ['bench/grading/run.mjs', 'packages/scoring/dist/index.js', 'packages/scoring/dist/test.js'],
  repeat: { full: 5, quick: 3 },
  variants: ({ quick }) => [
    { id: 'grading', label: 'MATH-500 pairs, pool of 1 worker', script: 'bench/grading/run.mjs', args: ['--rounds', quick ? '1' : '3', '--json'], timeoutMs: 300_000 },
  ],
  figures(json) {
    const target = { label: 'target', value: GRADING_TARGET, unit: 'pairs/s', source: /** @type {const} */ ('target') };
    /** @type {Figure[]} */
    const figures = [
      {
        key: 'cold',
        label: 'pairs/s, round 0 (cold parse cache), 1 worker',
        value: json.headline.pairsPerSecond,
        unit: 'pairs/s',
        better: 'higher',
        anchor: target,
        goal: '≥ 1 (target reached)',
        headline: true,
      },
      { key: 'p99', label: 'p99 time per pair, round 0', value: json.headline.p99Ms, unit: 'ms', better: 'lower' },
    ];
    /** @type {Array<{ round: number, label: string, pairs: number, pairsPerSecond: number, wrongVerdicts: number }>} */
    const results = json.results ?? [];
    const warm = results.filter((r) => r.round > 0 && r.label.startsWith('pool'));
    if (warm.length > 0) {
      const pairs = warm.reduce((sum, r) => sum + r.pairs, 0);
      const seconds = warm.reduce((sum, r) => sum + r.pairs / r.pairsPerSecond, 0);
      figures.push({ key: 'warm', label: 'pairs/s, later rounds (warm parse cache), 1 worker', value: pairs / seconds, unit: 'pairs/s', better: 'higher', anchor: target });
    }
    const wrong = results.reduce((sum, r) => sum + r.wrongVerdicts, 0);
    return { figures, checks: [{ label: 'every verdict right', ok: wrong === 0, detail: `${wrong} wrong verdict(s) over ${results.reduce((s, r) => s + r.pairs, 0)} pairs` }] };
  },
};

/** @type {Benchmark} */
const trainStep = {
  name: 'train-step',
  title: 'Training step vs PyTorch',
  what:
    'One training step (forward, token-weighted log-likelihood loss, backward, grad-norm clip, AdamW) of a Qwen3-shaped decoder: ' +
    'masa-rl (ONNX Runtime graph from @masa-rl/onnx, AdamW in TypeScript) against the same model in plain PyTorch, one thread each, ' +
    'from the same weights and batch, alternating step by step. Anchor: PyTorch\'s step time in the same run. Source: bench/train-step/.',
  devices: ['cpu', 'cuda'],
  packages: ['@masa-rl/core', '@masa-rl/onnx'],
  requires: ['bench/train-step/train-step.mjs', 'packages/onnx/dist/index.js', 'packages/core/dist/index.js'],
  repeat: { full: 3, quick: 2 },
  variants({ quick, device, torch, torchSkipped }) {
    const torchDevice = device === 'cuda' && torch?.cuda === true ? 'cuda' : 'cpu';
    const common = ['--device', device, '--torch-device', torchDevice, '--json', ...(torch === undefined || torchSkipped !== undefined ? ['--skip-torch'] : [])];
    const env = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };
    const sizes = quick
      ? [{ model: 'tiny', batch: 4, seq: 128, steps: 3, warmup: 1 }]
      : [
          { model: 'small', batch: 8, seq: 256, steps: 8, warmup: 2 },
          { model: 'tiny', batch: 8, seq: 256, steps: 8, warmup: 2 },
        ];
    return sizes.map(({ model, batch, seq, steps, warmup }) => ({
      id: `train-step:${model}`,
      label: `${model} model, ${batch}×${seq} tokens, ${steps} timed steps`,
      script: 'bench/train-step/train-step.mjs',
      args: ['--model', model, '--batch', String(batch), '--seq', String(seq), '--steps', String(steps), '--warmup', String(warmup), ...common],
      timeoutMs: quick ? 180_000 : 600_000,
      env,
    }));
  },
  figures(json, context) {
    const torch = json.torch;
    /** @type {Figure} */
    const step = {
      key: 'step',
      label: `masa-rl ms/step (${json.device ?? 'cpu'}, ${(json.parameters / 1e6).toFixed(2)}M params)`,
      value: json.masa.stepMs,
      unit: 'ms',
      better: 'lower',
      goal: '≤ 1 (no slower than PyTorch)',
      headline: true,
    };
    if (torch) step.anchor = { label: `PyTorch ${torch.version} (${torch.device ?? 'cpu'}) ms/step`, value: torch.stepMs, unit: 'ms', source: 'same run' };
    else step.anchorSkipped = json.torchSkipped ?? context.torchSkipped ?? 'PyTorch side not run';
    /** @type {Figure[]} */
    const figures = [
      step,
      { key: 'forward-backward', label: 'masa-rl forward + backward', value: json.masa.forwardBackwardMs, unit: 'ms', better: 'lower' },
      { key: 'adamw', label: 'masa-rl AdamW (with clipping)', value: json.masa.adamwMs, unit: 'ms', better: 'lower' },
      { key: 'adamw-10m', label: 'AdamW alone, 10.0M parameters', value: json.masa.adamw10MParametersMs, unit: 'ms', better: 'lower' },
    ];
    if (torch && typeof json.medianPairedRatio === 'number') {
      figures.push({ key: 'paired', label: 'median of per-step ratios masa-rl / PyTorch', value: json.medianPairedRatio, unit: '×', better: 'lower' });
    }
    /** @type {Check[]} */
    const checks = [];
    if (torch) {
      const difference = json.lossRelativeDifference;
      checks.push({ label: 'same computation on both sides', ok: difference < 1e-4, detail: `first losses agree to ${difference.toExponential(1)} relative` });
    }
    return { figures, checks };
  },
};

/** @type {Benchmark} */
const modelMemory = {
  name: 'model-memory',
  title: 'Model memory and decode (Qwen3-0.6B shape)',
  what:
    'A Qwen3-0.6B-shaped model with random weights (bf16 safetensors on disk) loaded into float32 arrays in a fresh process, then a ' +
    '16-token prompt and greedy decode at batch 1. Anchors: one float32 copy of the weights (for the peak memory) and the ' +
    'bandwidth roofline, bandwidth measured right after the run ÷ weight bytes (for decode). The folder is created once in ' +
    'bench/.out/ (about a minute). Source: bench/model-memory/.',
  devices: ['cpu'],
  packages: ['@masa-rl/model'],
  requires: ['bench/model-memory/run.mjs', 'packages/model/dist/index.js'],
  repeat: { full: 3, quick: 2 },
  variants: ({ quick }) => [
    {
      id: 'model-memory',
      label: `load + prefill 16 + decode ${quick ? 4 : 16} tokens, batch 1`,
      script: 'bench/model-memory/run.mjs',
      args: ['--tokens', quick ? '4' : '16', '--json'],
      timeoutMs: 600_000,
      env: { OMP_NUM_THREADS: '1' },
    },
  ],
  ceilings: (json) => ({ bytes: [Math.min(json.weightBytes, MAX_PROBE_BYTES)] }),
  figures(json, _context, ceilings) {
    const bandwidth = bandwidthFor(ceilings, json.weightBytes);
    /** @type {Figure} */
    const decode = {
      key: 'decode',
      label: 'decode tok/s, batch 1, greedy',
      value: json.tokensPerSecond,
      unit: 'tok/s',
      better: 'higher',
      goal: '≤ 1 by physics; transformers.js reaches 0.83–0.88',
      headline: true,
    };
    if (bandwidth) {
      decode.anchor = {
        label: `bandwidth roofline (read bandwidth measured after the run ÷ ${(json.weightBytes / 1e9).toFixed(3)} GB of weights)`,
        value: (bandwidth.gbPerSecond * 1e9) / json.weightBytes,
        unit: 'tok/s',
        source: 'same run',
      };
    } else decode.anchorSkipped = 'bandwidth probe did not run';
    return {
      figures: [
        {
          key: 'peak',
          label: 'peak RSS above the imports',
          value: (json.peakRss - json.rssAfterImports) / GiB,
          unit: 'GiB',
          better: 'lower',
          anchor: { label: 'one float32 copy of the weights', value: json.weightBytes / GiB, unit: 'GiB', source: 'same run' },
          goal: '≈ 1 (one copy)',
          headline: true,
        },
        decode,
        { key: 'load', label: 'load (bf16 → float32)', value: json.loadSeconds, unit: 's', better: 'lower' },
        { key: 'prefill', label: `prefill ${json.promptTokens} tokens`, value: json.prefillSeconds, unit: 's', better: 'lower' },
        ...ceilingFigures(ceilings),
      ],
      checks: [],
    };
  },
};

/** What the rollout script prints per (model, batch) row with --json. */
const ROLLOUT_FIELDS = ['model', 'parameters', 'batch', 'masaTokS', 'transformersJsTokS'];

/** @type {Benchmark} */
const rollout = {
  name: 'rollout',
  title: 'Rollout decode vs transformers.js',
  what:
    'Decode throughput of the masa-rl ORT rollout engine against transformers.js generate() on the same exported model, one ORT ' +
    'thread each (full runs on a machine with two cores add both engines at two threads, and transformers.js with its shipped ' +
    'session options), batch 1 and batch 32 (top-k 50, temperature 1, a fixed number of new tokens), runs alternating between the ' +
    'engines. Anchors: transformers.js in the same run (at one thread, and at its best: the fastest of its configurations); the ' +
    'roofline of one thread, with ceilings measured right after each run (batch 1: read ' +
    'bandwidth for a working set the size of the weights ÷ weight bytes; batch 32: fp32 GEMM FLOP/s ÷ 2 FLOPs per parameter per ' +
    'token, the formula of bench/rollout/). Source: bench/rollout/.',
  devices: ['cpu', 'cuda'],
  packages: ['@masa-rl/core', '@masa-rl/model', '@masa-rl/rollout'],
  requires: ['bench/rollout/run.mjs', 'bench/rollout/models.mjs', 'packages/rollout/dist/index.js', 'packages/model/dist/index.js'],
  repeat: { full: 3, quick: 2 },
  variants({ quick, device, readText }) {
    const source = readText('bench/rollout/run.mjs');
    if (device === 'cuda' && !source.includes('--device')) {
      return { skip: 'bench/rollout/run.mjs has no --device flag yet, so it cannot run on the CUDA execution provider' };
    }
    const deviceArgs = device === 'cuda' ? ['--device', 'cuda'] : [];
    /** @type {Variant[]} */
    const variants = [
      {
        id: 'rollout',
        label: quick ? 'tiny model; batch 1 × 32 tokens, batch 32 × 16 tokens' : 'tiny and small models; batch 1 × 128 tokens, batch 32 × 64 tokens',
        script: 'bench/rollout/run.mjs',
        // Full runs add two ORT threads per engine where the machine has two cores (a contender of its own).
        args: [...(quick ? ['--model', 'tiny', '--runs', '3', '--batch1-tokens', '32', '--batch32-tokens', '16'] : ['--model', 'all', ...(availableParallelism() >= 2 && device === 'cpu' ? ['--threads', '1,2'] : [])]), '--json', ...deviceArgs],
        timeoutMs: quick ? 180_000 : 900_000,
        env: { OMP_NUM_THREADS: '1' },
      },
    ];
    if (source.includes("'0.6b'")) {
      variants.push({
        id: 'rollout:0.6b',
        label: `Qwen3-0.6B shape, ${quick ? 'masa-rl only' : 'masa-rl and transformers.js'}; batch 1 × ${quick ? 8 : 32} tokens, batch 32 × ${quick ? 4 : 16} tokens`,
        script: 'bench/rollout/run.mjs',
        // Quick runs skip transformers.js here (a 2.4 GB export and seconds of prefill per batch-32 run).
        args: [...(quick ? ['--model', '0.6b', '--runs', '1', '--batch1-tokens', '8', '--batch32-tokens', '4', '--no-transformers'] : ['--model', '0.6b']), '--json', ...deviceArgs],
        timeoutMs: 1_200_000,
        env: { OMP_NUM_THREADS: '1' },
      });
    }
    return variants;
  },
  ceilings(json) {
    const rows = [...rolloutRows(json), ...bigModelRows(json)];
    return { bytes: [...new Set(rows.filter((row) => row.batch === 1).map((row) => Math.min(row.parameters * 4, MAX_PROBE_BYTES)))], gemm: 2048 };
  },
  figures(json, context, ceilings) {
    const noCeiling = context.device === 'cuda' ? NO_GPU_ROOFLINE : 'ceiling probe did not run';
    /** @type {Figure[]} */
    const figures = [];
    for (const row of rolloutRows(json)) {
      const prefix = `${row.model} (${(row.parameters / 1e6).toFixed(1)}M) batch ${row.batch}`;
      const transformers = { label: 'transformers.js tok/s (intraOpNumThreads 1)', value: row.transformersJsTokS, unit: 'tok/s', source: /** @type {const} */ ('same run') };
      figures.push({ key: `${row.model}-b${row.batch}-vs-tjs`, label: `${prefix}: masa-rl tok/s`, value: row.masaTokS, unit: 'tok/s', better: 'higher', anchor: transformers, goal: '> 1', headline: true });
      if (typeof row.masaFrozenTokS === 'number') {
        figures.push({ key: `${row.model}-b${row.batch}-frozen-vs-tjs`, label: `${prefix}: masa-rl tok/s, weights frozen (serving)`, value: row.masaFrozenTokS, unit: 'tok/s', better: 'higher', anchor: transformers, goal: '> 1' });
      }
      // transformers.js with its shipped session options, and masa-rl at more threads against transformers.js at its best.
      if (typeof row.transformersJsDefaultTokS === 'number') {
        const shipped = { label: 'transformers.js tok/s (shipped session options)', value: row.transformersJsDefaultTokS, unit: 'tok/s', source: /** @type {const} */ ('same run') };
        figures.push({ key: `${row.model}-b${row.batch}-vs-tjs-default`, label: `${prefix}: masa-rl tok/s`, value: row.masaTokS, unit: 'tok/s', better: 'higher', anchor: shipped, goal: '> 1' });
      }
      const best = row.transformersJsBest;
      for (const [threads, byThreads] of Object.entries(row.byThreads ?? {})) {
        if (Number(threads) === row.threads || best === undefined) continue;
        const theirBest = { label: `transformers.js tok/s at its best (${best.config})`, value: best.tokS, unit: 'tok/s', source: /** @type {const} */ ('same run') };
        figures.push({ key: `${row.model}-b${row.batch}-t${threads}-vs-tjs-best`, label: `${prefix}: masa-rl tok/s, ${threads} threads`, value: byThreads.masaTokS, unit: 'tok/s', better: 'higher', anchor: theirBest, goal: '> 1' });
        figures.push({ key: `${row.model}-b${row.batch}-t${threads}-frozen-vs-tjs-best`, label: `${prefix}: masa-rl tok/s, ${threads} threads, weights frozen (serving)`, value: byThreads.masaFrozenTokS, unit: 'tok/s', better: 'higher', anchor: theirBest, goal: row.batch === 32 ? '≥ 3 (issue 5)' : '> 1', headline: row.batch === 32 });
      }
      const ceiling = rooflineAnchor(ceilings, row);
      /** @type {Figure} */
      const vsCeiling = { key: `${row.model}-b${row.batch}-vs-roofline`, label: `${prefix}: masa-rl tok/s vs roofline`, value: row.masaTokS, unit: 'tok/s', better: 'higher', goal: '≤ 1 by physics', headline: true };
      /** @type {Figure} */
      const theirs = { key: `${row.model}-b${row.batch}-tjs-vs-roofline`, label: `${prefix}: transformers.js tok/s vs roofline`, value: row.transformersJsTokS, unit: 'tok/s', better: 'higher' };
      if (ceiling) {
        vsCeiling.anchor = ceiling;
        theirs.anchor = ceiling;
      } else {
        vsCeiling.anchorSkipped = noCeiling;
        theirs.anchorSkipped = noCeiling;
      }
      figures.push(vsCeiling, theirs);
    }
    for (const row of bigModelRows(json)) {
      // Weights as inputs (what training runs; the keys of earlier results) or frozen into the session (serving).
      const frozen = row.weightMode === 'initializers';
      const mode = frozen ? ', weights frozen (serving)' : row.weightMode === 'inputs' ? ', weights as inputs (training)' : '';
      const threads = typeof row.threads === 'number' && row.threads > 1 ? row.threads : 1;
      const prefix = `${row.model} (${(row.parameters / 1e6).toFixed(0)}M) batch ${row.batch}${mode}${threads > 1 ? `, ${threads} threads` : ''}`;
      const key = `${row.model}-b${row.batch}${frozen ? '-frozen' : ''}${threads > 1 ? `-t${threads}` : ''}`;
      const ceiling = rooflineAnchor(ceilings, row);
      /** @type {Figure} */
      const vsCeiling = { key: `${key}-vs-roofline`, label: `${prefix}: masa-rl decode tok/s vs roofline`, value: row.masaDecodeTokS, unit: 'tok/s', better: 'higher', goal: '≤ 1 by physics', headline: true };
      if (ceiling) vsCeiling.anchor = ceiling;
      else vsCeiling.anchorSkipped = noCeiling;
      figures.push(vsCeiling);
      const reference = parseRange(row.transformersJsAnchor);
      /** @type {Figure} */
      const vsTransformers = { key: `${key}-vs-tjs`, label: `${prefix}: masa-rl decode tok/s vs transformers.js`, value: row.masaDecodeTokS, unit: 'tok/s', better: 'higher', goal: '> 1', headline: true };
      const measured = row.transformersJs;
      if (measured !== undefined) {
        // transformers.js ran in the same run (its export keeps the weights in ONNX external data).
        vsTransformers.anchor = { label: `transformers.js decode tok/s (intraOpNumThreads ${row.threads ?? 1}, same run)`, value: measured.decodeTokS, unit: 'tok/s', source: 'same run' };
        figures.push({
          key: `${key}-end-to-end-vs-tjs`,
          label: `${prefix}: masa-rl tok/s with the prefill (one per prompt for n samples; transformers.js prefills each copy)`,
          value: row.masaEndToEndTokS,
          unit: 'tok/s',
          better: 'higher',
          goal: '> 1',
          anchor: { label: 'transformers.js tok/s with the prefill (same run)', value: measured.endToEndTokS, unit: 'tok/s', source: 'same run' },
        });
        if (!frozen) {
          /** @type {Figure} */
          const theirsVsCeiling = { key: `${row.model}-b${row.batch}${threads > 1 ? `-t${threads}` : ''}-tjs-vs-roofline`, label: `${row.model} (${(row.parameters / 1e6).toFixed(0)}M) batch ${row.batch}: transformers.js decode tok/s vs roofline`, value: measured.decodeTokS, unit: 'tok/s', better: 'higher' };
          if (ceiling) theirsVsCeiling.anchor = ceiling;
          else theirsVsCeiling.anchorSkipped = noCeiling;
          figures.push(theirsVsCeiling);
        }
      } else if (reference !== undefined) {
        // transformers.js did not run (quick runs, --no-transformers): its ENVIRONMENT.md anchor timed generate() whole,
        // prefill included, so masa-rl's rate with the prefill is the one to set against it where the row has it.
        const withPrefill = typeof row.masaEndToEndTokS === 'number';
        if (withPrefill) {
          vsTransformers.value = row.masaEndToEndTokS;
          vsTransformers.label = `${prefix}: masa-rl tok/s with the prefill vs transformers.js`;
        }
        vsTransformers.anchor = {
          label: `transformers.js ${row.transformersJsAnchor} on an idle machine (ENVIRONMENT.md, generate() timed whole; not run here), midpoint`,
          value: reference,
          unit: 'tok/s',
          source: 'reference',
        };
      } else vsTransformers.anchorSkipped = 'transformers.js did not run (quick run or --no-transformers) and no reference value was printed';
      figures.push(vsTransformers);
    }
    figures.push(...ceilingFigures(ceilings));
    return { figures, checks: [] };
  },
};

/**
 * The roofline of a decode row: bandwidth ÷ weight bytes at batch 1, GEMM FLOP/s ÷ 2 FLOPs per parameter per token above.
 * @param {Ceilings | undefined} ceilings
 * @param {{ parameters: number, batch: number }} row
 * @returns {Anchor | undefined}
 */
function rooflineAnchor(ceilings, row) {
  if (row.batch === 1) {
    const bandwidth = bandwidthFor(ceilings, row.parameters * 4);
    if (bandwidth === undefined) return undefined;
    return {
      label: `bandwidth roofline (read bandwidth of a ${(bandwidth.bytes / MiB).toFixed(1)} MiB working set ÷ ${((row.parameters * 4) / MiB).toFixed(1)} MiB of weights)`,
      value: (bandwidth.gbPerSecond * 1e9) / (row.parameters * 4),
      unit: 'tok/s',
      source: 'same run',
    };
  }
  if (ceilings?.gemm === undefined) return undefined;
  return { label: 'compute roofline (fp32 GEMM FLOP/s ÷ 2 FLOPs per parameter per token)', value: (ceilings.gemm.gflopsPerSecond * 1e9) / (2 * row.parameters), unit: 'tok/s', source: 'same run' };
}

/**
 * The midpoint of a range such as "6.3–6.7 tok/s" (or a single number), else undefined.
 * @param {unknown} text
 */
export function parseRange(text) {
  if (typeof text !== 'string') return undefined;
  const match = /([\d.]+)\s*(?:[–-]\s*([\d.]+))?/.exec(text);
  if (match === null) return undefined;
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  return Number.isFinite(low) && Number.isFinite(high) ? (low + high) / 2 : undefined;
}

/**
 * Rows of the rollout script's masa-rl-only mode (`--model 0.6b`): decode tok/s without a transformers.js run.
 * @param {Record<string, any>} json
 * @returns {Array<{ model: string, parameters: number, batch: number, masaDecodeTokS: number, weightMode?: 'inputs' | 'initializers', setupMs?: number, transformersJsAnchor?: string }>}
 */
export function bigModelRows(json) {
  const rows = Array.isArray(json.rows) ? json.rows : [json];
  return rows.filter((row) => ['model', 'parameters', 'batch', 'masaDecodeTokS'].every((field) => row[field] !== undefined));
}

/**
 * The rows of the rollout script's output: one JSON object per (model, batch)
 * line, gathered by the runner under `rows`.
 * @param {Record<string, any>} json
 * @returns {Array<{ model: string, parameters: number, batch: number, masaTokS: number, masaFrozenTokS?: number, transformersJsTokS: number }>}
 */
export function rolloutRows(json) {
  const rows = Array.isArray(json.rows) ? json.rows : [json];
  return rows.filter((row) => ROLLOUT_FIELDS.every((field) => row[field] !== undefined));
}

/** Every benchmark, in run order (the ceilings first: they describe the machine). */
export const BENCHMARKS = Object.freeze([roofline, grading, trainStep, modelMemory, rollout]);
