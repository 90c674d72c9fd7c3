import { describe, expect, it } from 'vitest';
import { buildNamespaceFilter, isSeccompArch } from './seccomp-filter.js';

/**
 * An independent classic-BPF interpreter (the subset seccomp allows: absolute
 * word loads, conditional jumps on constants, constant returns), written from
 * linux/filter.h semantics rather than from the builder.
 */
function runBpf(program: Uint8Array, data: { nr: number; arch: number; args: bigint[] }): number {
  const packet = new DataView(new ArrayBuffer(64));
  packet.setInt32(0, data.nr, true);
  packet.setUint32(4, data.arch, true);
  packet.setBigUint64(8, 0n, true);
  data.args.forEach((arg, i) => packet.setBigUint64(16 + 8 * i, BigInt.asUintN(64, arg), true));
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  let accumulator = 0;
  let pc = 0;
  for (let steps = 0; steps < 1000; steps++) {
    if (pc * 8 >= program.byteLength) throw new Error('fell off the end');
    const code = view.getUint16(pc * 8, true);
    const jt = view.getUint8(pc * 8 + 2);
    const jf = view.getUint8(pc * 8 + 3);
    const k = view.getUint32(pc * 8 + 4, true);
    const cls = code & 0x07;
    if (cls === 0x00) {
      // BPF_LD: only BPF_W | BPF_ABS is allowed in seccomp
      expect(code).toBe(0x20);
      accumulator = packet.getUint32(k, true);
      pc += 1;
    } else if (cls === 0x05) {
      const op = code & 0xf0;
      expect(code & 0x08).toBe(0); // BPF_K source
      let taken: boolean;
      if (op === 0x10) taken = accumulator === k;
      else if (op === 0x30) taken = accumulator >>> 0 >= k >>> 0;
      else if (op === 0x40) taken = (accumulator & k) !== 0;
      else throw new Error(`unexpected jump op ${op}`);
      pc += 1 + (taken ? jt : jf);
    } else if (cls === 0x06) {
      return k >>> 0;
    } else {
      throw new Error(`unexpected class ${cls}`);
    }
  }
  throw new Error('no return within 1000 steps');
}

const ALLOW = 0x7fff0000;
const EPERM = 0x00050000 + 1;
const ENOSYS = 0x00050000 + 38;
const KILL = 0x80000000;

// Hand-copied from the kernel headers (independent of the builder's table).
const X86_64 = { arch: 0xc000003e, read: 0, clone: 56, unshare: 272, clone3: 435, getpid: 39 };
const AARCH64 = { arch: 0xc00000b7, read: 63, clone: 220, unshare: 97, clone3: 435, getpid: 172 };
const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWNET = 0x40000000n;
const CLONE_NEWNS = 0x00020000n;
const CLONE_FILES = 0x00000400n;
const SIGCHLD = 17n;
// glibc's fork(): CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
const FORK_FLAGS = 0x01000000n | 0x00200000n | SIGCHLD;
// pthread_create via clone(): VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
const THREAD_FLAGS = 0x100n | 0x200n | 0x400n | 0x800n | 0x10000n | 0x40000n | 0x80000n | 0x100000n | 0x200000n;

describe.each([
  ['x86_64', X86_64],
  ['aarch64', AARCH64],
] as const)('buildNamespaceFilter(%s)', (name, table) => {
  const program = buildNamespaceFilter(name);
  const call = (nr: number, arg0 = 0n, arch = table.arch) => runBpf(program, { nr, arch, args: [arg0, 0n, 0n, 0n, 0n, 0n] });

  it('is a whole number of 8-byte instructions within the BPF limit', () => {
    expect(program.byteLength % 8).toBe(0);
    expect(program.byteLength / 8).toBeLessThanOrEqual(4096);
  });

  it('allows ordinary syscalls, fork and thread creation', () => {
    expect(call(table.read)).toBe(ALLOW);
    expect(call(table.getpid)).toBe(ALLOW);
    expect(call(table.clone, FORK_FLAGS)).toBe(ALLOW);
    expect(call(table.clone, THREAD_FLAGS)).toBe(ALLOW);
    expect(call(table.unshare, CLONE_FILES)).toBe(ALLOW);
  });

  it('refuses new namespaces with EPERM', () => {
    expect(call(table.unshare, CLONE_NEWUSER)).toBe(EPERM);
    expect(call(table.unshare, CLONE_NEWUSER | CLONE_NEWNET)).toBe(EPERM);
    expect(call(table.unshare, CLONE_NEWNS)).toBe(EPERM);
    expect(call(table.clone, FORK_FLAGS | CLONE_NEWUSER)).toBe(EPERM);
    // high bits of args[0] are not flags the kernel reads for clone/unshare
    expect(call(table.unshare, (1n << 40n) | CLONE_FILES)).toBe(ALLOW);
  });

  it('makes clone3 fall back (ENOSYS) and kills foreign-ABI syscalls', () => {
    expect(call(table.clone3)).toBe(ENOSYS);
    expect(call(table.read, 0n, 0x40000003 /* AUDIT_ARCH_I386 */)).toBe(KILL);
  });
});

describe('buildNamespaceFilter x32 guard', () => {
  it('kills x32-ABI syscall numbers on x86_64', () => {
    const program = buildNamespaceFilter('x86_64');
    expect(runBpf(program, { nr: 0x40000000 + 272, arch: X86_64.arch, args: [CLONE_NEWUSER] })).toBe(KILL);
  });
});

describe('isSeccompArch', () => {
  it('accepts the two supported machines only', () => {
    expect(isSeccompArch('x86_64')).toBe(true);
    expect(isSeccompArch('aarch64')).toBe(true);
    expect(isSeccompArch('arm64')).toBe(false);
    expect(isSeccompArch('i686')).toBe(false);
  });
});
