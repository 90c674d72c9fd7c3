import { spawn } from 'node:child_process';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The host's top-level layout, as far as the sandbox mirrors it. */
export interface HostLayout {
  /** Top-level names that are symlinks (merged /usr): `/lib -> usr/lib`. */
  rootLinks: Array<{ path: string; target: string }>;
  /** Top-level library/binary folders that are real folders (non-merged /usr). */
  rootDirs: string[];
  /** Files and folders under /etc the dynamic loader and Python read. */
  etcPaths: string[];
}

const ROOT_NAMES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const ETC_NAMES = ['ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'localtime'];

/** Reads which of /bin, /lib … are symlinks and which /etc entries exist. */
export async function readHostLayout(): Promise<HostLayout> {
  const layout: HostLayout = { rootLinks: [], rootDirs: [], etcPaths: [] };
  for (const path of ROOT_NAMES) {
    try {
      const stat = await lstat(path);
      if (stat.isSymbolicLink()) layout.rootLinks.push({ path, target: await readlink(path) });
      else if (stat.isDirectory()) layout.rootDirs.push(path);
    } catch {
      // absent on this host
    }
  }
  let etcEntries: string[] = [];
  try {
    etcEntries = await readdir('/etc');
  } catch {
    etcEntries = [];
  }
  for (const name of etcEntries.sort()) {
    // Debian's python3 reads /etc/python3.X/sitecustomize.py through a symlink in /usr.
    if (ETC_NAMES.includes(name) || /^python3(\.\d+)?$/.test(name)) layout.etcPaths.push(`/etc/${name}`);
  }
  return layout;
}

/** Options this bubblewrap knows, read from `bwrap --help` (older releases lack some). */
export interface BwrapFeatures {
  /** `--size` for tmpfs mounts (bubblewrap 0.7.0+). */
  size: boolean;
}

/** Reads `bwrap --help` once; a bubblewrap that does not start is assumed current (its run fails anyway). */
export function readBwrapFeatures(bwrapPath: string): Promise<BwrapFeatures> {
  return new Promise((resolve) => {
    let help = '';
    const child = spawn(bwrapPath, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (help += chunk));
    child.stderr.resume();
    child.on('error', () => resolve({ size: true }));
    child.on('close', () => resolve({ size: help === '' || /--size\b/.test(help) }));
  });
}

/** Everything {@link buildBwrapArgs} needs. */
export interface BwrapPlan {
  /**
   * The caller is root. Then bubblewrap runs without a user namespace (so the
   * program can be dropped to an unprivileged host uid that RLIMIT_NPROC counts),
   * with every capability dropped except CAP_SETUID/CAP_SETGID, which the
   * bootstrap gives up when it switches uid. Otherwise bubblewrap makes a user
   * namespace and the program keeps the caller's uid.
   */
  privileged: boolean;
  layout: HostLayout;
  /** Interpreter folders to bind read-only (see `PythonFacts.paths`). */
  pythonPaths: readonly string[];
  /** Host path of the program file; bound read-only at `${workDir}/main.py`. */
  hostScript: string;
  /** The program's folder inside the sandbox (a size-capped tmpfs). */
  workDir: string;
  /**
   * Size cap of each writable tmpfs (workDir, /tmp, /dev/shm), in bytes, or
   * null for a bubblewrap without `--size` (before 0.7.0): then uncapped.
   */
  tmpfsBytes: number | null;
  /** The command run inside: interpreter, flags, bootstrap. */
  command: readonly string[];
}

/** The minimal environment every sandboxed program gets (both isolation levels add HOME/TMPDIR). */
export const SANDBOX_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
  // BLAS/OpenMP threads count against the process limit.
  OMP_NUM_THREADS: '1',
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
};

/** Paths the sandbox mounts itself; interpreter folders under them are not bound again. */
const SYSTEM_MOUNTS = ['/usr', '/proc', '/dev'];

/** Builds bubblewrap's argument list (pure: all host facts come in through `plan`). */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const args: string[] = [];
  const made = new Set<string>(['/']);
  const ensureParents = (path: string): void => {
    const missing: string[] = [];
    for (let dir = dirname(path); !made.has(dir); dir = dirname(dir)) missing.unshift(dir);
    for (const dir of missing) {
      // bubblewrap would create missing parents with mode 0700, unreadable for the dropped uid
      args.push('--perms', '0755', '--dir', dir);
      made.add(dir);
    }
  };
  const mount = (flag: string[], destination: string): void => {
    ensureParents(destination);
    args.push(...flag, destination);
    made.add(destination);
  };

  args.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  if (plan.privileged) {
    args.push('--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID');
  } else {
    args.push('--unshare-user');
  }
  args.push('--hostname', 'masa-sandbox', '--die-with-parent', '--new-session');

  mount(['--ro-bind', '/usr'], '/usr');
  for (const link of plan.layout.rootLinks) mount(['--symlink', link.target], link.path);
  for (const dir of plan.layout.rootDirs) mount(['--ro-bind', dir], dir);
  for (const path of plan.layout.etcPaths) mount(['--ro-bind', path], path);
  mount(['--proc'], '/proc');
  mount(['--dev'], '/dev');
  const tmpfs = (mode: string, destination: string): void =>
    mount(['--perms', mode, ...(plan.tmpfsBytes === null ? [] : ['--size', String(plan.tmpfsBytes)]), '--tmpfs'], destination);
  tmpfs('1777', '/dev/shm');
  tmpfs('1777', '/tmp');
  tmpfs('0777', plan.workDir);
  mount(['--ro-bind', plan.hostScript], `${plan.workDir}/main.py`);
  for (const path of plan.pythonPaths) {
    if (SYSTEM_MOUNTS.some((root) => path === root || path.startsWith(`${root}/`))) continue;
    if (path === plan.workDir || path.startsWith(`${plan.workDir}/`)) continue;
    mount(['--ro-bind', path], path);
  }

  args.push('--chdir', plan.workDir, '--clearenv');
  const env: Record<string, string> = { ...SANDBOX_ENV, HOME: plan.workDir, TMPDIR: '/tmp' };
  for (const [key, value] of Object.entries(env)) args.push('--setenv', key, value);
  args.push(...plan.command);
  return args;
}
