#!/usr/bin/env node
// Decode throughput of masa-rl's ORT rollout engine against transformers.js generate() on the
// same exported model, batch 1 and batch 32, with the roofline ratios.
//
//   pnpm --filter @masa-rl/rollout build && node bench/rollout/run.mjs [--model tiny|small|all|0.6b]
//        [--batch1-tokens 128] [--batch32-tokens 64] [--runs 3] [--threads 1[,2…]] [--device cpu|cuda]
//        [--weights inputs,initializers] [--no-transformers] [--json]
//
// --device cuda runs both engines on ORT's CUDA execution provider (masa-rl: createOrtEngine({ device });
// transformers.js: from_pretrained({ device: 'cuda' })); it needs the CUDA provider libraries next to
// onnxruntime-node's binary (shared/docs/ENVIRONMENT.md), and the CPU ceilings below then do not apply.
//
// Models (random weights, Qwen3 layout: GQA 4 q / 2 kv heads, head_dim 64, SwiGLU, untied head),
// the shapes of shared/docs/ENVIRONMENT.md's anchors:
//   tiny  = vocab 512,  hidden 256, 4 layers, intermediate 384 (2.2M parameters)
//   small = vocab 8192, hidden 256, 6 layers, intermediate 768 (8.9M parameters)
// Each model is exported once as a transformers.js folder into bench/.out/rollout/<model>/ and
// both engines run the same weights. Both sample with temperature 1 and top-k 50 and generate
// exactly N tokens per row (masa-rl: no EOS; transformers.js: min_new_tokens = max_new_tokens).
// Batch 32 is one prompt × 32 samples (masa-rl: n = 32, one prefill; transformers.js: the prompt
// repeated 32 times). Threads: both engines run at each --threads count (ORT intraOpNumThreads;
// default 1), and transformers.js once more with its shipped session options (ORT's default pool,
// one spinning thread per core); "its best" is the fastest of its configurations in the run.
// Runs alternate between the contenders (forward, then backward order) so that a busy machine
// slows all alike; medians are reported. Time includes the prefill (one short prompt), as
// generate() has no separate clock.
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../lib/stats.mjs';
import { MODELS, QWEN3_0_6B, createBenchModel } from './models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outDir = join(root, 'bench', '.out', 'rollout');
const importPackage = (name) => import(join(root, 'packages', name, 'dist', 'index.js'));

// Qwen3-0.6B's shape: its transformers.js export keeps the 2.4 GB of weights in ONNX external data
// (onnx/model.onnx_data); ENVIRONMENT.md's transformers.js anchors for this shape (a quiet machine) are printed beside
// the same run's figures for reference.
const ANCHORS_0_6B = { 1: '6.3–6.7 tok/s', 32: '27–31 tok/s' };
// Measured on this machine (ENVIRONMENT.md): fp32 GEMM peak ≈ 92 GFLOP/s on one thread; DRAM ≈ 18 GB/s, ≈ 30 GB/s for
// working sets inside the 32 MiB L3.
const PEAK_FLOPS = 92e9;
const DRAM_BYTES_PER_S = 18e9;
const L3_BYTES_PER_S = 30e9;
const L3_BYTES = 32 * 2 ** 20;

function parseArgs(argv) {
  const args = { model: 'all', batch1Tokens: 128, batch32Tokens: 64, runs: 3, json: false, device: 'cpu', weightModes: ['inputs', 'initializers'], threads: [1], transformers: true };
  // --model 0.6b: masa-rl only, shorter runs (a decode step of the 0.6B shape takes ~0.15 s at batch 1).
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--json') args.json = true;
    else if (flag === '--model') (args.model = value), i++;
    else if (flag === '--batch1-tokens') (args.batch1Tokens = Number(value)), i++;
    else if (flag === '--batch32-tokens') (args.batch32Tokens = Number(value)), i++;
    else if (flag === '--runs') (args.runs = Number(value)), i++;
    else if (flag === '--no-transformers') args.transformers = false; // 0.6b: masa-rl only (no 2.4 GB export, no transformers.js runs)
    else if (flag === '--threads') {
      // ORT threads per operator for both engines, e.g. 1,2 (each count is its own contender; the first keeps the
      // historical field names).
      const counts = value.split(',').map(Number);
      if (!counts.every((count) => Number.isInteger(count) && count >= 1)) throw new Error(`--threads takes positive integers, comma-separated, got ${value}`);
      args.threads = counts;
      i++;
    }
    else if (flag === '--weights') {
      // 0.6b only: which weight modes to run (both by default).
      const modes = value.split(',');
      if (!modes.every((mode) => mode === 'inputs' || mode === 'initializers')) throw new Error(`--weights takes inputs, initializers or both (comma-separated), got ${value}`);
      args.weightModes = modes;
      i++;
    }
    else if (flag === '--device') {
      if (value !== 'cpu' && value !== 'cuda') throw new Error(`--device must be cpu or cuda, got ${value}`);
      args.device = value;
      i++;
    }
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

/**
 * One transformers.js generate() of `newTokens` tokens (exactly: min = max) for `batch` copies of `prompt`, sampling
 * with top-k 50 at temperature 1 as masa-rl does here. Returns its wall time and the tokens it generated.
 */
async function transformersGenerate(transformers, model, prompt, batch, newTokens) {
  const ids = new transformers.Tensor('int64', BigInt64Array.from({ length: batch * prompt.length }, (_, i) => BigInt(prompt[i % prompt.length])), [batch, prompt.length]);
  const mask = new transformers.Tensor('int64', new BigInt64Array(batch * prompt.length).fill(1n), [batch, prompt.length]);
  const started = performance.now();
  const output = await model.generate({ input_ids: ids, attention_mask: mask, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: true, top_k: 50, temperature: 1 });
  return { ms: performance.now() - started, generated: output.dims[0] * (output.dims[1] - prompt.length) };
}

async function prepare(name, shape, exportFolder = true) {
  const { exportModel } = await importPackage('model');
  const { config, weights, parameters } = await createBenchModel(root, name, shape);
  const folder = join(outDir, name);
  if (exportFolder && !existsSync(join(folder, 'onnx', 'model.onnx'))) {
    mkdirSync(folder, { recursive: true });
    await exportModel({ config, weights, outDir: folder, format: 'transformers.js' });
  }
  return { config, weights, folder, parameters };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.model === '0.6b') return bigModel(args);
  const names = args.model === 'all' ? Object.keys(MODELS) : [args.model];
  const { createOrtEngine } = await importPackage('rollout');
  // transformers.js is a dependency of @masa-rl/model; resolve it from there (pnpm does not hoist it to the root).
  const fromModel = createRequire(join(root, 'packages', 'model', 'package.json'));
  const transformers = await import(pathToFileURL(fromModel.resolve('@huggingface/transformers')).href);
  transformers.env.allowRemoteModels = false;
  const report = [];
  for (const name of names) {
    const { config, weights, folder, parameters } = await prepare(name, MODELS[name]);
    const prompt = Array.from({ length: 16 }, (_, i) => (i * 37 + 11) % (config.vocabSize - 1));
    // The contenders, each at every thread count asked for: masa-rl with weights as inputs (what training runs) and
    // frozen into the session (serving); transformers.js at the same intraOpNumThreads, plus once with its shipped
    // session options (none: ORT's default pool of one spinning thread per core).
    /** @type {Array<{ key: string, kind: 'masa' | 'transformers', threads: number | 'default', weightMode?: string, engine: any }>} */
    const contenders = [];
    for (const threads of args.threads) {
      for (const weightMode of ['inputs', 'initializers']) {
        const engine = createOrtEngine({ config, weights, eosTokenIds: [], maxBatchSize: 32, weightMode, device: args.device, intraOpNumThreads: threads });
        contenders.push({ key: `masa-${weightMode}-t${threads}`, kind: 'masa', threads, weightMode, engine });
      }
    }
    for (const threads of [...args.threads, 'default']) {
      const engine = await transformers.AutoModelForCausalLM.from_pretrained(folder, {
        dtype: 'fp32',
        local_files_only: true,
        ...(args.device === 'cuda' ? { device: 'cuda' } : {}),
        ...(threads === 'default' ? {} : { session_options: { intraOpNumThreads: threads } }),
      });
      contenders.push({ key: `transformers-t${threads}`, kind: 'transformers', threads, engine });
    }
    for (const [batch, tokens] of [
      [1, args.batch1Tokens],
      [32, args.batch32Tokens],
    ]) {
      const runMasa = async (engine, seed) => {
        engine.resetProfile();
        const started = performance.now();
        const [result] = await engine.doGenerate([{ id: 'bench', promptTokenIds: prompt, n: batch, seed, maxNewTokens: tokens, temperature: 1, topK: 50 }]);
        const ms = performance.now() - started;
        const generated = result.samples.reduce((sum, sample) => sum + sample.tokenIds.length, 0);
        return { ms, generated, profile: engine.profile() };
      };
      const runOne = (contender, seed) => (contender.kind === 'masa' ? runMasa(contender.engine, seed) : transformersGenerate(transformers, contender.engine, prompt, batch, tokens));
      // Warm-up, twice: session creation, JIT, and ORT's first runs at new shapes (arena growth) are not decode speed.
      for (let warm = 0; warm < 2; warm++) for (const contender of contenders) await runOne(contender, 0);
      /** @type {Map<string, Array<{ ms: number, generated: number, profile?: any }>>} */
      const runs = new Map(contenders.map((contender) => [contender.key, []]));
      // Rounds alternate the order (forward, then backward), so a machine that gets busier slows every contender alike.
      for (let run = 0; run < args.runs; run++) {
        const order = run % 2 === 0 ? contenders : [...contenders].reverse();
        for (const contender of order) runs.get(contender.key).push(await runOne(contender, run + 1));
      }
      const rate = (key) => median(runs.get(key).map((r) => (r.generated / r.ms) * 1000));
      const byThreads = {};
      for (const threads of args.threads) {
        byThreads[threads] = {
          masaTokS: Math.round(rate(`masa-inputs-t${threads}`)),
          masaFrozenTokS: Math.round(rate(`masa-initializers-t${threads}`)),
          transformersJsTokS: Math.round(rate(`transformers-t${threads}`)),
        };
      }
      const transformersDefault = Math.round(rate('transformers-tdefault'));
      // transformers.js at its best: the fastest of its configurations in this run.
      const theirBest = [...Object.entries(byThreads).map(([threads, row]) => ({ config: `intraOpNumThreads ${threads}`, tokS: row.transformersJsTokS })), { config: 'shipped defaults', tokS: transformersDefault }].reduce((a, b) => (b.tokS > a.tokS ? b : a));
      const first = args.threads[0];
      const oursTokS = byThreads[first].masaTokS;
      const frozenTokS = byThreads[first].masaFrozenTokS;
      const theirsTokS = byThreads[first].transformersJsTokS;
      const weightBytes = parameters * 4;
      const bandwidth = weightBytes <= L3_BYTES ? L3_BYTES_PER_S : DRAM_BYTES_PER_S;
      // Batch 1 reads every weight once per token; batch 32 is bound by GEMM FLOPs (2 per parameter per token).
      const ceiling = batch === 1 ? bandwidth / weightBytes : PEAK_FLOPS / (2 * parameters);
      const lastMasa = runs.get(`masa-inputs-t${first}`).at(-1);
      const profile = lastMasa.profile;
      const row = {
        model: name,
        parameters,
        batch,
        device: args.device,
        tokensPerRow: tokens,
        // The first thread count's figures under the historical names (one thread unless --threads says otherwise).
        threads: first,
        masaTokS: oursTokS,
        masaFrozenTokS: frozenTokS,
        transformersJsTokS: theirsTokS,
        transformersJsDefaultTokS: transformersDefault,
        transformersJsBest: theirBest,
        byThreads,
        speedup: Number((oursTokS / theirsTokS).toFixed(2)),
        frozenSpeedup: Number((frozenTokS / theirsTokS).toFixed(2)),
        ceilingTokS: Math.round(ceiling),
        ceilingKind: batch === 1 ? `weight bandwidth (${bandwidth / 1e9} GB/s)` : 'fp32 GEMM compute (92 GFLOP/s, one thread)',
        masaOfCeiling: Number((oursTokS / ceiling).toFixed(3)),
        masaFrozenOfCeiling: Number((frozenTokS / ceiling).toFixed(3)),
        transformersJsOfCeiling: Number((theirsTokS / ceiling).toFixed(3)),
        masaTimeSplitMs: {
          decodeRun: Math.round(profile.decodeRunMs),
          prefillRun: Math.round(profile.prefillRunMs),
          sampling: Math.round(profile.samplingMs),
          cache: Math.round(profile.cacheMs),
          feeds: Math.round(profile.feedMs),
          total: Math.round(lastMasa.ms),
        },
      };
      report.push(row);
      if (args.json) process.stdout.write(`${JSON.stringify(row)}\n`);
      else {
        const perThreads = Object.entries(byThreads)
          .map(([threads, r]) => `  ${threads} thread${threads === '1' ? '' : 's'}: masa-rl ${r.masaTokS} tok/s (frozen ${r.masaFrozenTokS}), transformers.js ${r.transformersJsTokS}`)
          .join('\n');
        const best = Math.max(...Object.values(byThreads).map((r) => r.masaFrozenTokS));
        process.stdout.write(
          `${name} (${(parameters / 1e6).toFixed(1)}M) batch ${batch} × ${tokens} tokens:\n${perThreads}\n  transformers.js with its shipped defaults: ${transformersDefault} tok/s; ` +
            `its best here: ${theirBest.tokS} (${theirBest.config}); masa-rl's best (frozen): ${best} → ${(best / theirBest.tokS).toFixed(2)}×\n` +
            `  at ${first} thread${first === 1 ? '' : 's'}: ${row.speedup}× (frozen ${row.frozenSpeedup}×); ceiling ${row.ceilingTokS} tok/s [${row.ceilingKind}] → ` +
            `masa-rl ${(100 * row.masaOfCeiling).toFixed(1)}% (${(100 * row.masaFrozenOfCeiling).toFixed(1)}%), transformers.js ${(100 * row.transformersJsOfCeiling).toFixed(1)}%\n` +
            `  masa-rl split of the last run (ms): ${JSON.stringify(row.masaTimeSplitMs)}\n`,
        );
      }
    }
    for (const contender of contenders) await (contender.kind === 'masa' ? contender.engine.close() : contender.engine.dispose());
  }
  return report;
}

/**
 * The Qwen3-0.6B shape: masa-rl in both weight modes and transformers.js (its export past 2 GiB keeps the weights in
 * ONNX external data), against the bandwidth roofline (batch 1) and the GEMM ceiling (batch 32), runs alternating.
 * Decode rates leave the prefill out: masa-rl's profile times it; transformers.js' is measured as a run with one new
 * token (its prefill of 32 repeated prompts at batch 32 takes seconds; masa-rl prefills the prompt once for n = 32).
 */
async function bigModel(args) {
  const { createOrtEngine } = await importPackage('rollout');
  const { config, weights, folder, parameters } = await prepare('qwen3-0.6b', QWEN3_0_6B, args.transformers);
  const prompt = Array.from({ length: 16 }, (_, i) => (i * 7919 + 11) % 150000);
  const report = [];
  const warm = async (engine) => {
    const started = performance.now();
    for (let round = 0; round < 2; round++) await engine.doGenerate([{ id: 'warm', promptTokenIds: prompt, n: 2, maxNewTokens: 2, topK: 50 }]);
    return performance.now() - started;
  };
  // Both weight modes: 'inputs' (training: weights fed by reference every step) and 'initializers' (serving: frozen
  // into the decode session, which pre-packs them; past protobuf's 2 GiB they reach ORT through a temporary external
  // data file). The warm-up builds the sessions; its time is reported as setupMs.
  /** @type {Array<{ key: string, threads: number, weightMode?: string, engine: any, setupMs: number }>} */
  const contenders = [];
  for (const threads of args.threads) {
    for (const weightMode of args.weightModes) {
      const engine = createOrtEngine({ config, weights, eosTokenIds: [], maxBatchSize: 32, weightMode, device: args.device, intraOpNumThreads: threads });
      contenders.push({ key: `masa-${weightMode}-t${threads}`, threads, weightMode, engine, setupMs: await warm(engine) });
    }
  }
  let transformersModel;
  if (args.transformers) {
    const fromModel = createRequire(join(root, 'packages', 'model', 'package.json'));
    const transformers = await import(pathToFileURL(fromModel.resolve('@huggingface/transformers')).href);
    transformers.env.allowRemoteModels = false;
    const started = performance.now();
    transformersModel = await transformers.AutoModelForCausalLM.from_pretrained(folder, {
      dtype: 'fp32',
      local_files_only: true,
      ...(args.device === 'cuda' ? { device: 'cuda' } : {}),
      session_options: { intraOpNumThreads: args.threads[0] },
    });
    contenders.push({ key: 'transformers', threads: args.threads[0], engine: { transformers, model: transformersModel }, setupMs: performance.now() - started });
  }
  for (const [batch, tokens] of [
    [1, Math.min(args.batch1Tokens, 32)],
    [32, Math.min(args.batch32Tokens, 16)],
  ]) {
    const runMasa = async (engine, seed) => {
      engine.resetProfile();
      const started = performance.now();
      await engine.doGenerate([{ id: 'bench', promptTokenIds: prompt, n: batch, seed, maxNewTokens: tokens, temperature: 1, topK: 50 }]);
      const ms = performance.now() - started;
      const profile = engine.profile();
      // Decode rate: tokens after the first (which comes from the prefill) over the decode steps' wall time.
      return { ms, decodeMs: ms - profile.prefillRunMs, profile };
    };
    const runTransformers = async ({ transformers, model }, newTokens) => (await transformersGenerate(transformers, model, prompt, batch, newTokens)).ms;
    const runs = new Map(contenders.map((contender) => [contender.key, []]));
    const prefillOnly = [];
    if (transformersModel !== undefined) await runTransformers(contenders.at(-1).engine, 2); // first run at this batch shape
    const rounds = Math.min(args.runs, 3);
    for (let run = 0; run < rounds; run++) {
      const order = run % 2 === 0 ? contenders : [...contenders].reverse();
      for (const contender of order) {
        if (contender.key !== 'transformers') runs.get(contender.key).push(await runMasa(contender.engine, run));
        else {
          const ms = await runTransformers(contender.engine, tokens);
          const prefillMs = await runTransformers(contender.engine, 1);
          prefillOnly.push(prefillMs);
          runs.get(contender.key).push({ ms, decodeMs: ms - prefillMs });
        }
      }
    }
    const weightBytes = parameters * 4;
    const ceiling = batch === 1 ? DRAM_BYTES_PER_S / weightBytes : PEAK_FLOPS / (2 * parameters);
    const decodeRate = (key) => median(runs.get(key).map((r) => ((batch * (tokens - 1)) / r.decodeMs) * 1000));
    const endToEndRate = (key) => median(runs.get(key).map((r) => ((batch * tokens) / r.ms) * 1000));
    const theirs = transformersModel === undefined ? undefined : { decodeTokS: Number(decodeRate('transformers').toFixed(2)), endToEndTokS: Number(endToEndRate('transformers').toFixed(2)), prefillMs: Math.round(median(prefillOnly)) };
    for (const contender of contenders) {
      if (contender.key === 'transformers') continue;
      const rate = decodeRate(contender.key);
      const profile = runs.get(contender.key).at(-1).profile;
      const row = {
        model: 'qwen3-0.6b',
        parameters,
        device: args.device,
        weightMode: contender.weightMode,
        threads: contender.threads,
        batch,
        tokensPerRow: tokens,
        masaDecodeTokS: Number(rate.toFixed(2)),
        masaEndToEndTokS: Number(endToEndRate(contender.key).toFixed(2)),
        ceilingTokS: Number(ceiling.toFixed(1)),
        masaOfCeiling: Number((rate / ceiling).toFixed(3)),
        setupMs: Math.round(contender.setupMs),
        transformersJsAnchor: ANCHORS_0_6B[batch],
        ...(theirs === undefined ? {} : { transformersJs: theirs, transformersJsSetupMs: Math.round(contenders.at(-1).setupMs) }),
        masaTimeSplitMs: {
          decodeRun: Math.round(profile.decodeRunMs),
          sampling: Math.round(profile.samplingMs),
          cache: Math.round(profile.cacheMs),
          feeds: Math.round(profile.feedMs),
        },
      };
      report.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
  }
  for (const contender of contenders) await (contender.key === 'transformers' ? contender.engine.model.dispose() : contender.engine.close());
  return report;
}

await main();
