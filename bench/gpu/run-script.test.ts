/**
 * bench/gpu/run.sh on a machine without a GPU must stop early with the reason
 * and a distinct exit status, before it builds or downloads anything.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'bench', 'gpu', 'run.sh');
const hasNvidiaSmi = spawnSync('bash', ['-c', 'command -v nvidia-smi'], { encoding: 'utf8' }).status === 0;
const ortBinary = join(realpathSync(join(root, 'packages', 'onnx', 'node_modules', 'onnxruntime-node')), 'bin', 'napi-v6', 'linux', 'x64');
const providerPresent = existsSync(join(ortBinary, 'libonnxruntime_providers_cuda.so'));

function run(args: string[], path = process.env['PATH'] ?? '') {
  return spawnSync('bash', [script, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: path, MASA_ORT_CUDA_DIR: '' }, timeout: 60_000 });
}

describe('bench/gpu/run.sh', () => {
  it.skipIf(hasNvidiaSmi)('without nvidia-smi: exit 3 and says there is no NVIDIA GPU', () => {
    const result = run([]);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/^bench\/gpu: no NVIDIA GPU: nvidia-smi is not installed on this machine/m);
  });

  it.skipIf(providerPresent)('with a GPU but no provider and --route present: exit 4 naming the libraries and the routes', () => {
    const fakeBin = mkdtempSync(join(tmpdir(), 'masa-fake-smi-'));
    const smi = join(fakeBin, 'nvidia-smi');
    writeFileSync(smi, '#!/bin/sh\ncase "$1" in --query-gpu=*) echo "NVIDIA TEST GPU, 580.00, 81559 MiB";; *) echo "CUDA Version: 13.0";; esac\n');
    chmodSync(smi, 0o755);
    const result = run(['--route', 'present'], `${fakeBin}:${process.env['PATH'] ?? ''}`);
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('GPU: NVIDIA TEST GPU, 580.00, 81559 MiB (driver supports CUDA 13.0)');
    expect(result.stderr).toContain('no CUDA execution provider for onnxruntime-node 1.30.0');
    expect(result.stderr).toContain('libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so');
  });

  it('rejects an unknown route with exit 2', () => {
    const result = run(['--route', 'cuda']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--route must be auto, present, nuget or npm-1.29, got 'cuda'");
  });
});
