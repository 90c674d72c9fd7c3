import { tmpdir } from 'node:os';
import { MasaError } from '@masa-rl/core';
import { executeRun, type ExecuteOutcome, type Isolation } from './execute-run.js';
import { readPythonFacts, type PythonFacts } from './python-facts.js';

/** What the isolation in use actually holds on this machine (measured by a probe run). */
export interface SandboxGuarantees {
  /** The program has no network: its own network namespace (bubblewrap, or `unshare` in the fallback). */
  network: boolean;
  /** The program can write only to its own folder and a private `/tmp` (bubblewrap's read-only view of the host). */
  filesystem: boolean;
  /** `maxProcesses` binds (false when the program runs as root, which RLIMIT_NPROC ignores). */
  processes: boolean;
  /** Every process the program starts dies with the run (pid namespace, or kill-by-private-uid). */
  cleanup: boolean;
  /** A seccomp filter stops the program from creating namespaces (user namespaces above all). */
  namespaces: boolean;
}

/** What `detectSandbox` found. */
export interface SandboxInfo {
  /** `bwrap` when bubblewrap works here, else `rlimits` (resource limits only). */
  isolation: Isolation;
  /** The interpreter's real path (`sys.executable`). */
  python: string;
  /** `platform.python_version()`. */
  pythonVersion: string;
  /** One line saying what is weaker than full isolation, and how to fix it. Absent when nothing is. */
  warning?: string;
  guarantees: SandboxGuarantees;
}

/** Test seams. */
export interface SandboxInternalOptions {
  /** bubblewrap executable. @default 'bwrap' */
  bwrapPath?: string;
  /** Folder for per-run temporary folders. @default os.tmpdir() */
  tmpRoot?: string;
}

export interface DetectSandboxOptions {
  /** Python interpreter (a name on PATH or a path). @default 'python3' */
  python?: string;
  /**
   * `auto` probes bubblewrap and falls back to `rlimits`; `bwrap` throws
   * `RUNTIME_UNAVAILABLE` when bubblewrap does not work; `rlimits` describes
   * the fallback alone. @default 'auto'
   */
  isolation?: 'auto' | Isolation;
  _internal?: SandboxInternalOptions;
}

const factsCache = new Map<string, Promise<PythonFacts>>();
const probeCache = new Map<string, Promise<ProbeResult>>();

type ProbeResult = { ok: true; outcome: ExecuteOutcome } | { ok: false; reason: string; error: unknown };

/** The interpreter's facts, read once per interpreter name (a failed read is retried next time). */
export function getPythonFacts(python: string): Promise<PythonFacts> {
  let facts = factsCache.get(python);
  if (facts === undefined) {
    facts = readPythonFacts(python);
    factsCache.set(python, facts);
    facts.catch(() => factsCache.delete(python));
  }
  return facts;
}

const PROBE_MARKER = 'masa-sandbox-probe-ok';

function probe(facts: PythonFacts, isolation: Isolation, internal: SandboxInternalOptions): Promise<ProbeResult> {
  const bwrapPath = internal.bwrapPath ?? 'bwrap';
  const tmpRoot = internal.tmpRoot ?? tmpdir();
  const key = [facts.executable, isolation, bwrapPath, tmpRoot].join('\0');
  let result = probeCache.get(key);
  if (result === undefined) {
    result = (async (): Promise<ProbeResult> => {
      try {
        const outcome = await executeRun({
          code: `print(${JSON.stringify(PROBE_MARKER)})\n`,
          timeoutMs: 15_000,
          cpuSeconds: 10,
          memoryBytes: 512 * 2 ** 20,
          maxProcesses: 16,
          maxOutputBytes: 64 * 1024,
          maxFileBytes: 1 << 20,
          isolation,
          facts,
          tmpRoot,
          bwrapPath,
        });
        const { result: run } = outcome;
        if (run.status === 'ok' && run.stdout.includes(PROBE_MARKER)) return { ok: true, outcome };
        const detail = run.stderr.trim().split('\n').slice(-1)[0] ?? '';
        return { ok: false, reason: `probe run ended '${run.status}'${detail ? `: ${detail}` : ''}`, error: null };
      } catch (error: unknown) {
        return { ok: false, reason: error instanceof Error ? error.message : String(error), error };
      }
    })();
    probeCache.set(key, result);
  }
  return result;
}

function guaranteesOf(isolation: Isolation, outcome: ExecuteOutcome): SandboxGuarantees {
  const { report } = outcome;
  const unprivileged = report.uid !== null && report.uid !== 0;
  return {
    network: isolation === 'bwrap' || report.network === 'isolated',
    filesystem: isolation === 'bwrap',
    processes: unprivileged,
    // bubblewrap, or the fallback's own pid namespace; else a private uid finds processes that left the session.
    cleanup: isolation === 'bwrap' || report.pidNamespace || (unprivileged && process.getuid?.() === 0 && report.uidKept === null),
    namespaces: report.seccomp,
  };
}

function describeGaps(guarantees: SandboxGuarantees, outcome: ExecuteOutcome): string[] {
  const gaps: string[] = [];
  if (!guarantees.network) gaps.push('network NOT isolated');
  if (!guarantees.filesystem) gaps.push('filesystem NOT isolated (writes outside the folder are stopped only by file permissions)');
  if (!guarantees.processes) gaps.push(`process count NOT capped (${outcome.report.uidKept ?? 'the program runs as root'})`);
  if (!guarantees.cleanup) gaps.push('processes that leave the session may survive');
  if (!guarantees.namespaces) gaps.push(`no seccomp filter (${outcome.report.seccompOff ?? 'unknown'})`);
  if (guarantees.filesystem && !outcome.tmpfsCapped) gaps.push('writable tmpfs NOT size-capped (bubblewrap older than 0.7.0 has no --size)');
  return gaps;
}

function info(facts: PythonFacts, isolation: Isolation, outcome: ExecuteOutcome, prefix: string | null): SandboxInfo {
  const guarantees = guaranteesOf(isolation, outcome);
  const gaps = describeGaps(guarantees, outcome);
  const base: SandboxInfo = { isolation, python: facts.executable, pythonVersion: facts.version, guarantees };
  if (prefix === null && gaps.length === 0) return base;
  const parts = [prefix, gaps.length > 0 ? `sandbox ${isolation}: ${gaps.join('; ')}` : null].filter((part) => part !== null);
  return { ...base, warning: parts.join('; ') };
}

/**
 * Finds the strongest isolation that works here for `python`, by running a
 * tiny probe program through it. Cached per interpreter (and isolation).
 * Never prints: a weaker setup is described in `warning`.
 */
export async function detectSandbox(options: DetectSandboxOptions = {}): Promise<SandboxInfo> {
  const { python = 'python3', isolation = 'auto', _internal: internal = {} } = options;
  const facts = await getPythonFacts(python);
  if (isolation !== 'rlimits') {
    const bwrap = await probe(facts, 'bwrap', internal);
    if (bwrap.ok) return info(facts, 'bwrap', bwrap.outcome, null);
    if (isolation === 'bwrap') {
      throw new MasaError(
        'RUNTIME_UNAVAILABLE',
        `bubblewrap is unusable here (${bwrap.reason}); install it (apt-get install bubblewrap), allow unprivileged user namespaces or run as root, or pass isolation: 'auto'`,
        { cause: bwrap.error, details: { python: facts.executable } },
      );
    }
    const fallback = await probe(facts, 'rlimits', internal);
    if (!fallback.ok) throw fallbackFailed(fallback, facts);
    return info(facts, 'rlimits', fallback.outcome, `bubblewrap unusable (${bwrap.reason}), falling back to resource limits; install bubblewrap for full isolation`);
  }
  const fallback = await probe(facts, 'rlimits', internal);
  if (!fallback.ok) throw fallbackFailed(fallback, facts);
  return info(facts, 'rlimits', fallback.outcome, null);
}

function fallbackFailed(fallback: { reason: string; error: unknown }, facts: PythonFacts): MasaError {
  return MasaError.isInstance(fallback.error)
    ? fallback.error
    : new MasaError('SANDBOX_FAILED', `the resource-limits sandbox does not work for ${facts.executable} (${fallback.reason})`, {
        cause: fallback.error,
        details: { python: facts.executable },
      });
}
