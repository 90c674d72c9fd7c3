/**
 * The worker pool runs the built `dist/grade-worker.js` (worker threads cannot
 * load TypeScript). Tests that start a pool call {@link ensureBuilt} first: it
 * rebuilds the package when any source file is newer than the build, under a
 * lock so parallel test files build once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const outputs = ['index.js', 'grade-worker.js', 'test.js'].map((file) => join(packageDir, 'dist', file));
  if (!outputs.every((file) => existsSync(file))) return false;
  const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  return built >= newestSource(join(packageDir, 'src'));
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds @masa-rl/scoring unless `dist/` is newer than every source file. */
export function ensureBuilt(): void {
  if (isFresh()) return;
  const lock = join(tmpdir(), 'masa-rl-scoring-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}; remove it if no build is running`);
      sleep(200);
      if (isFresh()) return;
    }
  }
  try {
    if (!isFresh()) execFileSync('pnpm', ['--filter', '@masa-rl/scoring', 'build'], { cwd: packageDir, stdio: 'pipe' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
