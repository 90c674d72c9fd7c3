/**
 * The Python bootstrap that runs first inside every sandbox (both isolation
 * levels). It is run as `python -I -S -c BOOTSTRAP_SOURCE '<config json>'`,
 * applies the limits to itself, and then `exec`s the interpreter on the user's
 * file, so the limits (inherited across exec and fork) bind the program and
 * every process it starts.
 *
 * Order matters:
 * 1. fallback only (bubblewrap already made them): a network and a pid
 *    namespace (plus a user namespace when not root), where the kernel allows;
 * 2. resource limits (CPU, address space, file size, process count, no core dumps);
 * 3. with a pid namespace: fork a monitor (stays outside, passes the exit
 *    status on), an init (pid 1, reaps orphans) and the program (pid 2); when
 *    the program ends, init exits and the kernel kills everything left inside;
 * 4. drop from root to the per-run uid (root only, and only if that uid can
 *    still read the interpreter and the program);
 * 5. parent-death signal, no-new-privileges, the seccomp filter;
 * 6. exec.
 *
 * It reports on the status descriptor (fd 3), one fact per line:
 * `start`, `network isolated|shared|unchanged`, `pidns on|off`, `uid N`, `uid-kept REASON`,
 * `seccomp on|off REASON`, and `error MESSAGE` when it cannot go on (exit 125).
 * The descriptor is close-on-exec, so the user's program never sees it. An
 * empty report means the wrapper (bubblewrap) failed before Python ran.
 *
 * Compatible with Python 3.4+ (no f-strings).
 */
export const BOOTSTRAP_SOURCE = String.raw`
import os, sys
def _masa_main():
    import json
    cfg = json.loads(sys.argv[1])
    fd = cfg["statusFd"]
    def say(line):
        try:
            os.write(fd, (line + "\n").encode("utf-8", "replace"))
        except OSError:
            pass
    def fail(message):
        say("error " + message)
        os._exit(125)
    try:
        os.set_inheritable(fd, False)
    except OSError:
        pass
    say("start")
    linux = sys.platform.startswith("linux")
    libc = None
    if linux:
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
            libc.unshare.argtypes = [ctypes.c_int]
        except Exception:
            libc = None
    NEWNET, NEWPID, NEWUSER = 0x40000000, 0x20000000, 0x10000000
    pidns = False
    if cfg["namespaces"]:
        network = "shared"
        if libc is not None:
            if os.geteuid() == 0:
                for flags in (NEWNET | NEWPID, NEWNET, NEWPID):
                    if libc.unshare(flags) == 0:
                        network = "isolated" if flags & NEWNET else network
                        pidns = bool(flags & NEWPID)
                        break
            else:
                uid, gid = os.geteuid(), os.getegid()
                if libc.unshare(NEWUSER | NEWNET | NEWPID) == 0:
                    try:
                        with open("/proc/self/setgroups", "w") as f:
                            f.write("deny")
                        with open("/proc/self/uid_map", "w") as f:
                            f.write("%d %d 1" % (uid, uid))
                        with open("/proc/self/gid_map", "w") as f:
                            f.write("%d %d 1" % (gid, gid))
                    except OSError as e:
                        fail("could not map ids in a new user namespace: %s" % e)
                    network = "isolated"
                    pidns = True
        say("network " + network)
        say("pidns " + ("on" if pidns else "off"))
    else:
        say("network unchanged")
    import resource
    def limit(name, value, extra):
        res = getattr(resource, name, None)
        if res is None:
            return
        soft, hard = resource.getrlimit(res)
        want_hard = value + extra
        if hard != resource.RLIM_INFINITY and hard >= 0:
            want_hard = min(want_hard, hard)
        resource.setrlimit(res, (min(value, want_hard), want_hard))
    try:
        limit("RLIMIT_CORE", 0, 0)
        limit("RLIMIT_CPU", cfg["cpuSeconds"], 1)
        limit("RLIMIT_FSIZE", cfg["maxFileBytes"], 0)
        limit("RLIMIT_AS", cfg["memoryBytes"], 0)
    except (OSError, ValueError) as e:
        fail("could not set resource limits: %s" % e)
    # Sandbox helpers that share the program's uid and user namespace count against RLIMIT_NPROC.
    helpers = cfg["helperProcesses"]
    if pidns:
        # monitor (outside) -> init (pid 1, reaps orphans) -> program (pid 2).
        # When the program ends, init exits and the kernel kills the whole namespace.
        # init hands the program's raw wait status to the monitor through a pipe,
        # so a signal death reaches the runner as a signal, not as 128 + N.
        import signal, struct
        if os.geteuid() != 0:
            helpers += 2
        relay_in, relay_out = os.pipe()
        def wait_for(pid, reap_all):
            while True:
                try:
                    done, status = os.waitpid(-1 if reap_all else pid, 0)
                except ChildProcessError:
                    os._exit(125)
                except InterruptedError:
                    continue
                if done == pid:
                    return status
        init = os.fork()
        if init != 0:
            os.close(relay_out)
            status = wait_for(init, False)
            relayed = os.read(relay_in, 4)
            if len(relayed) == 4:
                status = struct.unpack("i", relayed)[0]
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                try:
                    signal.signal(sig, signal.SIG_DFL)
                    os.kill(os.getpid(), sig)
                except (OSError, ValueError, RuntimeError):
                    pass
                os._exit(128 + sig)
            os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125)
        os.close(relay_in)
        libc.prctl(1, 9, 0, 0, 0)
        program = os.fork()
        if program != 0:
            status = wait_for(program, True)
            os.write(relay_out, struct.pack("i", status))
            os._exit(0)
        os.close(relay_out)
    exe = cfg["executable"]
    script = cfg["script"]
    uid = cfg["uid"]
    try:
        limit("RLIMIT_NPROC", cfg["maxProcesses"] + helpers, 0)
    except (OSError, ValueError) as e:
        fail("could not set the process limit: %s" % e)
    if uid >= 0 and os.geteuid() == 0:
        gid = cfg["gid"]
        try:
            os.setgroups([])
            os.setegid(gid)
            os.seteuid(uid)
            try:
                reachable = (os.access(exe, os.X_OK, effective_ids=True)
                             and os.access(os.__file__, os.R_OK, effective_ids=True)
                             and os.access(script, os.R_OK, effective_ids=True))
            finally:
                os.seteuid(0)
                os.setegid(0)
            if reachable:
                os.setgid(gid)
                os.setuid(uid)
            else:
                say("uid-kept the interpreter or the program is not readable by an unprivileged uid")
        except OSError as e:
            fail("could not switch to uid %d: %s" % (uid, e))
    say("uid %d" % os.geteuid())
    if libc is not None:
        libc.prctl(1, 9, 0, 0, 0)
        if libc.prctl(38, 1, 0, 0, 0) != 0:
            say("seccomp off no-new-privs refused")
        elif cfg["seccomp"]:
            program = bytes.fromhex(cfg["seccomp"])
            class SockFprog(ctypes.Structure):
                _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
            buf = ctypes.create_string_buffer(program, len(program))
            fprog = SockFprog(len(program) // 8, ctypes.addressof(buf))
            if libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0) == 0:
                say("seccomp on")
            else:
                say("seccomp off errno %d" % ctypes.get_errno())
        else:
            say("seccomp off unsupported architecture")
    else:
        say("seccomp off no ctypes")
    try:
        os.execv(exe, [exe, "-I", "-B", script])
    except OSError as e:
        fail("could not start %s: %s" % (exe, e))
try:
    _masa_main()
except SystemExit:
    raise
except BaseException as e:
    try:
        os.write(3, ("error bootstrap failed: %r\n" % (e,)).encode("utf-8", "replace"))
    except OSError:
        pass
    os._exit(125)
`;

/** What the bootstrap reads from its one argument. */
export interface BootstrapConfig {
  /** Descriptor for status lines (see the module comment). */
  statusFd: number;
  /**
   * Fallback only: make a network and a pid namespace (`unshare` as root, or
   * with a new user namespace otherwise), where the kernel allows it.
   */
  namespaces: boolean;
  cpuSeconds: number;
  memoryBytes: number;
  maxFileBytes: number;
  /** Processes/threads the program may have (RLIMIT_NPROC is this plus the helpers). */
  maxProcesses: number;
  /**
   * Sandbox processes that share the program's uid and user namespace and so
   * count against RLIMIT_NPROC (bubblewrap's init without root: 1). The
   * bootstrap adds its own two when it makes a pid namespace without root.
   */
  helperProcesses: number;
  /** Root only: switch to this uid/gid before exec; -1 keeps the current one. */
  uid: number;
  gid: number;
  /** Absolute interpreter path as seen inside the sandbox. */
  executable: string;
  /** The user's program, as seen inside the sandbox. */
  script: string;
  /** Hex of the seccomp `sock_filter[]`, or '' for none. */
  seccomp: string;
}

/** Facts the bootstrap reported (parsed from the status descriptor). */
export interface BootstrapReport {
  /** Python started (so the wrapper, if any, set up the sandbox). */
  started: boolean;
  /** `error …` line: the bootstrap could not apply the sandbox. */
  error: string | null;
  network: 'isolated' | 'shared' | 'unchanged' | null;
  /** The fallback made a pid namespace (everything dies with the program). */
  pidNamespace: boolean;
  /** Effective uid the program runs as (inside its user namespace, if any). */
  uid: number | null;
  /** Why the uid was not dropped, if it was not. */
  uidKept: string | null;
  seccomp: boolean;
  /** Why seccomp is off, if it is. */
  seccompOff: string | null;
}

/** Parses the status lines; unknown lines are ignored. */
export function parseBootstrapReport(text: string): BootstrapReport {
  const report: BootstrapReport = {
    started: false,
    error: null,
    network: null,
    pidNamespace: false,
    uid: null,
    uidKept: null,
    seccomp: false,
    seccompOff: null,
  };
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (key === 'start') report.started = true;
    else if (key === 'error') report.error = rest;
    else if (key === 'network' && (rest === 'isolated' || rest === 'shared' || rest === 'unchanged')) report.network = rest;
    else if (key === 'pidns') report.pidNamespace = rest === 'on';
    else if (key === 'uid' && /^\d+$/.test(rest)) report.uid = Number(rest);
    else if (key === 'uid-kept') report.uidKept = rest;
    else if (key === 'seccomp' && rest === 'on') report.seccomp = true;
    else if (key === 'seccomp' && rest.startsWith('off')) report.seccompOff = rest.slice(3).trim() || 'off';
  }
  return report;
}
