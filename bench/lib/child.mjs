// Runs one benchmark script as a child process with a deadline, keeping its
// stdout (the JSON result) and the tail of its stderr (for failure reports).
import { spawn } from 'node:child_process';

/** Process groups of the children running now (each child leads its own group). */
const running = new Set();

/** Kills every running child and what it started (for Ctrl-C in the runner). */
export function killRunningChildren() {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/**
 * @typedef {object} ChildResult
 * @property {number | null} status exit status (null when killed)
 * @property {string | null} signal
 * @property {boolean} timedOut
 * @property {string} stdout
 * @property {string} stderrTail the last lines of stderr (at most ~4 KB)
 * @property {number} ms wall time
 */

/**
 * @param {object} options
 * @param {string} options.command
 * @param {readonly string[]} options.args
 * @param {string} options.cwd
 * @param {NodeJS.ProcessEnv} [options.env] @default process.env
 * @param {number} options.timeoutMs the child (and everything it started) is killed after this
 * @param {(line: string) => void} [options.onStderrLine] progress lines as they arrive
 * @returns {Promise<ChildResult>}
 */
export function runChild({ command, args, cwd, env = process.env, timeoutMs, onStderrLine }) {
  return new Promise((resolve) => {
    const started = performance.now();
    // Its own process group, so a timeout also ends what it started (PyTorch's child).
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) running.add(child.pid);
    let stdout = '';
    let stderr = '';
    let partial = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr = (stderr + text).slice(-4096);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onStderrLine?.(line);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    let done = false;
    const finish = (/** @type {number | null} */ status, /** @type {string | null} */ signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.pid !== undefined) running.delete(child.pid);
      if (partial !== '') onStderrLine?.(partial);
      resolve({ status, signal, timedOut, stdout, stderrTail: stderr, ms: performance.now() - started });
    };
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/**
 * Every line of `stdout` that parses as a JSON object, in order. Benchmarks
 * print one result object (`--json`), or one object per row.
 * @param {string} stdout
 * @returns {Record<string, unknown>[]}
 */
export function jsonObjects(stdout) {
  /** @type {Record<string, unknown>[]} */
  const objects = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      const value = JSON.parse(text);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) objects.push(value);
    } catch {
      // not JSON: a log line that starts with a brace
    }
  }
  return objects;
}

/**
 * A benchmark's result: its one JSON object, or `{ rows }` when it printed
 * several (one per row); undefined when it printed none.
 * @param {string} stdout
 * @returns {Record<string, unknown> | undefined}
 */
export function benchmarkJson(stdout) {
  const objects = jsonObjects(stdout);
  if (objects.length === 0) return undefined;
  return objects.length === 1 ? objects[0] : { rows: objects };
}

/**
 * The last few non-empty lines of a text, for failure messages.
 * @param {string} text
 * @param {number} [count] @default 3
 */
export function tailLines(text, count = 3) {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join(' | ');
}
