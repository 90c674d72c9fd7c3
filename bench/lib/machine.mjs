// Describes the machine a benchmark run happened on: CPU, cores, memory, load,
// and the versions of everything the figures depend on.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';

/**
 * The first python3 that can `import torch` (the first on PATH may be a pyenv
 * build that does not see Debian's packages), with torch's version.
 * @returns {{ python: string, version: string, cuda: boolean } | undefined}
 */
export function findTorch() {
  const which = spawnSync('bash', ['-c', 'which -a python3 2>/dev/null; echo /usr/bin/python3'], { encoding: 'utf8' });
  const candidates = [...new Set((which.stdout ?? '').split('\n').filter((line) => line !== ''))];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__); print(torch.cuda.is_available())'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (probe.status === 0) {
      const [version = 'unknown', cuda = 'False'] = probe.stdout.trim().split('\n');
      return { python, version, cuda: cuda.trim() === 'True' };
    }
  }
  return undefined;
}

/**
 * onnxruntime-node as @masa-rl/onnx resolves it: version and the folder of its native binary.
 * @param {string} root repository root
 * @returns {{ version: string, binaryFolder: string } | undefined}
 */
export function findOnnxRuntime(root) {
  try {
    const require = createRequire(join(root, 'packages', 'onnx', 'package.json'));
    const manifestPath = require.resolve('onnxruntime-node/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const folder = realpathSync(join(manifestPath, '..'));
    return { version: String(manifest.version), binaryFolder: join(folder, 'bin', 'napi-v6', process.platform, process.arch) };
  } catch {
    return undefined;
  }
}

/** @param {string} command @param {readonly string[]} args */
function firstLine(command, args) {
  const result = spawnSync(command, [...args], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? (result.stdout.trim().split('\n')[0] ?? '').trim() : undefined;
}

/**
 * @typedef {object} MachineInfo
 * @property {string} cpuModel
 * @property {number} logicalCores
 * @property {number} memoryBytes
 * @property {string} os
 * @property {string} node
 * @property {string | undefined} pnpm
 * @property {string | undefined} onnxruntime
 * @property {{ python: string, version: string, cuda: boolean } | undefined} torch
 * @property {string | undefined} blas the file libblas.so.3 points to (PyTorch's BLAS on Debian)
 * @property {string | undefined} gpu nvidia-smi's GPU name, driver and memory, when there is one
 * @property {string | undefined} gitCommit
 * @property {boolean} gitDirty
 */

/**
 * @param {string} root repository root
 * @returns {MachineInfo}
 */
export function describeMachine(root) {
  const ort = findOnnxRuntime(root);
  const blasLink = '/usr/lib/x86_64-linux-gnu/libblas.so.3';
  let blas;
  try {
    blas = existsSync(blasLink) ? realpathSync(blasLink) : undefined;
  } catch {
    blas = undefined;
  }
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    logicalCores: availableParallelism(),
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    pnpm: firstLine('pnpm', ['--version']),
    onnxruntime: ort?.version,
    torch: findTorch(),
    blas,
    gpu: firstLine('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']),
    gitCommit: firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    gitDirty: status.status === 0 && status.stdout.trim() !== '',
  };
}

/** Load averages (1, 5, 15 minutes). */
export function loadAverage() {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return { one, five, fifteen };
}
