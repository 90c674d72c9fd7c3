import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { detectSandbox, type SandboxInfo } from './detect-sandbox.js';
import { runPython, type RunPythonOptions } from './run-python.js';

// Any python3 works; Debian's /usr/bin/python3 is readable by an unprivileged
// uid (a pyenv python under /root is not), which the rlimits fallback needs to
// cap processes when the tests run as root.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const bwrapInfo: SandboxInfo | Error = await detectSandbox({ python: PYTHON, isolation: 'bwrap' }).catch((error: unknown) => error as Error);
const rlimitsInfo: SandboxInfo = await detectSandbox({ python: PYTHON, isolation: 'rlimits' });

interface ProcEntry {
  pid: number;
  comm: string;
  state: string;
  pgrp: number;
}

/** Every process in /proc, read directly (independent of the package's own reaper). */
function readProc(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state = '', , pgrp = ''] = stat.slice(close + 2).split(' ');
      entries.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, close), state, pgrp: Number(pgrp) });
    } catch {
      // gone
    }
  }
  return entries;
}

/**
 * Live processes (not zombies: a zombie has exited and only waits for its
 * parent, here the host's init, to collect its status) named `tag` or in
 * process group `pgid`.
 */
function survivors(match: { tag?: string; pgid?: number }): number[] {
  return readProc()
    .filter((entry) => entry.state !== 'Z' && (entry.comm === match.tag || entry.pgrp === match.pgid))
    .map((entry) => entry.pid);
}

async function waitForNoSurvivors(match: { tag?: string; pgid?: number }, withinMs = 2_000): Promise<number[]> {
  const until = Date.now() + withinMs;
  let left = survivors(match);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = survivors(match);
  }
  return left;
}

/** Python that renames the process (and every child it forks) to `tag`. */
const nameProcess = (tag: string): string => `import ctypes\nctypes.CDLL(None).prctl(15, ${JSON.stringify(tag)}.encode(), 0, 0, 0)\n`;
const newTag = (): string => `masa${randomBytes(5).toString('hex')}`;

const MODES = [
  { isolation: 'bwrap' as const, info: bwrapInfo },
  { isolation: 'rlimits' as const, info: rlimitsInfo },
];

describe.each(MODES)('runPython with isolation $isolation', ({ isolation, info }) => {
  const usable = !(info instanceof Error);
  const guarantees = info instanceof Error ? null : info.guarantees;
  const run = (options: RunPythonOptions) => runPython({ python: PYTHON, isolation, timeoutMs: 5_000, ...options });

  it.skipIf(!usable)(`is usable here${info instanceof Error ? ` (skipped: ${info.message})` : ''}`, () => {
    expect(info).not.toBeInstanceOf(Error);
  });

  describe.skipIf(!usable)('basic programs', () => {
    it('runs a passing program: status ok, stdout captured', async () => {
      const result = await run({ code: 'def add(a, b):\n    return a + b\nassert add(2, 3) == 5\nprint(add(20, 22))\n' });
      expect(result).toMatchObject({ status: 'ok', exitCode: 0, signal: null, stdout: '42\n', isolation });
    });

    it('reports a failing assert as error with the AssertionError on stderr', async () => {
      const result = await run({ code: 'assert sorted([3, 1, 2]) == [3, 2, 1], "not sorted"\n' });
      expect(result.status).toBe('error');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/AssertionError: not sorted/);
    });

    it('does not hang on stdin: input() sees end-of-file at once', async () => {
      const result = await run({ code: 'name = input()\nprint(name)\n', timeoutMs: 5_000 });
      expect(result.status).toBe('error');
      expect(result.stderr).toMatch(/EOFError/);
      expect(result.wallMs).toBeLessThan(3_000);
    });

    it('lets the program use threads and subprocesses within the limits', async () => {
      const result = await run({
        code: [
          'import subprocess, sys, threading',
          'out = []',
          'worker = threading.Thread(target=lambda: out.append(sum(range(10))))',
          'worker.start()',
          'worker.join()',
          'child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], stdout=subprocess.PIPE, universal_newlines=True)',
          'print(out[0], child.stdout.strip())',
        ].join('\n'),
      });
      expect(result.stderr).toBe('');
      expect(result).toMatchObject({ status: 'ok', stdout: '45 42\n' });
    });

    it('runs in its own writable folder with a minimal environment', async () => {
      process.env['MASA_SANDBOX_TEST_SECRET'] = 'leak';
      try {
        const result = await run({
          code: [
            'import os',
            'open("scratch.txt", "w").write("hello")',
            'assert open("scratch.txt").read() == "hello"',
            'assert "MASA_SANDBOX_TEST_SECRET" not in os.environ, sorted(os.environ)',
            'assert os.environ["HOME"] == os.getcwd(), (os.environ["HOME"], os.getcwd())',
            'print(sorted(os.environ))',
          ].join('\n'),
        });
        expect(result.stderr).toBe('');
        expect(result.status).toBe('ok');
      } finally {
        delete process.env['MASA_SANDBOX_TEST_SECRET'];
      }
    });
  });

  describe.skipIf(!usable)('the six attacks of issue 2', () => {
    it('stops an infinite loop at the wall-clock deadline', async () => {
      const result = await run({ code: 'while True:\n    pass\n', timeoutMs: 1_000, cpuSeconds: 30 });
      expect(result.status).toBe('timeout');
      expect(result.wallMs).toBeGreaterThanOrEqual(900);
      expect(result.wallMs).toBeLessThan(3_500);
    });

    it('stops a CPU-bound loop by RLIMIT_CPU before the wall clock', async () => {
      // generous wall limits: on a shared core one CPU-second can take several wall seconds
      const result = await run({ code: 'while True:\n    pass\n', timeoutMs: 20_000, cpuSeconds: 1 });
      expect(result.status).toBe('timeout');
      expect(result.signal).toBe('SIGXCPU');
      expect(result.wallMs).toBeGreaterThanOrEqual(900);
      expect(result.wallMs).toBeLessThan(15_000);
    });

    it.skipIf(guarantees?.processes !== true)(
      `caps processes at maxProcesses and kills children left behind${guarantees?.processes === true ? '' : ' (skipped: process count not capped here, see detectSandbox().warning)'}`,
      async () => {
        const tag = newTag();
        const code = `${nameProcess(tag)}import os, time
kids = 0
for _ in range(20):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids += 1
print(kids)
`;
        const result = await run({ code, maxProcesses: 6 });
        expect(result.status).toBe('ok');
        const kids = Number(result.stdout.trim());
        // the main process counts too, so exactly 5 children; a missing cap would give 20
        expect(kids).toBe(5);
        expect(await waitForNoSurvivors({ tag })).toEqual([]);
      },
    );

    it.skipIf(guarantees?.processes !== true)(
      `stops a fork bomb (children even leave the session) and leaves no process behind${guarantees?.processes === true ? '' : ' (skipped: process count not capped here, so a fork bomb could freeze the machine)'}`,
      async () => {
        const tag = newTag();
        const code = `${nameProcess(tag)}import os
while True:
    try:
        if os.fork() == 0:
            os.setsid()
    except OSError:
        pass
`;
        let pgid = -1;
        const result = await run({ code, timeoutMs: 1_500, maxProcesses: 8, _internal: { onSpawn: ({ pid }) => (pgid = pid) } });
        expect(['timeout', 'error']).toContain(result.status);
        expect(result.wallMs).toBeLessThan(4_500);
        expect(await waitForNoSurvivors({ tag })).toEqual([]);
        expect(pgid).toBeGreaterThan(0);
        expect(await waitForNoSurvivors({ pgid })).toEqual([]);
      },
    );

    it('stops a memory bomb with status memory', async () => {
      const result = await run({ code: 'hoard = []\nwhile True:\n    hoard.append(bytearray(16 * 2**20))\n', memoryMb: 256 });
      expect(result.status).toBe('memory');
      expect(result.stderr).toMatch(/MemoryError/);
      expect(result.wallMs).toBeLessThan(3_000);
    });

    const fileIsolated = isolation === 'bwrap' || (guarantees?.processes === true && process.getuid?.() === 0);
    it.skipIf(!fileIsolated)(
      `cannot write a file outside its folder${fileIsolated ? '' : ' (skipped: the fallback runs as this user, so file permissions do not stop it)'}`,
      async () => {
        const outside = await mkdtemp(join(tmpdir(), 'masa-sandbox-outside-'));
        const target = join(outside, 'escaped.txt');
        try {
          const result = await run({ code: `open(${JSON.stringify(target)}, "w").write("escaped")\n` });
          expect(result.status).toBe('error');
          expect(result.stderr).toMatch(/FileNotFoundError|PermissionError/);
          expect(existsSync(target)).toBe(false);
        } finally {
          await rm(outside, { recursive: true, force: true });
        }
      },
    );

    it.skipIf(guarantees?.network !== true)(
      `cannot open a network connection, even to the host's loopback${guarantees?.network === true ? '' : ' (skipped: no network namespace here)'}`,
      async () => {
        let connections = 0;
        const server: Server = createServer((socket) => {
          connections++;
          socket.destroy();
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        try {
          const result = await run({
            code: `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\ns.sendall(b"hi")\nprint("connected")\n`,
          });
          expect(result.status).toBe('error');
          expect(result.stderr).toMatch(/ConnectionRefusedError|Network is unreachable|OSError/);
          expect(result.stdout).not.toMatch(/connected/);
          expect(connections).toBe(0);
        } finally {
          await new Promise((resolve) => server.close(resolve));
        }
      },
    );

    it('kills a program printing 100 MB once 1 MiB is captured', async () => {
      const result = await run({
        code: 'import sys\nchunk = "x" * 2**20\nfor _ in range(100):\n    sys.stdout.write(chunk)\nsys.stdout.flush()\n',
        maxOutputBytes: 2 ** 20,
      });
      expect(result.status).toBe('output-limit');
      expect(result.stdout.length).toBe(2 ** 20);
      expect(result.stdout).toMatch(/^x+$/);
      expect(result.wallMs).toBeLessThan(3_000);
    });
  });

  describe.skipIf(!usable)('limits and lifecycle', () => {
    it('counts stderr against the output budget too', async () => {
      const result = await run({ code: 'import sys\nsys.stderr.write("e" * 5000)\nsys.stderr.flush()\n', maxOutputBytes: 1000 });
      expect(result.status).toBe('output-limit');
      expect(result.stdout.length + result.stderr.length).toBeLessThanOrEqual(1000);
    });

    it('refuses files larger than maxFileBytes', async () => {
      const result = await run({ code: 'open("big.bin", "wb").write(b"x" * 300_000)\n', maxFileBytes: 100_000 });
      expect(result.status).toBe('error');
      expect(result.stderr).toMatch(/File too large/);
    });

    it.skipIf(guarantees?.namespaces !== true)('cannot create a user namespace (seccomp)', async () => {
      const result = await run({
        code: 'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.unshare(0x10000000), ctypes.get_errno())\n',
      });
      expect(result.status).toBe('ok');
      expect(result.stdout.trim()).toBe('-1 1'); // EPERM
    });

    it('kills the run when the AbortSignal fires', async () => {
      const controller = new AbortController();
      const tag = newTag();
      setTimeout(() => controller.abort(), 400);
      let pgid = -1;
      const result = await run({
        code: `${nameProcess(tag)}while True:\n    pass\n`,
        timeoutMs: 10_000,
        signal: controller.signal,
        _internal: { onSpawn: ({ pid }) => (pgid = pid) },
      });
      expect(result.status).toBe('killed');
      expect(result.wallMs).toBeLessThan(3_000);
      expect(await waitForNoSurvivors({ tag })).toEqual([]);
      expect(await waitForNoSurvivors({ pgid })).toEqual([]);
    });

    it('returns killed at once for an already aborted signal', async () => {
      let spawned = false;
      const result = await run({ code: 'print(1)\n', signal: AbortSignal.abort(), _internal: { onSpawn: () => (spawned = true) } });
      expect(result.status).toBe('killed');
      expect(spawned).toBe(false);
    });

    it('leaves no temporary folders behind after many runs', async () => {
      const root = await mkdtemp(join(tmpdir(), 'masa-sandbox-root-'));
      try {
        const seen: string[] = [];
        const codes = ['print(1)', 'assert False', 'open("f.txt", "w").write("x")', 'import os\nos.makedirs("a/b/c")', 'raise SystemExit(3)', 'print(2)'];
        for (const code of codes) {
          const result = await run({ code, _internal: { tmpRoot: root, onSpawn: ({ tempDir }) => seen.push(tempDir) } });
          expect(['ok', 'error']).toContain(result.status);
        }
        expect(seen).toHaveLength(codes.length);
        expect(new Set(seen).size).toBe(codes.length);
        expect(readdirSync(root)).toEqual([]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});

describe.skipIf(bwrapInfo instanceof Error)('bubblewrap specifics', () => {
  const run = (options: RunPythonOptions) => runPython({ python: PYTHON, isolation: 'bwrap', timeoutMs: 5_000, ...options });

  it('gives the program a private /tmp: host /tmp is untouched', async () => {
    const target = join('/tmp', `masa-sandbox-escape-${randomBytes(6).toString('hex')}`);
    const result = await run({ code: `open(${JSON.stringify(target)}, "w").write("x")\nprint("written inside")\n` });
    expect(result.status).toBe('ok');
    expect(existsSync(target)).toBe(false);
  });

  it('sees the host system read-only', async () => {
    const result = await run({ code: 'open("/usr/masa-sandbox-escape", "w")\n' });
    expect(result.status).toBe('error');
    expect(result.stderr).toMatch(/Read-only file system|PermissionError/);
    expect(existsSync('/usr/masa-sandbox-escape')).toBe(false);
  });

  it('bounds what the program can store in its tmpfs', async () => {
    // 40 files of 90 kB, each under maxFileBytes, overflow the tmpfs cap of max(2 × 100 kB, 1 MiB)
    const result = await run({
      code: 'import os\nfor i in range(40):\n    open("f%d" % i, "wb").write(b"x" * 90_000)\n',
      maxFileBytes: 100_000,
    });
    expect(result.status).toBe('error');
    expect(result.stderr).toMatch(/No space left on device/);
  });

  it('runs the default python3 on PATH too (e.g. a pyenv shim)', async () => {
    const result = await runPython({ code: 'import sys\nprint(sys.version_info[0])\n', isolation: 'bwrap', timeoutMs: 5_000 });
    expect(result.status).toBe('ok');
    expect(result.stdout).toBe('3\n');
  });
});

describe('option validation', () => {
  it.each([
    ['timeoutMs', { timeoutMs: -1 }],
    ['cpuSeconds', { cpuSeconds: 1.5 }],
    ['memoryMb', { memoryMb: 1 }],
    ['maxProcesses', { maxProcesses: 0 }],
    ['maxOutputBytes', { maxOutputBytes: -5 }],
    ['maxFileBytes', { maxFileBytes: Number.NaN }],
    ['isolation', { isolation: 'docker' as unknown as 'auto' }],
    ['code', { code: 42 as unknown as string }],
  ])('rejects a bad %s with ARGUMENT_INVALID naming it', async (name, bad) => {
    const error = await runPython({ code: 'print(1)', python: PYTHON, ...bad }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'ARGUMENT_INVALID')).toBe(true);
    expect((error as MasaError).message).toContain(name);
  });

  it('rejects a missing interpreter with RUNTIME_UNAVAILABLE', async () => {
    const error = await runPython({ code: 'print(1)', python: '/nonexistent/python3' }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'RUNTIME_UNAVAILABLE')).toBe(true);
    expect((error as MasaError).message).toMatch(/python/);
  });
});
