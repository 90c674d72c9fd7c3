import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MasaError } from '@masa-rl/core';
import { BOOTSTRAP_SOURCE, parseBootstrapReport, type BootstrapConfig, type BootstrapReport } from './bootstrap-source.js';
import { buildBwrapArgs, readBwrapFeatures, readHostLayout, SANDBOX_ENV, type BwrapFeatures, type HostLayout } from './bwrap-args.js';
import { classifyRun, decodeWrapperExit, type KillReason, type RunStatus } from './classify-run.js';
import { reapRun } from './process-reaper.js';
import type { PythonFacts } from './python-facts.js';
import { createUidAllocator, NOBODY, readIdMaps, type UidAllocator } from './sandbox-uid.js';
import { buildNamespaceFilter, isSeccompArch } from './seccomp-filter.js';

/** Isolation level actually used for a run. */
export type Isolation = 'bwrap' | 'rlimits';

/** What one run returns (`runPython`'s result). */
export interface RunPythonResult {
  /** `ok` iff the program exited with code 0. */
  status: RunStatus;
  /** Exit code, or null when the program died from a signal. */
  exitCode: number | null;
  /** Signal name (`SIGKILL`, `SIGXCPU` …) when the program died from one. */
  signal: string | null;
  /** Captured stdout; stdout + stderr together hold at most `maxOutputBytes` bytes. */
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to the end of the run. */
  wallMs: number;
  /** The isolation level that ran it (`rlimits` is the weaker fallback). */
  isolation: Isolation;
}

/** Fully resolved inputs of one run (validated by the caller). */
export interface ExecutePlan {
  code: string;
  timeoutMs: number;
  cpuSeconds: number;
  memoryBytes: number;
  maxProcesses: number;
  maxOutputBytes: number;
  maxFileBytes: number;
  isolation: Isolation;
  facts: PythonFacts;
  signal?: AbortSignal | undefined;
  /** Folder for the per-run temporary folders. */
  tmpRoot: string;
  /** bubblewrap executable (name or path). */
  bwrapPath: string;
  onSpawn?: ((info: { pid: number; tempDir: string }) => void) | undefined;
}

/** A run's result plus what the bootstrap reported (used by detection). */
export interface ExecuteOutcome {
  result: RunPythonResult;
  report: BootstrapReport;
  /** bubblewrap only: the writable tmpfs mounts had a size cap. */
  tmpfsCapped: boolean;
}

/** Where the program lives inside the bubblewrap sandbox. */
export const SANDBOX_WORK_DIR = '/sandbox';
const STATUS_FD = 3;
/** After the main process exits, how long to wait for its pipes to close. */
const CLOSE_GRACE_MS = 1_000;
/** After a kill, how long to wait for the process to go before giving up on it. */
const KILL_GRACE_MS = 2_000;

interface HostFacts {
  privileged: boolean;
  layout: HostLayout;
  uids: UidAllocator;
}

let hostFacts: Promise<HostFacts> | undefined;

function getHostFacts(): Promise<HostFacts> {
  hostFacts ??= (async () => {
    const [layout, maps] = await Promise.all([readHostLayout(), readIdMaps()]);
    return { privileged: process.getuid?.() === 0, layout, uids: createUidAllocator(maps) };
  })();
  return hostFacts;
}

const bwrapFeatures = new Map<string, Promise<BwrapFeatures>>();

function getBwrapFeatures(bwrapPath: string): Promise<BwrapFeatures> {
  let features = bwrapFeatures.get(bwrapPath);
  if (features === undefined) {
    features = readBwrapFeatures(bwrapPath);
    bwrapFeatures.set(bwrapPath, features);
  }
  return features;
}

const seccompHex = new Map<string, string>();

function seccompFor(machine: string): string {
  if (!isSeccompArch(machine)) return '';
  let hex = seccompHex.get(machine);
  if (hex === undefined) {
    hex = Buffer.from(buildNamespaceFilter(machine)).toString('hex');
    seccompHex.set(machine, hex);
  }
  return hex;
}

function emptyReport(): BootstrapReport {
  return parseBootstrapReport('');
}

/**
 * Runs one program in a fresh temporary folder under the chosen isolation,
 * and removes the folder afterwards. Throws `SANDBOX_FAILED` when the sandbox
 * itself could not be set up (bubblewrap or the bootstrap failed), and
 * `RUNTIME_UNAVAILABLE` when the wrapper or interpreter is missing.
 */
export async function executeRun(plan: ExecutePlan): Promise<ExecuteOutcome> {
  if (plan.signal?.aborted) {
    const result: RunPythonResult = { status: 'killed', exitCode: null, signal: null, stdout: '', stderr: '', wallMs: 0, isolation: plan.isolation };
    return { result, report: emptyReport(), tmpfsCapped: false };
  }
  const host = await getHostFacts();
  const tempDir = await mkdtemp(join(plan.tmpRoot, 'masa-sandbox-'));
  try {
    const hostScript = join(tempDir, 'main.py');
    await writeFile(hostScript, plan.code, { encoding: 'utf8', mode: 0o644 });
    const uid = host.privileged ? host.uids.next() : -1;
    if (plan.isolation === 'rlimits' && uid >= 0) {
      // The program's only writable folder: its own.
      await chown(tempDir, uid, uid);
      await chown(hostScript, uid, uid);
      await chmod(tempDir, 0o700);
    }
    const config: BootstrapConfig = {
      statusFd: STATUS_FD,
      namespaces: plan.isolation === 'rlimits',
      cpuSeconds: plan.cpuSeconds,
      memoryBytes: plan.memoryBytes,
      maxFileBytes: plan.maxFileBytes,
      maxProcesses: plan.maxProcesses,
      // bubblewrap without root runs its init as the program's uid inside the user namespace
      helperProcesses: plan.isolation === 'bwrap' && !host.privileged ? 1 : 0,
      uid,
      gid: uid,
      executable: plan.facts.executable,
      script: plan.isolation === 'bwrap' ? `${SANDBOX_WORK_DIR}/main.py` : hostScript,
      seccomp: seccompFor(plan.facts.machine),
    };
    const command = [plan.facts.executable, '-I', '-S', '-c', BOOTSTRAP_SOURCE, JSON.stringify(config)];
    // Processes are found by uid only when the uid is private to this run.
    const reapUid = uid >= 0 && uid !== NOBODY ? uid : -1;
    const tmpfsBytes = plan.isolation === 'bwrap' && (await getBwrapFeatures(plan.bwrapPath)).size ? Math.max(2 * plan.maxFileBytes, 1 << 20) : null;
    return await spawnAndCapture(plan, host, { command, tempDir, hostScript, uid: reapUid, tmpfsBytes });
  } finally {
    await rm(tempDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

interface SpawnInputs {
  command: string[];
  tempDir: string;
  hostScript: string;
  /** The run's private uid for reaping, or -1. */
  uid: number;
  /** bubblewrap tmpfs cap, or null when this bubblewrap cannot cap it. */
  tmpfsBytes: number | null;
}

function spawnAndCapture(plan: ExecutePlan, host: HostFacts, inputs: SpawnInputs): Promise<ExecuteOutcome> {
  const [executable, ...pythonArgs] = inputs.command as [string, ...string[]];
  const bwrap = plan.isolation === 'bwrap';
  const file = bwrap ? plan.bwrapPath : executable;
  const args = bwrap
    ? buildBwrapArgs({
        privileged: host.privileged,
        layout: host.layout,
        pythonPaths: plan.facts.paths,
        hostScript: inputs.hostScript,
        workDir: SANDBOX_WORK_DIR,
        tmpfsBytes: inputs.tmpfsBytes,
        command: inputs.command,
      })
    : pythonArgs;

  return new Promise<ExecuteOutcome>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, {
      // bubblewrap clears the environment itself (--clearenv); the fallback gets a minimal one.
      ...(bwrap ? {} : { cwd: inputs.tempDir, env: { ...SANDBOX_ENV, HOME: inputs.tempDir, TMPDIR: inputs.tempDir } }),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
      windowsHide: true,
    });

    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const status: Buffer[] = [];
    let outputBytes = 0;
    // Also set when the excess arrives after the main process exited (the tail of a pipe).
    let outputExceeded = false;
    let killReason: KillReason | null = null;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let reaping: Promise<unknown> = Promise.resolve();
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const killAll = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      if (!bwrap) reaping = reapRun({ leader: child.pid, uid: reapUidNow() });
    };
    // Only trust the uid once the bootstrap says it switched to it.
    const reapUidNow = (): number => (parseBootstrapReport(Buffer.concat(status).toString('utf8')).uid === inputs.uid ? inputs.uid : -1);

    const stop = (reason: KillReason): void => {
      if (settled || exit !== null || killReason !== null) return;
      killReason = reason;
      killAll();
      timers.push(setTimeout(() => forceFinish(), KILL_GRACE_MS));
    };

    const forceFinish = (): void => {
      for (const stream of [child.stdout, child.stderr, child.stdio[STATUS_FD]]) stream?.destroy();
      void finish();
    };

    const capture = (into: Buffer[]) => (chunk: Buffer) => {
      if (killReason !== null || outputExceeded) return;
      const room = plan.maxOutputBytes - outputBytes;
      if (chunk.length > room) {
        if (room > 0) into.push(chunk.subarray(0, room));
        outputBytes = plan.maxOutputBytes;
        outputExceeded = true;
        stop('output-limit');
        return;
      }
      into.push(chunk);
      outputBytes += chunk.length;
    };
    child.stdout?.on('data', capture(stdout));
    child.stderr?.on('data', capture(stderr));
    const statusStream = child.stdio[STATUS_FD];
    statusStream?.on('data', (chunk: Buffer) => status.push(chunk));
    // A destroyed stream may report an error; the run's outcome is decided elsewhere.
    for (const stream of [child.stdout, child.stderr, statusStream]) stream?.on('error', () => undefined);

    const onAbort = (): void => stop('aborted');
    plan.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => stop('timeout'), plan.timeoutMs));

    if (child.pid !== undefined) plan.onSpawn?.({ pid: child.pid, tempDir: inputs.tempDir });

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      if (child.pid === undefined || error.code === 'ENOENT') {
        settled = true;
        cleanup();
        reject(
          bwrap
            ? new MasaError(
                'RUNTIME_UNAVAILABLE',
                `bubblewrap ('${plan.bwrapPath}') could not be started (${error.message}); install it (apt-get install bubblewrap) or pass isolation: 'rlimits'`,
                { cause: error },
              )
            : new MasaError('RUNTIME_UNAVAILABLE', `Python '${executable}' could not be started (${error.message}); pass the option python: '/path/to/python3'`, {
                cause: error,
              }),
        );
      }
    });

    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Leftovers (background children) die with the main process.
      killAll();
      timers.push(setTimeout(() => forceFinish(), CLOSE_GRACE_MS));
    });
    child.on('close', () => void finish());

    function cleanup(): void {
      for (const timer of timers) clearTimeout(timer);
      plan.signal?.removeEventListener('abort', onAbort);
    }

    async function finish(): Promise<void> {
      if (settled) return;
      settled = true;
      cleanup();
      const wallMs = performance.now() - started;
      if (exit === null && child.pid !== undefined) killAll();
      await reaping;
      const report = parseBootstrapReport(Buffer.concat(status).toString('utf8'));
      const raw = exit ?? { code: null, signal: null };
      const { exitCode, signal } = bwrap ? decodeWrapperExit(raw.code, raw.signal) : { exitCode: raw.code, signal: raw.signal };
      const stderrText = Buffer.concat(stderr).toString('utf8');
      if (killReason === null && report.error !== null) {
        reject(new MasaError('SANDBOX_FAILED', `the sandbox bootstrap failed: ${report.error}`, { details: { isolation: plan.isolation } }));
        return;
      }
      if (killReason === null && !report.started && exitCode !== 0) {
        const firstLine = stderrText.trim().split('\n')[0] ?? '';
        reject(
          new MasaError(
            'SANDBOX_FAILED',
            bwrap
              ? `bubblewrap could not set up the sandbox (${firstLine || `exit code ${exitCode}, signal ${signal}`}); check that unprivileged user namespaces are enabled (or run as root), or pass isolation: 'rlimits'`
              : `Python '${executable}' failed before the sandbox bootstrap ran (${firstLine || `exit code ${exitCode}, signal ${signal}`}); pass the option python: '/path/to/python3'`,
            { details: { isolation: plan.isolation, stderr: stderrText.slice(0, 2000) } },
          ),
        );
        return;
      }
      const result: RunPythonResult = {
        status: classifyRun({ killReason: killReason ?? (outputExceeded ? 'output-limit' : null), exitCode, signal, stderr: stderrText }),
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: stderrText,
        wallMs,
        isolation: plan.isolation,
      };
      resolve({ result, report, tmpfsCapped: bwrap && inputs.tmpfsBytes !== null });
    }
  });
}
