import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { verifyDatasets, type FileCheck } from '@masa-rl/datasets';
import { add, createGraph, createSession, createTensorValue, matMul, mul } from '@masa-rl/onnx';
import { detectSandbox, type SandboxInfo } from '@masa-rl/sandbox';
import { Command } from 'commander';

/** How one check came out. */
export type DoctorStatus = 'ok' | 'warning' | 'missing';

/** One line of `masa doctor`. */
export interface DoctorCheck {
  /** Short id: `node`, `onnxruntime`, `cpu`, `cuda`, … */
  name: string;
  status: DoctorStatus;
  /** What was found, in one line. */
  summary: string;
  /** What to do when it is not ok (may span several sentences). */
  fix?: string;
  /** A failure of a required check makes `masa doctor` exit non-zero. */
  required: boolean;
}

/** What `masa doctor` found. */
export interface DoctorReport {
  checks: DoctorCheck[];
  /** True when every required check is ok (warnings and missing optional features allowed). */
  ok: boolean;
}

/** onnxruntime-node as `@masa-rl/onnx` resolves it. */
export interface OnnxRuntimeFacts {
  version: string;
  /** The package folder (real path). */
  packageDir: string;
  /** Where its native binary and any execution-provider libraries live. */
  binaryDir: string;
}

/** What the CUDA line is judged from. */
export interface CudaFacts {
  runtime: OnnxRuntimeFacts | undefined;
  /** Which of the two provider libraries are in `binaryDir`. */
  providerLibraries: { cuda: boolean; shared: boolean };
  /** `nvidia-smi`'s GPU line (name, driver, memory), or undefined when there is no nvidia-smi or no GPU. */
  gpu: string | undefined;
  /** The CUDA version the driver supports (from `nvidia-smi`), when known. */
  driverCudaVersion: string | undefined;
  /**
   * CUDA and cuDNN libraries the dynamic linker cannot find: from `ldd` of the provider library when it is
   * present, else the list for this onnxruntime version (see {@link cudaLibrariesFor}) against ldconfig and LD_LIBRARY_PATH.
   */
  missingCudaLibraries: string[];
  /** Missing libraries that do exist in a CUDA folder the linker does not search (add it to LD_LIBRARY_PATH). */
  librariesOffPath: { name: string; dir: string }[];
  /** A CUDA toolkit found in /usr/local (its folder and `nvcc` release), e.g. `CUDA 13.0 at /usr/local/cuda`. */
  cudaToolkit: string | undefined;
  /** undefined when a CUDA session ran; else why it could not be created. */
  sessionError: string | undefined;
}

/** How much more ORT threads speed up a matrix product here: what `--threads` would buy. */
export interface ThreadScaling {
  /** `os.availableParallelism()`. */
  cores: number;
  /** Median time on one thread ÷ median time on `cores` threads; undefined with one core. */
  speedup: number | undefined;
}

/** Test seams: each replaces one probe of the real machine. */
export interface DoctorInternal {
  onnxRuntime?: () => OnnxRuntimeFacts | undefined;
  /** Runs a tiny graph on the CPU provider; resolves to its output. */
  runCpuGraph?: () => Promise<{ output: number[]; ms: number }>;
  /** Times a matrix product on one ORT thread and on every core (see {@link ThreadScaling}). */
  measureThreads?: () => Promise<ThreadScaling>;
  cudaFacts?: () => Promise<CudaFacts>;
  /** The first line a command prints for `--version` (or undefined when it does not run). */
  commandVersion?: (command: string, args: readonly string[]) => string | undefined;
  detectSandbox?: () => Promise<SandboxInfo>;
  findChromium?: () => string | undefined;
  findTorch?: () => { python: string; version: string } | undefined;
  verifyDatasets?: () => Promise<FileCheck[]>;
}

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface DoctorCommandOptions {
  /**
   * The report.
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Directory relative paths (`models/tiny-arith`) are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Environment (`MASA_DATASETS_DIR`, `MASA_CHROMIUM`, `LD_LIBRARY_PATH`).
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  _internal?: DoctorInternal;
}

const MIN_NODE = [20, 11] as const;
/**
 * What the CUDA provider links, by onnxruntime version: 1.30.0's NuGet build is
 * for CUDA 12; the 1.29.0 libraries of the offline npm route are built against
 * CUDA 13. cuDNN 9 is loaded at run time by both.
 */
export function cudaLibrariesFor(onnxruntimeVersion: string): string[] {
  const cuda = onnxruntimeVersion.startsWith('1.29.') ? '13' : '12';
  return [`libcudart.so.${cuda}`, `libcublas.so.${cuda}`, `libcublasLt.so.${cuda}`, 'libcurand.so.10', 'libcudnn.so.9'];
}
const PROVIDER_FILES = { cuda: 'libonnxruntime_providers_cuda.so', shared: 'libonnxruntime_providers_shared.so' } as const;
export const DEFAULT_MODEL_DIR = 'models/tiny-arith';

const firstLine = (text: string): string => text.trim().split('\n')[0]?.trim() ?? '';

function defaultCommandVersion(command: string, args: readonly string[]): string | undefined {
  const result = spawnSync(command, [...args], { encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0 || result.error !== undefined) return undefined;
  return firstLine(result.stdout) || undefined;
}

function defaultOnnxRuntime(): OnnxRuntimeFacts | undefined {
  try {
    const fromCli = createRequire(import.meta.url);
    const onnxManifest = fromCli.resolve('@masa-rl/onnx/package.json');
    const manifestPath = createRequire(onnxManifest).resolve('onnxruntime-node/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown };
    const packageDir = realpathSync(dirname(manifestPath));
    return { version: String(manifest.version), packageDir, binaryDir: join(packageDir, 'bin', 'napi-v6', process.platform, process.arch) };
  } catch {
    return undefined;
  }
}

/** x = [1, 2, 3] → x · 2 + 1 on the CPU provider. */
async function defaultRunCpuGraph(): Promise<{ output: number[]; ms: number }> {
  const started = performance.now();
  const graph = createGraph({ name: 'doctor' });
  graph.output('y', add(mul(graph.input('x', 'float32', [3]), 2), 1));
  const session = await createSession({ model: graph, device: 'cpu' });
  try {
    const result = await session.run({ x: createTensorValue('float32', [3], Float32Array.of(1, 2, 3)) });
    return { output: Array.from(result['y']?.data as Float32Array), ms: performance.now() - started };
  } finally {
    await session.release();
  }
}

/**
 * A 768³ matrix product (≈ 0.9 GFLOP, ≈ 10 ms on one core) five times on one thread and on every core, interleaved,
 * so a neighbour that keeps a core busy shows up as a small speedup.
 */
async function defaultMeasureThreads(): Promise<ThreadScaling> {
  const cores = availableParallelism();
  if (cores < 2) return { cores, speedup: undefined };
  const n = 768;
  const graph = createGraph({ name: 'doctor-threads' });
  graph.output('y', matMul(graph.input('a', 'float32', [n, n]), graph.input('b', 'float32', [n, n])));
  const feeds = {
    a: createTensorValue('float32', [n, n], Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5)),
    b: createTensorValue('float32', [n, n], Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5)),
  };
  const one = await createSession({ model: graph, device: 'cpu', intraOpNumThreads: 1 });
  const all = await createSession({ model: graph, device: 'cpu', intraOpNumThreads: cores });
  try {
    const times: [number[], number[]] = [[], []];
    for (let round = 0; round < 6; round++) {
      for (const [index, session] of [one, all].entries()) {
        const started = performance.now();
        await session.run(feeds);
        if (round > 0) times[index]?.push(performance.now() - started); // the first run of each is a warm-up
      }
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
    return { cores, speedup: median(times[0]) / median(times[1]) };
  } finally {
    await one.release();
    await all.release();
  }
}

/** The `threads` line: whether `--threads` is worth passing here. */
export function judgeThreads(scaling: ThreadScaling): DoctorCheck {
  const { cores, speedup } = scaling;
  if (speedup === undefined) return { name: 'threads', status: 'ok', summary: `${cores} core: ONNX Runtime runs on one thread (the default)`, required: false };
  const measured = `a matrix product ran ${speedup.toFixed(1)}× as fast on ${cores} ONNX Runtime threads as on one`;
  return speedup >= 1.3
    ? { name: 'threads', status: 'ok', summary: `${measured}: pass --threads ${cores} to masa train, eval and serve for speed (the numbers then differ from one thread's in float rounding)`, required: false }
    : { name: 'threads', status: 'ok', summary: `${measured}: the other cores look busy, keep the default of one thread`, required: false };
}

/** Sonames the dynamic linker cannot find, from `ldconfig -p` and the LD_LIBRARY_PATH folders. */
function missingLibraries(names: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const known = ldconfig.status === 0 ? ldconfig.stdout : '';
  const folders = (env['LD_LIBRARY_PATH'] ?? '').split(delimiter).filter((folder) => folder !== '');
  return names.filter((name) => !known.includes(`${name} `) && !folders.some((folder) => existsSync(join(folder, name))));
}

/** CUDA library folders that exist here but that the dynamic linker need not search. */
function cudaLibraryFolders(): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync('/usr/local').filter((name) => name === 'cuda' || name.startsWith('cuda-'));
  } catch {
    entries = [];
  }
  return entries
    .flatMap((name) => [join('/usr/local', name, 'lib64'), join('/usr/local', name, 'targets', `${process.arch === 'arm64' ? 'sbsa' : 'x86_64'}-linux`, 'lib')])
    .filter((folder) => existsSync(folder));
}

function findCudaToolkit(): string | undefined {
  const home = existsSync('/usr/local/cuda') ? '/usr/local/cuda' : undefined;
  if (home === undefined) return undefined;
  const nvcc = spawnSync(join(home, 'bin', 'nvcc'), ['--version'], { encoding: 'utf8', timeout: 15_000 });
  const release = /release ([\d.]+)/.exec(nvcc.stdout ?? '')?.[1];
  return `CUDA ${release ?? '(version unknown)'} at ${home}`;
}

function defaultCudaFacts(runtime: OnnxRuntimeFacts | undefined, env: NodeJS.ProcessEnv): () => Promise<CudaFacts> {
  return async () => {
    const providerLibraries = {
      cuda: runtime !== undefined && existsSync(join(runtime.binaryDir, PROVIDER_FILES.cuda)),
      shared: runtime !== undefined && existsSync(join(runtime.binaryDir, PROVIDER_FILES.shared)),
    };
    const smi = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 15_000 });
    const gpu = smi.status === 0 && smi.error === undefined ? firstLine(smi.stdout) || undefined : undefined;
    let driverCudaVersion: string | undefined;
    if (gpu !== undefined) {
      const banner = spawnSync('nvidia-smi', [], { encoding: 'utf8', timeout: 15_000 });
      driverCudaVersion = /CUDA Version:\s*([\d.]+)/.exec(banner.stdout ?? '')?.[1];
    }
    let sessionError: string | undefined;
    try {
      const graph = createGraph({ name: 'doctor-cuda' });
      graph.output('y', add(graph.input('x', 'float32', [2]), 1));
      // Fatal-only logging: ORT would otherwise print its own copy of the load error on stderr.
      const session = await createSession({ model: graph, device: 'cuda', logSeverityLevel: 4 });
      try {
        await session.run({ x: createTensorValue('float32', [2], Float32Array.of(1, 2)) });
      } finally {
        await session.release();
      }
    } catch (error: unknown) {
      // Keep the reason; the install hint that follows it is what the fix below spells out for this machine.
      sessionError = (error instanceof Error ? error.message : String(error)).split(': install the CUDA execution provider')[0];
    }
    let missing = missingLibraries(cudaLibrariesFor(runtime?.version ?? ''), env);
    if (runtime !== undefined && providerLibraries.cuda) {
      // The provider's own view: what its dynamic dependencies resolve to here (cuDNN is opened later, so keep that check).
      const ldd = spawnSync('ldd', [join(runtime.binaryDir, PROVIDER_FILES.cuda)], { encoding: 'utf8', env: { ...process.env, ...env } });
      const notFound = [...(ldd.stdout ?? '').matchAll(/^\s*(\S+) => not found/gm)].map((match) => match[1] as string);
      missing = [...new Set([...notFound, ...missing.filter((name) => name.startsWith('libcudnn'))])];
    }
    const folders = cudaLibraryFolders();
    const librariesOffPath = missing.flatMap((name) => {
      const dir = folders.find((folder) => existsSync(join(folder, name)));
      return dir === undefined ? [] : [{ name, dir }];
    });
    return { runtime, providerLibraries, gpu, driverCudaVersion, missingCudaLibraries: missing, librariesOffPath, cudaToolkit: findCudaToolkit(), sessionError };
  };
}

function defaultFindChromium(env: NodeJS.ProcessEnv): () => string | undefined {
  return () => [env['MASA_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => path !== undefined && path !== '' && existsSync(path));
}

/** The first python3 that imports torch (the first on PATH may be a pyenv build that cannot see Debian's packages). */
function defaultFindTorch(): { python: string; version: string } | undefined {
  const which = spawnSync('bash', ['-c', 'which -a python3 2>/dev/null; echo /usr/bin/python3'], { encoding: 'utf8' });
  const candidates = [...new Set((which.stdout ?? '').split('\n').filter((line) => line !== ''))];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return { python, version: firstLine(probe.stdout) };
  }
  return undefined;
}

/** Shows a path relative to `cwd` when it lies below it. */
function shortPath(path: string, cwd: string): string {
  const inside = relative(cwd, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/**
 * The CUDA line: ok only when a CUDA session really ran; otherwise exactly
 * what is missing, in the order it has to be fixed, and both ways to get the
 * provider libraries.
 */
export function judgeCuda(facts: CudaFacts, cwd: string): DoctorCheck {
  const runtime = facts.runtime;
  const version = runtime?.version ?? '1.30.0';
  const binaryDir = runtime === undefined ? 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64' : shortPath(runtime.binaryDir, cwd);
  const installer = runtime === undefined ? 'node_modules/onnxruntime-node/script/install.js' : shortPath(join(runtime.packageDir, 'script', 'install.js'), cwd);
  if (facts.sessionError === undefined) {
    return {
      name: 'cuda',
      status: 'ok',
      summary: `CUDA execution provider works: a test graph ran on ${facts.gpu ?? 'the GPU'}${facts.driverCudaVersion ? ` (driver supports CUDA ${facts.driverCudaVersion})` : ''}`,
      required: false,
    };
  }
  const libraries = [facts.providerLibraries.cuda ? null : PROVIDER_FILES.cuda, facts.providerLibraries.shared ? null : PROVIDER_FILES.shared].filter((name) => name !== null);
  const found = [
    facts.gpu === undefined ? 'no NVIDIA GPU (nvidia-smi not found or it lists no GPU)' : `GPU ${facts.gpu}${facts.driverCudaVersion ? `, driver supports CUDA ${facts.driverCudaVersion}` : ''}`,
    libraries.length === 0 ? 'provider libraries present' : `${libraries.join(' and ')} not in ${binaryDir}`,
    facts.missingCudaLibraries.length === 0 ? 'CUDA runtime and cuDNN libraries found' : `not on the library path: ${facts.missingCudaLibraries.join(', ')}`,
    ...(facts.librariesOffPath.length > 0
      ? [`but ${facts.librariesOffPath.map(({ name, dir }) => `${name} is in ${dir}`).join(', ')} (add that folder to LD_LIBRARY_PATH)`]
      : []),
    ...(facts.cudaToolkit === undefined ? [] : [`toolkit: ${facts.cudaToolkit}`]),
  ];
  const libraryList = cudaLibrariesFor(version);
  const cudaMajor = libraryList[0]?.endsWith('.13') === true ? '13' : '12';
  const needs = [
    'CUDA needs, in this order:',
    '(1) an NVIDIA GPU and its driver (nvidia-smi must list the GPU);',
    `(2) the CUDA execution provider for onnxruntime ${version}: ${PROVIDER_FILES.cuda} and ${PROVIDER_FILES.shared} in ${binaryDir};`,
    `(3) the CUDA ${cudaMajor} runtime and cuDNN 9 that this provider build loads (${libraryList.join(', ')}) on the library path (ldconfig or LD_LIBRARY_PATH)${cudaMajor === '12' ? '; a driver for a newer CUDA (13) runs CUDA 12 libraries' : ''}.`,
    `Provider, with network access: ONNXRUNTIME_NODE_INSTALL=cuda12 node ${installer} (downloads Microsoft.ML.OnnxRuntime.Gpu.Linux ${version} from NuGet).`,
    'Provider, without NuGet (npm registry only): com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 on npm carries it for onnxruntime 1.29.0 built against CUDA 13, which means pinning onnxruntime-node 1.29.0 (bench/gpu/README.md weighs that; bench/gpu/run.sh does either route).',
    "Until then use device 'cpu' (or allowCpuFallback).",
  ];
  const toolkitMajor = /^CUDA (\d+)\./.exec(facts.cudaToolkit ?? '')?.[1];
  if (toolkitMajor !== undefined && toolkitMajor !== cudaMajor) {
    needs.splice(
      4,
      0,
      `The toolkit here (${facts.cudaToolkit}) does not provide the CUDA ${cudaMajor} libraries this provider needs: add the CUDA ${cudaMajor} runtime, cuBLAS and cuRAND libraries and cuDNN 9 for CUDA ${cudaMajor}${cudaMajor === '12' ? ', or take the npm route below, which is built for CUDA 13' : ''}.`,
    );
  }
  return {
    name: 'cuda',
    status: 'missing',
    summary: `CUDA execution provider not usable: ${found.join('; ')}${libraries.length === 0 ? ` — it failed to start: ${facts.sessionError}` : ''}`,
    fix: needs.join('\n'),
    required: false,
  };
}

/** The sandbox line: bubblewrap with every guarantee is ok; a weaker isolation is a warning that says what is missing. */
export function judgeSandbox(info: SandboxInfo | Error): DoctorCheck {
  if (info instanceof Error) {
    return {
      name: 'sandbox',
      status: 'missing',
      summary: `the Python sandbox does not work: ${info.message}`,
      fix: 'install python3 (and bubblewrap: apt-get install -y python3 bubblewrap); code grading needs it',
      required: false,
    };
  }
  const where = `${info.isolation}, Python ${info.pythonVersion} (${info.python})`;
  if (info.isolation === 'bwrap' && info.warning === undefined) {
    return { name: 'sandbox', status: 'ok', summary: `Python sandbox: ${where}, network/filesystem/process isolation all hold`, required: false };
  }
  return {
    name: 'sandbox',
    status: 'warning',
    summary: `Python sandbox: ${where}${info.warning ? ` — ${info.warning}` : ''}`,
    fix: info.isolation === 'bwrap' ? 'see the warning above' : 'install bubblewrap (apt-get install -y bubblewrap) and allow unprivileged user namespaces, or run as root',
    required: false,
  };
}

/** Runs every check. Never throws for a failed check: the report says what failed and how to fix it. */
export async function runDoctor(options: Omit<DoctorCommandOptions, 'stdout'> = {}): Promise<DoctorReport> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const internal = options._internal ?? {};
  const commandVersion = internal.commandVersion ?? defaultCommandVersion;
  const checks: DoctorCheck[] = [];

  // Node.
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  checks.push({
    name: 'node',
    status: nodeOk ? 'ok' : 'missing',
    summary: `Node ${process.version}${nodeOk ? '' : ` (masa-rl needs ≥ ${MIN_NODE.join('.')})`}`,
    ...(nodeOk ? {} : { fix: `install Node ${MIN_NODE.join('.')} or newer (Node 20 LTS is what the project is tested on)` }),
    required: true,
  });

  // pnpm (to develop and for `pnpm masa` / `pnpm bench`).
  const pnpm = commandVersion('pnpm', ['--version']);
  checks.push(
    pnpm === undefined
      ? { name: 'pnpm', status: 'missing', summary: 'pnpm not found', fix: 'npm i -g pnpm@12.4.2 (needed to build the workspace and for pnpm masa / pnpm bench)', required: false }
      : { name: 'pnpm', status: 'ok', summary: `pnpm ${pnpm}`, required: false },
  );

  // onnxruntime-node and the CPU provider.
  const runtime = (internal.onnxRuntime ?? defaultOnnxRuntime)();
  checks.push(
    runtime === undefined
      ? {
          name: 'onnxruntime',
          status: 'missing',
          summary: 'onnxruntime-node cannot be resolved from @masa-rl/onnx',
          fix: 'run pnpm install in the repository (onnxruntime-node 1.30.0 ships its CPU runtime in the npm package)',
          required: true,
        }
      : { name: 'onnxruntime', status: 'ok', summary: `onnxruntime-node ${runtime.version} (${shortPath(runtime.binaryDir, cwd)})`, required: true },
  );
  try {
    const { output, ms } = await (internal.runCpuGraph ?? defaultRunCpuGraph)();
    const expected = [3, 5, 7];
    const right = output.length === 3 && output.every((value, index) => value === expected[index]);
    checks.push({
      name: 'cpu',
      status: right ? 'ok' : 'missing',
      summary: right
        ? `CPU execution provider works: a test graph ran and gave the right answer (${ms.toFixed(0)} ms)`
        : `CPU execution provider ran but answered [${output.join(', ')}] instead of [3, 5, 7]`,
      ...(right ? {} : { fix: 'reinstall onnxruntime-node (pnpm install --force) and report this as a bug' }),
      required: true,
    });
  } catch (error: unknown) {
    checks.push({
      name: 'cpu',
      status: 'missing',
      summary: `CPU execution provider failed: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'run pnpm install (onnxruntime-node 1.30.0 ships its CPU runtime in the npm package) and pnpm build',
      required: true,
    });
  }

  // Threads: what --threads would buy here.
  try {
    checks.push(judgeThreads(await (internal.measureThreads ?? defaultMeasureThreads)()));
  } catch (error: unknown) {
    checks.push({ name: 'threads', status: 'warning', summary: `could not time ONNX Runtime on several threads: ${error instanceof Error ? error.message : String(error)}`, fix: 'keep the default of one thread', required: false });
  }

  // CUDA and the GPU.
  const cuda = await (internal.cudaFacts ?? defaultCudaFacts(runtime, env))();
  checks.push(
    cuda.gpu === undefined
      ? { name: 'gpu', status: 'missing', summary: 'no NVIDIA GPU: nvidia-smi is not installed or lists no GPU', fix: 'CUDA runs need an NVIDIA GPU and its driver; everything else runs on the CPU', required: false }
      : { name: 'gpu', status: 'ok', summary: `${cuda.gpu}${cuda.driverCudaVersion ? `, driver supports CUDA ${cuda.driverCudaVersion}` : ''}`, required: false },
  );
  checks.push(judgeCuda(cuda, cwd));

  // The Python sandbox (code grading).
  try {
    checks.push(judgeSandbox(await (internal.detectSandbox ?? (() => detectSandbox()))()));
  } catch (error: unknown) {
    checks.push(judgeSandbox(error instanceof Error ? error : new Error(String(error))));
  }

  // Chromium (the dashboard's browser test).
  const chromium = (internal.findChromium ?? defaultFindChromium(env))();
  checks.push(
    chromium === undefined
      ? {
          name: 'chromium',
          status: 'missing',
          summary: 'no Chromium at /usr/bin/chromium (or $MASA_CHROMIUM)',
          fix: 'apt-get install -y chromium, or set MASA_CHROMIUM to a Chromium binary; only the dashboard\'s browser test needs it (it is skipped without)',
          required: false,
        }
      : { name: 'chromium', status: 'ok', summary: `${commandVersion(chromium, ['--version']) ?? 'Chromium'} (${chromium})`, required: false },
  );

  // PyTorch (the train-step benchmark's anchor).
  const torch = (internal.findTorch ?? defaultFindTorch)();
  checks.push(
    torch === undefined
      ? {
          name: 'pytorch',
          status: 'missing',
          summary: 'no python3 can import torch',
          fix: 'bash bench/train-step/setup.sh (apt: python3-torch + libopenblas0-pthread); only the train-step benchmark\'s PyTorch anchor needs it',
          required: false,
        }
      : { name: 'pytorch', status: 'ok', summary: `PyTorch ${torch.version} (${torch.python})`, required: false },
  );

  // Bundled datasets.
  try {
    const datasetsDir = env['MASA_DATASETS_DIR'];
    const files = await (internal.verifyDatasets ?? (() => verifyDatasets(datasetsDir ? { datasetsDir: resolve(cwd, datasetsDir) } : {})))();
    const bad = files.filter((file) => !file.ok);
    checks.push(
      bad.length === 0
        ? { name: 'datasets', status: 'ok', summary: `${files.length} bundled files match datasets/manifest.json (sha256, size, rows)`, required: true }
        : {
            name: 'datasets',
            status: 'missing',
            summary: `${bad.length} of ${files.length} bundled files differ from datasets/manifest.json: ${bad.map((file) => file.path).join(', ')}`,
            fix: 'restore them with git checkout -- datasets (masa data verify lists each file)',
            required: true,
          },
    );
  } catch (error: unknown) {
    checks.push({
      name: 'datasets',
      status: 'missing',
      summary: `the bundled datasets cannot be checked: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'run from the repository, or set MASA_DATASETS_DIR to its datasets/ folder',
      required: true,
    });
  }

  // The default model.
  const modelDir = resolve(cwd, DEFAULT_MODEL_DIR);
  const modelFiles = ['config.json', 'model.safetensors'].filter((file) => !existsSync(join(modelDir, file)));
  checks.push(
    modelFiles.length === 0
      ? { name: 'model', status: 'ok', summary: `default model folder ${DEFAULT_MODEL_DIR} present`, required: false }
      : {
          name: 'model',
          status: 'missing',
          summary: existsSync(modelDir) ? `${DEFAULT_MODEL_DIR} lacks ${modelFiles.join(', ')}` : `no default model folder ${DEFAULT_MODEL_DIR} (in ${cwd})`,
          fix: `train it with masa sft --recipe tiny (writes ${DEFAULT_MODEL_DIR}), or pass --model to the commands that need one`,
          required: false,
        },
  );

  return { checks, ok: checks.every((check) => !check.required || check.status === 'ok') };
}

/** Renders the report for a terminal: one line per check, the fix indented below. */
export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = ['masa doctor — what works on this machine', ''];
  for (const check of report.checks) {
    lines.push(`${check.status.padEnd(8)} ${check.name.padEnd(width)}  ${check.summary}`);
    if (check.fix !== undefined && check.status !== 'ok') {
      const [first = '', ...rest] = check.fix.split('\n');
      const indent = ' '.repeat(11 + width);
      lines.push(`${indent}fix: ${first}`, ...rest.map((line) => `${indent}     ${line}`));
    }
  }
  const count = (status: DoctorStatus): number => report.checks.filter((check) => check.status === status).length;
  const requiredFailed = report.checks.filter((check) => check.required && check.status !== 'ok');
  lines.push(
    '',
    `${count('ok')} ok, ${count('warning')} warning(s), ${count('missing')} missing — ${
      requiredFailed.length === 0 ? 'everything required works' : `REQUIRED: ${requiredFailed.map((check) => check.name).join(', ')}`
    }`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * `masa doctor [--json]`: what works on this machine (Node, pnpm, onnxruntime
 * and its CPU/CUDA providers, the GPU, the Python sandbox, Chromium, PyTorch,
 * the bundled datasets, the default model), each with the fix. Exits non-zero
 * (RUNTIME_UNAVAILABLE) only when something required fails.
 */
export function createDoctorCommand(options: DoctorCommandOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  return new Command('doctor')
    .description('Report which devices, execution providers and tools work on this machine, with the fix for each that does not.')
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: { json?: boolean }) => {
      const report = await runDoctor(options);
      stdout.write(flags.json === true ? `${JSON.stringify(report)}\n` : formatDoctorReport(report));
      const failed = report.checks.filter((check) => check.required && check.status !== 'ok');
      if (failed.length > 0) {
        throw new MasaError('RUNTIME_UNAVAILABLE', `masa doctor: required checks failed: ${failed.map((check) => `${check.name} (${check.fix ?? check.summary})`).join('; ')}`, {
          details: { failed: failed.map((check) => check.name) },
        });
      }
    });
}
