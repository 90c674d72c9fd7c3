/**
 * A classic-BPF seccomp filter that stops the sandboxed program from creating
 * new namespaces (above all a user namespace, which would let it mount an
 * unbounded tmpfs or reach kernel code that needs capabilities).
 *
 * The filter is built here as bytes and loaded by the Python bootstrap with
 * `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, …)`, so the same rule applies
 * under bubblewrap and in the resource-limits fallback.
 */
import { MasaError } from '@masa-rl/core';

/** CPU architectures the filter knows syscall numbers for (Python's `platform.machine()`). */
export type SeccompArch = 'x86_64' | 'aarch64';

interface ArchTable {
  /** `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`. */
  auditArch: number;
  clone: number;
  clone3: number;
  unshare: number;
  /** x86_64 only: syscall numbers with this bit set are the x32 ABI. */
  x32Bit?: number;
}

const ARCHES: Record<SeccompArch, ArchTable> = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x86_64: { auditArch: 0xc000003e, clone: 56, clone3: 435, unshare: 272, x32Bit: 0x40000000 },
  // include/uapi/asm-generic/unistd.h
  aarch64: { auditArch: 0xc00000b7, clone: 220, clone3: 435, unshare: 97 },
};

/** `CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME`. */
export const NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

// BPF opcodes (linux/bpf_common.h)
const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K

// struct seccomp_data offsets: int nr; __u32 arch; __u64 ip; __u64 args[6];
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0_LOW = 16; // little-endian: the low 32 bits of args[0]

type Target = string;
type Op =
  | { kind: 'ld'; offset: number }
  | { kind: 'jump'; code: number; k: number; ifTrue: Target | null; ifFalse: Target | null }
  | { kind: 'ret'; value: number; label?: Target };

/** Is `machine` (Python's `platform.machine()`) an architecture the filter supports? */
export function isSeccompArch(machine: string): machine is SeccompArch {
  return machine === 'x86_64' || machine === 'aarch64';
}

/**
 * Builds the filter as `struct sock_filter[]` bytes (8 bytes per instruction,
 * native little-endian). Rules:
 * - a syscall from another ABI (`arch` differs, or x32 on x86_64) kills the process;
 * - `clone3` fails with `ENOSYS` (its flags live in memory the filter cannot read;
 *   glibc then falls back to `clone`);
 * - `clone` / `unshare` with any namespace flag fail with `EPERM`;
 * - everything else is allowed.
 */
export function buildNamespaceFilter(arch: SeccompArch): Uint8Array {
  const table = ARCHES[arch];
  const ops: Op[] = [
    { kind: 'ld', offset: OFFSET_ARCH },
    { kind: 'jump', code: JEQ_K, k: table.auditArch, ifTrue: null, ifFalse: 'kill' },
    { kind: 'ld', offset: OFFSET_NR },
  ];
  if (table.x32Bit !== undefined) {
    ops.push({ kind: 'jump', code: JGE_K, k: table.x32Bit, ifTrue: 'kill', ifFalse: null });
  }
  ops.push(
    { kind: 'jump', code: JEQ_K, k: table.clone3, ifTrue: 'enosys', ifFalse: null },
    { kind: 'jump', code: JEQ_K, k: table.unshare, ifTrue: 'check-flags', ifFalse: null },
    { kind: 'jump', code: JEQ_K, k: table.clone, ifTrue: 'check-flags', ifFalse: 'allow' },
    { kind: 'ld', offset: OFFSET_ARG0_LOW },
  );
  // The ld above is the 'check-flags' target; give it a label by position.
  const checkFlagsIndex = ops.length - 1;
  ops.push(
    { kind: 'jump', code: JSET_K, k: NAMESPACE_FLAGS, ifTrue: 'eperm', ifFalse: 'allow' },
    { kind: 'ret', value: SECCOMP_RET_ALLOW, label: 'allow' },
    { kind: 'ret', value: SECCOMP_RET_ERRNO | EPERM, label: 'eperm' },
    { kind: 'ret', value: SECCOMP_RET_ERRNO | ENOSYS, label: 'enosys' },
    { kind: 'ret', value: SECCOMP_RET_KILL_PROCESS, label: 'kill' },
  );

  const labels = new Map<Target, number>([['check-flags', checkFlagsIndex]]);
  ops.forEach((op, index) => {
    if (op.kind === 'ret' && op.label !== undefined) labels.set(op.label, index);
  });

  const bytes = new Uint8Array(ops.length * 8);
  const view = new DataView(bytes.buffer);
  ops.forEach((op, index) => {
    const at = index * 8;
    let code: number;
    let jt = 0;
    let jf = 0;
    let k: number;
    if (op.kind === 'ld') {
      code = LD_W_ABS;
      k = op.offset;
    } else if (op.kind === 'ret') {
      code = RET_K;
      k = op.value;
    } else {
      code = op.code;
      k = op.k;
      jt = relativeJump(labels, index, op.ifTrue);
      jf = relativeJump(labels, index, op.ifFalse);
    }
    view.setUint16(at, code, true);
    view.setUint8(at + 2, jt);
    view.setUint8(at + 3, jf);
    view.setUint32(at + 4, k >>> 0, true);
  });
  return bytes;
}

/** BPF jumps are relative to the next instruction; `null` means "fall through". */
function relativeJump(labels: Map<Target, number>, from: number, target: Target | null): number {
  if (target === null) return 0;
  const to = labels.get(target);
  if (to === undefined || to <= from || to - from - 1 > 255) {
    throw new MasaError('INTERNAL', `seccomp filter: bad jump from instruction ${from} to '${target}' (a bug in seccomp-filter.ts)`);
  }
  return to - from - 1;
}
