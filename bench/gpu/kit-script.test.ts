/**
 * bench/gpu/kit.sh unpack, in a throwaway folder shaped like a checkout (never this
 * workspace): it must refuse to replace a checkout's own node_modules, and refuse the
 * provider without the kit's onnxruntime-node.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const python = spawnSync('python3', ['-c', 'import lzma, tarfile'], { encoding: 'utf8' }).status === 0;

/** A checkout-shaped folder: the two scripts, and optionally an onnxruntime-node slot of `version`. */
function checkout(version?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'masa-kit-'));
  mkdirSync(join(root, 'bench', 'gpu'), { recursive: true });
  for (const script of ['kit.sh', 'common.sh']) copyFileSync(join(here, script), join(root, 'bench', 'gpu', script));
  if (version !== undefined) {
    const slot = join(root, 'node_modules', '.pnpm', `onnxruntime-node@${version}`, 'node_modules', 'onnxruntime-node');
    mkdirSync(join(slot, 'bin', 'napi-v6', 'linux', 'x64'), { recursive: true });
    writeFileSync(join(slot, 'package.json'), `{\n  "name": "onnxruntime-node",\n  "version": "${version}"\n}\n`);
    mkdirSync(join(root, 'packages', 'onnx', 'node_modules'), { recursive: true });
    symlinkSync(join('..', '..', '..', 'node_modules', '.pnpm', `onnxruntime-node@${version}`, 'node_modules', 'onnxruntime-node'), join(root, 'packages', 'onnx', 'node_modules', 'onnxruntime-node'));
  }
  return root;
}

/** Part a: a .tar.xz holding one marker file; part b: an .xz "provider" and the shared library. */
function addParts(root: string, parts: { a?: boolean; b?: boolean }): void {
  const kit = join(root, 'bench', '.out', 'gpu', 'kit');
  if (parts.a === true) {
    mkdirSync(join(kit, 'a'), { recursive: true });
    const script = "import io, tarfile, sys\nwith tarfile.open(sys.argv[1], 'w:xz') as t:\n  data = b'from the kit\\n'\n  info = tarfile.TarInfo('node_modules/marker.txt'); info.size = len(data); t.addfile(info, io.BytesIO(data))\n";
    expect(spawnSync('python3', ['-c', script, join(kit, 'a', 'kit.tar.xz')]).status).toBe(0);
  }
  if (parts.b === true) {
    mkdirSync(join(kit, 'b'), { recursive: true });
    const script = "import lzma, sys\nopen(sys.argv[1], 'wb').write(lzma.compress(b'provider bytes'))\n";
    expect(spawnSync('python3', ['-c', script, join(kit, 'b', 'libonnxruntime_providers_cuda.so.xz')]).status).toBe(0);
    writeFileSync(join(kit, 'b', 'libonnxruntime_providers_shared.so'), 'shared');
  }
}

const unpack = (root: string, ...args: string[]) => spawnSync('bash', [join(root, 'bench', 'gpu', 'kit.sh'), 'unpack', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

describe.skipIf(!python)('bench/gpu/kit.sh unpack', () => {
  it("refuses to replace a checkout's own node_modules (onnxruntime-node 1.30.0) unless --force", () => {
    const root = checkout('1.30.0');
    addParts(root, { a: true });
    const refused = unpack(root);
    expect(refused.status).toBe(6);
    expect(refused.stderr).toContain('this checkout has its own node_modules (onnxruntime-node 1.30.0)');
    expect(existsSync(join(root, 'node_modules', 'marker.txt'))).toBe(false);
    const forced = unpack(root, '--force');
    expect(forced.status).toBe(0);
    expect(readFileSync(join(root, 'node_modules', 'marker.txt'), 'utf8')).toBe('from the kit\n');
  });

  it('unpacks part a into a bare checkout', () => {
    const root = checkout();
    addParts(root, { a: true });
    const result = unpack(root);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('unpacking part a');
    expect(readFileSync(join(root, 'node_modules', 'marker.txt'), 'utf8')).toBe('from the kit\n');
  });

  it("puts part b next to the kit's onnxruntime-node 1.29.0, and refuses it beside any other", () => {
    const other = checkout('1.30.0');
    addParts(other, { b: true });
    const refused = unpack(other);
    expect(refused.status).toBe(6);
    expect(refused.stderr).toContain("part b is onnxruntime 1.29.0's CUDA provider, but the onnxruntime-node here is 1.30.0: unpack part a first");

    const root = checkout('1.29.0');
    addParts(root, { b: true });
    const result = unpack(root);
    expect(result.status).toBe(0);
    const bin = join(root, 'node_modules', '.pnpm', 'onnxruntime-node@1.29.0', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
    expect(readFileSync(join(bin, 'libonnxruntime_providers_cuda.so'), 'utf8')).toBe('provider bytes');
    expect(readFileSync(join(bin, 'libonnxruntime_providers_shared.so'), 'utf8')).toBe('shared');
  });

  it('says what to carry when no part is there', () => {
    const result = unpack(checkout());
    expect(result.status).toBe(6);
    expect(result.stderr).toContain('no part of the kit in bench/.out/gpu/kit');
  });
});
