import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MasaError } from '@masa-rl/core';

/** What the sandbox needs to know about one interpreter. */
export interface PythonFacts {
  /** What the caller passed (`'python3'`, a path …). */
  requested: string;
  /** `sys.executable`: the real interpreter (a pyenv shim resolves to the version's binary). */
  executable: string;
  /** `platform.python_version()`. */
  version: string;
  /** `platform.machine()` (`x86_64`, `aarch64` …). */
  machine: string;
  /**
   * Host folders the interpreter needs (prefixes, the executable's folder,
   * their real paths), deduplicated. Bound read-only into the bubblewrap sandbox.
   */
  paths: string[];
}

const PROBE = [
  'import json, os, platform, sys',
  'print(json.dumps({"executable": sys.executable, "version": platform.python_version(),',
  ' "machine": platform.machine(), "prefixes": [sys.prefix, sys.exec_prefix,',
  ' getattr(sys, "base_prefix", sys.prefix), getattr(sys, "base_exec_prefix", sys.exec_prefix)]}))',
].join('\n');

const PROBE_TIMEOUT_MS = 20_000;

/**
 * Runs the interpreter once on the host (`-I -S`, no user code) to learn its
 * real path, version and prefixes. Throws `RUNTIME_UNAVAILABLE` when it does
 * not start.
 */
export async function readPythonFacts(python: string): Promise<PythonFacts> {
  const output = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(python, ['-I', '-S', '-c', PROBE], { stdio: ['ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => reject(pythonMissing(python, error.message, error)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        reject(pythonMissing(python, `${why}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`));
      }
    });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch (error: unknown) {
    throw pythonMissing(python, `unexpected probe output ${JSON.stringify(output.slice(0, 200))}`, error);
  }
  const facts = parsed as { executable?: unknown; version?: unknown; machine?: unknown; prefixes?: unknown };
  if (typeof facts.executable !== 'string' || facts.executable === '' || typeof facts.version !== 'string') {
    throw pythonMissing(python, 'it did not report sys.executable (an embedded or frozen interpreter?)');
  }
  const prefixes = Array.isArray(facts.prefixes) ? facts.prefixes.filter((p): p is string => typeof p === 'string' && p.startsWith('/')) : [];
  const candidates = [...prefixes, dirname(facts.executable)];
  const real = await Promise.all(
    [...candidates, facts.executable].map(async (path) => {
      try {
        return await realpath(path);
      } catch {
        return path;
      }
    }),
  );
  const realExecutable = real.pop() ?? facts.executable;
  const paths = minimalCover([...candidates, ...real, dirname(realExecutable)]);
  return {
    requested: python,
    executable: facts.executable,
    version: facts.version,
    machine: typeof facts.machine === 'string' ? facts.machine : '',
    paths,
  };
}

/**
 * Absolute folders with duplicates and nested folders removed (binding a
 * parent covers its children). `/` is dropped: the sandbox never binds the
 * whole host.
 */
export function minimalCover(paths: readonly string[]): string[] {
  const clean = [...new Set(paths.map((p) => p.replace(/\/+$/, '')).filter((p) => p.startsWith('/') && p !== ''))].sort();
  const kept: string[] = [];
  for (const path of clean) {
    if (!kept.some((parent) => path === parent || path.startsWith(`${parent}/`))) kept.push(path);
  }
  return kept;
}

function pythonMissing(python: string, why: string, cause?: unknown): MasaError {
  return new MasaError(
    'RUNTIME_UNAVAILABLE',
    `Python interpreter '${python}' did not start (${why}); install python3 or pass the option python: '/path/to/python3'`,
    { cause, details: { python } },
  );
}
