import { describe, expect, it } from 'vitest';
import { buildBwrapArgs, type BwrapPlan } from './bwrap-args.js';

const plan = (overrides: Partial<BwrapPlan> = {}): BwrapPlan => ({
  privileged: true,
  layout: {
    rootLinks: [
      { path: '/bin', target: 'usr/bin' },
      { path: '/lib', target: 'usr/lib' },
    ],
    rootDirs: [],
    etcPaths: ['/etc/ld.so.cache', '/etc/python3.11'],
  },
  pythonPaths: ['/root/.pyenv/versions/3.11.7', '/usr/lib/python3.11'],
  hostScript: '/tmp/masa-sandbox-x/main.py',
  workDir: '/sandbox',
  tmpfsBytes: 2_000_000,
  command: ['/usr/bin/python3', '-I', '-S', '-c', 'pass', '{}'],
  ...overrides,
});

/** The value following each occurrence of `flag` (or the next `n` values). */
function after(args: string[], flag: string, n = 1): string[][] {
  const found: string[][] = [];
  args.forEach((arg, i) => {
    if (arg === flag) found.push(args.slice(i + 1, i + 1 + n));
  });
  return found;
}

describe('buildBwrapArgs', () => {
  it('unshares every namespace and ties the sandbox to its parent', () => {
    const args = buildBwrapArgs(plan());
    for (const flag of ['--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session', '--clearenv']) {
      expect(args).toContain(flag);
    }
  });

  it('as root: no user namespace, capabilities dropped except the two the uid switch needs', () => {
    const args = buildBwrapArgs(plan({ privileged: true }));
    expect(args).not.toContain('--unshare-user');
    expect(after(args, '--cap-drop')).toEqual([['ALL']]);
    expect(after(args, '--cap-add').map(([cap]) => cap).sort()).toEqual(['CAP_SETGID', 'CAP_SETUID']);
  });

  it('without root: a user namespace and no capability flags', () => {
    const args = buildBwrapArgs(plan({ privileged: false }));
    expect(args).toContain('--unshare-user');
    expect(args).not.toContain('--cap-add');
  });

  it('binds the host read-only and only the three tmpfs mounts are writable', () => {
    const args = buildBwrapArgs(plan());
    expect(args).not.toContain('--bind'); // read-write bind
    const readOnly = after(args, '--ro-bind', 2);
    expect(readOnly).toContainEqual(['/usr', '/usr']);
    expect(readOnly).toContainEqual(['/etc/ld.so.cache', '/etc/ld.so.cache']);
    expect(readOnly).toContainEqual(['/tmp/masa-sandbox-x/main.py', '/sandbox/main.py']);
    expect(readOnly).toContainEqual(['/root/.pyenv/versions/3.11.7', '/root/.pyenv/versions/3.11.7']);
    // /usr/lib/python3.11 is inside the /usr bind already
    expect(readOnly.filter(([source]) => source === '/usr/lib/python3.11')).toEqual([]);
    const tmpfs = args.flatMap((arg, i) => (arg === '--tmpfs' ? [args[i + 1]] : []));
    expect(tmpfs).toEqual(['/dev/shm', '/tmp', '/sandbox']);
    expect(after(args, '--size')).toEqual([['2000000'], ['2000000'], ['2000000']]);
  });

  it('leaves --size out for a bubblewrap without it', () => {
    expect(buildBwrapArgs(plan({ tmpfsBytes: null }))).not.toContain('--size');
  });

  it('creates missing parents 0755, before the mount that needs them', () => {
    const args = buildBwrapArgs(plan());
    const dirs = after(args, '--dir').map(([dir]) => dir);
    expect(dirs).toEqual(['/etc', '/root', '/root/.pyenv', '/root/.pyenv/versions']);
    for (const dir of dirs) {
      const at = args.indexOf(dir ?? '');
      expect(args.slice(at - 3, at)).toEqual(['--perms', '0755', '--dir']);
    }
    expect(args.indexOf('/root/.pyenv/versions')).toBeLessThan(args.lastIndexOf('/root/.pyenv/versions/3.11.7'));
  });

  it('mirrors merged-/usr symlinks and sets a minimal environment', () => {
    const args = buildBwrapArgs(plan());
    expect(after(args, '--symlink', 2)).toEqual([
      ['usr/bin', '/bin'],
      ['usr/lib', '/lib'],
    ]);
    const env = Object.fromEntries(after(args, '--setenv', 2).map(([key, value]) => [key, value]));
    expect(env).toMatchObject({ HOME: '/sandbox', TMPDIR: '/tmp', LANG: 'C.UTF-8' });
    expect(Object.keys(env).sort()).toEqual(['HOME', 'LANG', 'MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'PATH', 'TMPDIR']);
    expect(after(args, '--chdir')).toEqual([['/sandbox']]);
  });

  it('ends with the command, after every option', () => {
    const args = buildBwrapArgs(plan());
    expect(args.slice(-6)).toEqual(['/usr/bin/python3', '-I', '-S', '-c', 'pass', '{}']);
  });
});
