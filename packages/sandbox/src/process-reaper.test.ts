import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { belongsToRun, listProcesses, parseProcStat, reapRun, type ProcessEntry } from './process-reaper.js';

describe('parseProcStat', () => {
  it('reads state, group and session after the last parenthesis', () => {
    // comm may itself contain ') ' — fields are counted from the last ')'
    const line = '4242 (evil) S 1 2) R 17 4240 4200 0 -1 4194560 ...';
    expect(parseProcStat(line)).toEqual({ pid: 4242, comm: 'evil) S 1 2', state: 'R', pgrp: 4240, session: 4200 });
  });

  it('rejects malformed text', () => {
    expect(parseProcStat('garbage')).toBeNull();
  });
});

describe('belongsToRun', () => {
  const entry = (overrides: Partial<ProcessEntry>): ProcessEntry => ({ pid: 10, pgrp: 1, session: 1, uid: 0, state: 'S', comm: 'x', ...overrides });
  const target = { leader: 500, uid: 1_600_000_123 };

  it('matches by group, by session and by private uid', () => {
    expect(belongsToRun(entry({ pgrp: 500 }), target, 1)).toBe(true);
    expect(belongsToRun(entry({ session: 500 }), target, 1)).toBe(true);
    expect(belongsToRun(entry({ uid: 1_600_000_123 }), target, 1)).toBe(true);
    expect(belongsToRun(entry({}), target, 1)).toBe(false);
  });

  it('never matches zombies, this process, or by uid when the uid is -1', () => {
    expect(belongsToRun(entry({ pgrp: 500, state: 'Z' }), target, 1)).toBe(false);
    expect(belongsToRun(entry({ pid: 7, pgrp: 500 }), target, 7)).toBe(false);
    expect(belongsToRun(entry({ uid: 0 }), { leader: 500, uid: -1 }, 1)).toBe(false);
  });
});

describe('reapRun', () => {
  it('kills a detached process group including a member that moved to its own group', async () => {
    // the leader (a shell) starts a sleep in its group and a Python that moves to a new group (same session)
    const script = 'sleep 30 & "$PY" -c "import os, time; os.setpgid(0, 0); time.sleep(31)" & wait';
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore', env: { ...process.env, PY: python } });
    const leader = child.pid ?? -1;
    const live = () => listProcesses().filter((p) => p.session === leader && p.state !== 'Z');
    try {
      for (let i = 0; i < 40 && !live().some((p) => p.pgrp !== leader); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(live().length).toBeGreaterThanOrEqual(3);
      expect(live().some((p) => p.pgrp !== leader)).toBe(true);
      expect(await reapRun({ leader, uid: -1 })).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(live()).toEqual([]);
    } finally {
      for (const p of live()) process.kill(p.pid, 'SIGKILL');
    }
  });
});
