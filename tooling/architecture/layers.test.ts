/**
 * Architecture rules from DESIGN.md and STYLE.md, checked on the source tree:
 *  - dependencies between workspace packages follow the layer arrows;
 *  - only @masa-rl/onnx imports onnxruntime-node;
 *  - the pure packages use no node:* modules, clocks, Math.random, console or env.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Which workspace packages each package may depend on (the arrows of DESIGN.md). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  sandbox: ['core'],
  datasets: ['core'],
  scoring: ['core', 'sandbox'],
  'meta-gating': ['core'],
  'grpo-loss': ['core', 'onnx'],
  onnx: ['core'],
  model: ['core', 'onnx'],
  rollout: ['core', 'onnx', 'model', 'scoring'],
  trainer: ['core', 'onnx', 'model', 'rollout', 'datasets', 'scoring', 'meta-gating', 'grpo-loss'],
  evaluation: ['core', 'datasets', 'scoring', 'rollout', 'model'],
};

/** Packages that must stay pure: no I/O, no clock, no randomness, no printing. */
const PURE = ['core', 'meta-gating', 'grpo-loss'];

function packageNames(): string[] {
  return readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'package.json')));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(entry) && !/\.test\.ts$/.test(entry) && !path.includes('__tests__')) out.push(path);
  }
  return out;
}

describe('package layers', () => {
  it('every package is known to the layer table', () => {
    const unknown = packageNames().filter((name) => !(name in ALLOWED));
    expect(unknown, 'add new packages to ALLOWED in tooling/architecture/layers.test.ts').toEqual([]);
  });

  it('workspace dependencies follow the arrows of DESIGN.md', () => {
    const violations: string[] = [];
    for (const name of packageNames()) {
      const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      const deps = { ...manifest.dependencies, ...manifest.peerDependencies };
      for (const dep of Object.keys(deps)) {
        if (!dep.startsWith('@masa-rl/') || dep === '@masa-rl/tsconfig') continue;
        const target = dep.slice('@masa-rl/'.length);
        if (!(ALLOWED[name] ?? []).includes(target)) violations.push(`${name} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only @masa-rl/onnx imports onnxruntime-node', () => {
    const offenders: string[] = [];
    for (const name of packageNames()) {
      if (name === 'onnx') continue;
      for (const file of sourceFiles(join(root, 'packages', name, 'src'))) {
        if (/from\s+['"]onnxruntime-node['"]|import\(\s*['"]onnxruntime-node['"]/.test(readFileSync(file, 'utf8'))) {
          offenders.push(relative(root, file));
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('pure packages use no node modules, clock, Math.random, console or env', () => {
    const rules: Array<[RegExp, string]> = [
      [/from\s+['"]node:/, 'imports a node: module'],
      [/\bDate\.now\(/, 'reads the clock'],
      [/\bMath\.random\(/, 'uses Math.random'],
      [/\bconsole\./, 'prints'],
      [/\bprocess\.env\b/, 'reads the environment'],
    ];
    const offenders: string[] = [];
    for (const name of PURE) {
      for (const file of sourceFiles(join(root, 'packages', name, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const [pattern, what] of rules) if (pattern.test(text)) offenders.push(`${relative(root, file)} ${what}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
