import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { createProgram } from '../program.js';
import {
  createDoctorCommand,
  cudaLibrariesFor,
  formatDoctorReport,
  judgeCuda,
  judgeSandbox,
  judgeThreads,
  runDoctor,
  type CudaFacts,
  type DoctorInternal,
  type DoctorReport,
} from './doctor.js';

const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-doctor-'));

/** Stubs for the slow probes (a Python sandbox run, importing torch, Chromium's --version), so the real ones stay fast. */
const quickProbes: DoctorInternal = {
  commandVersion: (command) => (command === 'pnpm' ? '12.4.2' : 'Chromium 156'),
  detectSandbox: async () => ({
    isolation: 'bwrap',
    python: '/usr/bin/python3',
    pythonVersion: '3.11.2',
    guarantees: { network: true, filesystem: true, processes: true, cleanup: true, namespaces: true },
  }),
  findChromium: () => '/usr/bin/chromium',
  findTorch: () => ({ python: '/usr/bin/python3', version: '1.13.0a0' }),
};

async function run(args: string[], internal: DoctorInternal, runCwd = cwd): Promise<string> {
  let out = '';
  const command = createDoctorCommand({ stdout: { write: (text: string) => (out += text) }, cwd: runCwd, env: {}, _internal: internal });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return out;
}

const byName = (report: DoctorReport, name: string) => {
  const check = report.checks.find((entry) => entry.name === name);
  if (check === undefined) throw new Error(`no check ${name}`);
  return check;
};

const noCuda: CudaFacts = {
  runtime: { version: '1.30.0', packageDir: '/repo/node_modules/onnxruntime-node', binaryDir: '/repo/node_modules/onnxruntime-node/bin/napi-v6/linux/x64' },
  providerLibraries: { cuda: false, shared: false },
  gpu: undefined,
  driverCudaVersion: undefined,
  missingCudaLibraries: cudaLibrariesFor('1.30.0'),
  librariesOffPath: [],
  cudaToolkit: undefined,
  sessionError: "device 'cuda' requested but the CUDA execution provider library (libonnxruntime_providers_cuda.so) is not installed",
};

describe('masa doctor on this machine', () => {
  it('says the CPU provider works (a real session) and explains exactly what CUDA needs', async () => {
    const report = JSON.parse(await run(['--json'], quickProbes)) as DoctorReport;
    const cpu = byName(report, 'cpu');
    expect(cpu).toMatchObject({ status: 'ok', required: true });
    expect(cpu.summary).toMatch(/^CPU execution provider works: a test graph ran and gave the right answer/);
    expect(byName(report, 'onnxruntime').summary).toMatch(/^onnxruntime-node 1\.30\.0 /);
    const cuda = byName(report, 'cuda');
    if (cuda.status === 'ok') {
      // A machine with a working CUDA provider (not the project's CPU machines).
      expect(cuda.summary).toMatch(/CUDA execution provider works/);
    } else {
      expect(cuda.status).toBe('missing');
      expect(cuda.summary).toMatch(/CUDA execution provider not usable/);
      expect(cuda.fix).toContain('libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so');
      expect(cuda.fix).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node ');
      expect(cuda.fix).toContain('/script/install.js');
      expect(cuda.fix).toContain('CUDA 12 runtime and cuDNN 9');
      expect(cuda.fix).toContain('com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9');
      expect(cuda.fix).toContain('pinning onnxruntime-node 1.29.0');
    }
    expect(byName(report, 'datasets')).toMatchObject({ status: 'ok', required: true });
    // Timed for real: either one core, or a measured ratio and the advice it implies.
    expect(byName(report, 'threads')).toMatchObject({ status: 'ok', required: false });
    expect(byName(report, 'threads').summary).toMatch(/one thread \(the default\)|ran \d+\.\d× as fast on \d+ ONNX Runtime threads as on one: (pass --threads \d+|the other cores look busy)/);
    expect(byName(report, 'model')).toMatchObject({ status: 'missing', required: false });
    expect(byName(report, 'model').fix).toContain('masa sft --recipe tiny');
    expect(report.ok).toBe(true);
  });

  it('is registered in the masa program', () => {
    expect(createProgram().commands.map((command) => command.name())).toContain('doctor');
  });
});

describe('judgeThreads', () => {
  it('advises --threads N from 1.3× up, the default below, and one thread on one core', () => {
    expect(judgeThreads({ cores: 2, speedup: 1.82 }).summary).toBe(
      'a matrix product ran 1.8× as fast on 2 ONNX Runtime threads as on one: pass --threads 2 to masa train, eval and serve for speed (the numbers then differ from one thread\'s in float rounding)',
    );
    expect(judgeThreads({ cores: 2, speedup: 1.21 }).summary).toBe('a matrix product ran 1.2× as fast on 2 ONNX Runtime threads as on one: the other cores look busy, keep the default of one thread');
    expect(judgeThreads({ cores: 1, speedup: undefined })).toMatchObject({ status: 'ok', summary: '1 core: ONNX Runtime runs on one thread (the default)', required: false });
  });
});

describe('judgeCuda', () => {
  it('no GPU, no provider: lists each missing piece and both ways to get the provider', () => {
    const check = judgeCuda(noCuda, '/repo');
    expect(check.status).toBe('missing');
    expect(check.summary).toContain('no NVIDIA GPU');
    expect(check.summary).toContain('libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so not in node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
    expect(check.summary).toContain('not on the library path: libcudart.so.12, libcublas.so.12, libcublasLt.so.12, libcurand.so.10, libcudnn.so.9');
    expect(check.fix).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js');
    expect(check.fix).toContain('Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0');
  });

  it('GPU and provider present but the session fails: shows the failure', () => {
    const check = judgeCuda(
      { ...noCuda, providerLibraries: { cuda: true, shared: true }, gpu: 'NVIDIA H100, 580.65, 81559 MiB', driverCudaVersion: '13.0', missingCudaLibraries: ['libcudnn.so.9'], sessionError: 'libcudnn.so.9: cannot open shared object file' },
      '/repo',
    );
    expect(check.status).toBe('missing');
    expect(check.summary).toContain('GPU NVIDIA H100, 580.65, 81559 MiB, driver supports CUDA 13.0');
    expect(check.summary).toContain('provider libraries present');
    expect(check.summary).toContain('not on the library path: libcudnn.so.9');
    expect(check.summary).toContain('it failed to start: libcudnn.so.9: cannot open shared object file');
  });

  it('points at CUDA libraries that exist off the library path, and names the toolkit', () => {
    const check = judgeCuda({ ...noCuda, librariesOffPath: [{ name: 'libcudart.so.13', dir: '/usr/local/cuda/lib64' }], cudaToolkit: 'CUDA 13.0 at /usr/local/cuda' }, '/repo');
    expect(check.summary).toContain('but libcudart.so.13 is in /usr/local/cuda/lib64 (add that folder to LD_LIBRARY_PATH); toolkit: CUDA 13.0 at /usr/local/cuda');
    // onnxruntime 1.30 needs CUDA 12: a CUDA 13 toolkit is not enough, and the fix says so.
    expect(check.fix).toContain('The toolkit here (CUDA 13.0 at /usr/local/cuda) does not provide the CUDA 12 libraries this provider needs');
    expect(check.fix).toContain('take the npm route below, which is built for CUDA 13');
  });

  it('a pinned onnxruntime 1.29 needs the CUDA 13 libraries', () => {
    expect(cudaLibrariesFor('1.29.0')).toEqual(['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10', 'libcudnn.so.9']);
    const check = judgeCuda({ ...noCuda, runtime: { ...(noCuda.runtime as NonNullable<CudaFacts['runtime']>), version: '1.29.0' }, missingCudaLibraries: cudaLibrariesFor('1.29.0') }, '/repo');
    expect(check.fix).toContain('CUDA 13 runtime and cuDNN 9');
    expect(check.fix).not.toContain('runs CUDA 12 libraries');
  });

  it('ok only when a CUDA session ran', () => {
    const check = judgeCuda({ ...noCuda, providerLibraries: { cuda: true, shared: true }, gpu: 'NVIDIA H200', driverCudaVersion: '13.0', missingCudaLibraries: [], sessionError: undefined }, '/repo');
    expect(check).toEqual({ name: 'cuda', status: 'ok', summary: 'CUDA execution provider works: a test graph ran on NVIDIA H200 (driver supports CUDA 13.0)', required: false });
  });
});

describe('judgeSandbox', () => {
  const guarantees = { network: true, filesystem: true, processes: true, cleanup: true, namespaces: true };
  it('bubblewrap is ok, the resource-limits fallback a warning with the fix, no Python missing', () => {
    expect(judgeSandbox({ isolation: 'bwrap', python: '/usr/bin/python3', pythonVersion: '3.11.2', guarantees }).status).toBe('ok');
    const fallback = judgeSandbox({ isolation: 'rlimits', python: '/usr/bin/python3', pythonVersion: '3.11.2', guarantees: { ...guarantees, filesystem: false }, warning: 'bubblewrap unusable' });
    expect(fallback).toMatchObject({ status: 'warning' });
    expect(fallback.summary).toContain('bubblewrap unusable');
    expect(fallback.fix).toContain('apt-get install -y bubblewrap');
    expect(judgeSandbox(new Error('python3: not found'))).toMatchObject({ status: 'missing', summary: 'the Python sandbox does not work: python3: not found' });
  });
});

describe('masa doctor failures', () => {
  const stubs: DoctorInternal = {
    ...quickProbes,
    onnxRuntime: () => noCuda.runtime,
    cudaFacts: async () => noCuda,
    verifyDatasets: async () => [],
    measureThreads: async () => ({ cores: 2, speedup: 1.8 }),
  };

  it('a wrong CPU answer is a required failure: the report is printed, then RUNTIME_UNAVAILABLE (exit 8)', async () => {
    let out = '';
    const command = createDoctorCommand({ stdout: { write: (text: string) => (out += text) }, cwd, env: {}, _internal: { ...stubs, runCpuGraph: async () => ({ output: [3, 5, 8], ms: 1 }) } });
    command.exitOverride();
    const error = await command.parseAsync([], { from: 'user' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(MasaError.isInstance(error)).toBe(true);
    expect((error as MasaError).code).toBe('RUNTIME_UNAVAILABLE');
    expect(EXIT_CODES[(error as MasaError).code]).toBe(8);
    expect((error as MasaError).message).toContain('required checks failed: cpu');
    expect(out).toContain('CPU execution provider ran but answered [3, 5, 8] instead of [3, 5, 7]');
    expect(out).toMatch(/REQUIRED: cpu\n$/);
  });

  it('changed dataset files are a required failure that names the files and the fix', async () => {
    const bad = { path: 'math500.jsonl', ok: false, expected: { rows: 500, bytes: 1, sha256: 'a' }, actual: { rows: 499, bytes: 1, sha256: 'b' } };
    const report = await runDoctor({ cwd, env: {}, _internal: { ...stubs, runCpuGraph: async () => ({ output: [3, 5, 7], ms: 1 }), verifyDatasets: async () => [bad] } });
    expect(report.ok).toBe(false);
    expect(byName(report, 'datasets')).toMatchObject({ status: 'missing', summary: '1 of 1 bundled files differ from datasets/manifest.json: math500.jsonl', fix: expect.stringContaining('git checkout -- datasets') });
  });

  it('a CPU provider that throws is reported with the fix, not thrown', async () => {
    const report = await runDoctor({ cwd, env: {}, _internal: { ...stubs, runCpuGraph: async () => Promise.reject(new Error('libonnxruntime.so.1: cannot open')) } });
    expect(byName(report, 'cpu')).toMatchObject({ status: 'missing', summary: 'CPU execution provider failed: libonnxruntime.so.1: cannot open' });
  });

  it('finds the default model folder relative to the working directory', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'masa-cli-doctor-model-'));
    mkdirSync(join(folder, 'models', 'tiny-arith'), { recursive: true });
    writeFileSync(join(folder, 'models', 'tiny-arith', 'config.json'), '{}');
    const partial = await runDoctor({ cwd: folder, env: {}, _internal: { ...stubs, runCpuGraph: async () => ({ output: [3, 5, 7], ms: 1 }) } });
    expect(byName(partial, 'model')).toMatchObject({ status: 'missing', summary: 'models/tiny-arith lacks model.safetensors' });
    writeFileSync(join(folder, 'models', 'tiny-arith', 'model.safetensors'), '');
    const full = await runDoctor({ cwd: folder, env: {}, _internal: { ...stubs, runCpuGraph: async () => ({ output: [3, 5, 7], ms: 1 }) } });
    expect(byName(full, 'model').status).toBe('ok');
  });

  it('the text report: one line per check, fixes indented below, a count at the end', () => {
    const text = formatDoctorReport({
      ok: true,
      checks: [
        { name: 'cpu', status: 'ok', summary: 'works', required: true },
        { name: 'cuda', status: 'missing', summary: 'not usable', fix: 'first\nsecond', required: false },
      ],
    });
    expect(text).toBe(
      [
        'masa doctor — what works on this machine',
        '',
        'ok       cpu   works',
        'missing  cuda  not usable',
        '               fix: first',
        '                    second',
        '',
        '1 ok, 0 warning(s), 1 missing — everything required works',
        '',
      ].join('\n'),
    );
  });
});
