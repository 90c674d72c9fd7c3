import { readFileSync, readdirSync, statSync } from 'node:fs';

/** One live process as `/proc` shows it. */
export interface ProcessEntry {
  pid: number;
  /** Process group id. */
  pgrp: number;
  /** Session id. */
  session: number;
  /** Owner of `/proc/<pid>` (the effective uid). */
  uid: number;
  /** State letter (`R`, `S`, `Z` …). */
  state: string;
  /** The command name (`comm`, at most 15 bytes). */
  comm: string;
}

/**
 * Parses `/proc/<pid>/stat`. The command name sits in parentheses and may
 * itself contain spaces and ')', so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): Omit<ProcessEntry, 'uid'> | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // after ')': state ppid pgrp session …
  const [state, , pgrp, session] = rest;
  if (!Number.isInteger(pid) || state === undefined || pgrp === undefined || session === undefined) return null;
  return { pid, state, pgrp: Number(pgrp), session: Number(session), comm: text.slice(open + 1, close) };
}

/** Every process visible in `/proc` (empty where there is no procfs). */
export function listProcesses(): ProcessEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const entries: ProcessEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat === null) continue;
      entries.push({ ...stat, uid: statSync(`/proc/${name}`).uid });
    } catch {
      // exited while we looked
    }
  }
  return entries;
}

/** Which leftovers of one run to kill. */
export interface ReapTarget {
  /** The run's process group and session id (the spawned child's pid, `detached: true`). */
  leader: number;
  /** The run's private uid, or -1. Catches processes that left the session (`setsid`). */
  uid: number;
}

/** Does `entry` belong to the run (and is it alive, not a zombie)? */
export function belongsToRun(entry: ProcessEntry, target: ReapTarget, self: number): boolean {
  if (entry.pid === self || entry.state === 'Z' || entry.state === 'X') return false;
  return entry.pgrp === target.leader || entry.session === target.leader || (target.uid >= 0 && entry.uid === target.uid);
}

/**
 * Kills every live process of a run with SIGKILL, rescanning until none is
 * left (a forking process can add children between a scan and its kill).
 * Returns how many processes it signalled.
 */
export async function reapRun(target: ReapTarget, options: { maxRounds?: number; pauseMs?: number } = {}): Promise<number> {
  const { maxRounds = 50, pauseMs = 5 } = options;
  let killed = 0;
  try {
    process.kill(-target.leader, 'SIGKILL');
  } catch {
    // group already gone
  }
  for (let round = 0; round < maxRounds; round++) {
    const left = listProcesses().filter((entry) => belongsToRun(entry, target, process.pid));
    if (left.length === 0) return killed;
    for (const entry of left) {
      try {
        process.kill(entry.pid, 'SIGKILL');
        killed++;
      } catch {
        // exited meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return killed;
}
