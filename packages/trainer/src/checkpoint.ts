/**
 * Atomic, verifiable checkpoints in `checkpoints/step-N/`.
 *
 * A checkpoint is written into `.tmp-step-N-<random>/`; its manifest
 * (`manifest.json`: every file with its size and sha256) is written last, and
 * only then is the folder renamed to `step-N`. A folder cut short by a kill is
 * either still a temp folder or lacks a manifest that matches its files, and
 * {@link findLatestCheckpoint} never picks it up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { syncDirectory, writeFileSynced } from './atomic-file.js';

export const CHECKPOINT_MANIFEST = 'manifest.json';
const MANIFEST_FORMAT = 'masa-rl-checkpoint';
const STEP_DIR = /^step-(\d+)$/;
const TEMP_PREFIX = '.tmp-step-';
const TRASH_PREFIX = '.trash-step-';

/** A file to store in a checkpoint: raw bytes, text, or a JSON value. */
export type CheckpointBlob = Uint8Array | string | { json: unknown };

export interface CheckpointManifestEntry {
  /** Path inside the checkpoint folder, `/`-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface CheckpointManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  step: number;
  files: CheckpointManifestEntry[];
}

export interface SaveCheckpointOptions {
  /** The run's `checkpoints/` folder (created if missing). */
  checkpointsDir: string;
  /** Training step the checkpoint is taken after. */
  step: number;
  /** Named blobs, by relative path (`trainer-state.json`, `backend/optimizer.bin`). @default {} */
  files?: Record<string, CheckpointBlob>;
  /** Writes more files into the temp folder (e.g. `backend.saveWeights(join(dir, 'weights'))`). */
  write?: (dir: string) => Promise<void>;
  /** Keep only the newest K complete checkpoints; `null` keeps all. @default null */
  keepLast?: number | null;
  /** Test seams. */
  _internal?: {
    /** Called after the manifest is written and before the rename (simulate a kill by throwing). */
    beforeRename?: (tempDir: string) => Promise<void>;
  };
}

export interface SavedCheckpoint {
  path: string;
  step: number;
  manifest: CheckpointManifest;
  /** Older checkpoint folders removed to honour `keepLast`. */
  removed: string[];
}

const stepDirName = (step: number): string => `step-${step}`;

function blobBytes(blob: CheckpointBlob): Uint8Array | string {
  if (typeof blob === 'string' || blob instanceof Uint8Array) return blob;
  return `${JSON.stringify(blob.json, null, 2)}\n`;
}

function checkRelativePath(path: string): void {
  if (path === '' || path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '' || part === '.') || path === CHECKPOINT_MANIFEST) {
    throw new MasaError('ARGUMENT_INVALID', `checkpoint file name "${path}" must be a relative path inside the checkpoint (no "..", not ${CHECKPOINT_MANIFEST})`);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Writes a checkpoint atomically (temp folder + manifest last + rename), then
 * prunes old ones. Weights and optimiser state come from the caller as blobs
 * or through `write`.
 *
 * @throws MasaError `FILE_WRITE_FAILED`
 */
export async function saveCheckpoint(options: SaveCheckpointOptions): Promise<SavedCheckpoint> {
  const { checkpointsDir, step, files = {}, write, keepLast = null, _internal } = options;
  if (!Number.isInteger(step) || step < 0) throw new MasaError('ARGUMENT_INVALID', `checkpoint step must be an integer >= 0, got ${step}`);
  for (const name of Object.keys(files)) checkRelativePath(name);
  const tempDir = join(checkpointsDir, `${TEMP_PREFIX}${step}-${randomBytes(6).toString('hex')}`);
  const finalDir = join(checkpointsDir, stepDirName(step));
  try {
    await mkdir(checkpointsDir, { recursive: true });
    await removeStaleTemps(checkpointsDir);
    await mkdir(tempDir);
    for (const [name, blob] of Object.entries(files)) {
      const target = join(tempDir, ...name.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFileSynced(target, blobBytes(blob));
    }
    if (write !== undefined) await write(tempDir);
    const entries: CheckpointManifestEntry[] = [];
    for (const path of await listFiles(tempDir)) {
      const full = join(tempDir, ...path.split('/'));
      entries.push({ path, bytes: (await stat(full)).size, sha256: await sha256File(full) });
    }
    const manifest: CheckpointManifest = { format: MANIFEST_FORMAT, version: 1, step, files: entries };
    await writeFileSynced(join(tempDir, CHECKPOINT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await syncDirectory(tempDir);
    await _internal?.beforeRename?.(tempDir);
    const existing = await stat(finalDir).catch(() => undefined);
    let trash: string | undefined;
    if (existing !== undefined) {
      // A checkpoint of this step already exists (a run resumed from an older one): swap it out.
      trash = join(checkpointsDir, `${TRASH_PREFIX}${step}-${randomBytes(6).toString('hex')}`);
      await rename(finalDir, trash);
    }
    await rename(tempDir, finalDir);
    await syncDirectory(checkpointsDir);
    if (trash !== undefined) await rm(trash, { recursive: true, force: true });
    const removed = keepLast === null ? [] : await pruneCheckpoints({ checkpointsDir, keepLast });
    return { path: finalDir, step, manifest, removed };
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) throw error;
    throw new MasaError('FILE_WRITE_FAILED', `could not write checkpoint ${finalDir} (${(error as Error).message}); check free space and permissions of ${checkpointsDir}`, {
      cause: error,
      details: { path: finalDir, step },
    });
  }
}

async function removeStaleTemps(checkpointsDir: string): Promise<void> {
  for (const entry of await readdir(checkpointsDir)) {
    if (entry.startsWith(TEMP_PREFIX) || entry.startsWith(TRASH_PREFIX)) {
      await rm(join(checkpointsDir, entry), { recursive: true, force: true });
    }
  }
}

/** Result of checking one checkpoint folder. */
export type CheckpointVerification =
  | { ok: true; manifest: CheckpointManifest }
  | { ok: false; reason: string };

function parseManifest(text: string, path: string): CheckpointManifest {
  const value = JSON.parse(text) as Partial<CheckpointManifest>;
  if (value.format !== MANIFEST_FORMAT || value.version !== 1 || !Number.isInteger(value.step) || !Array.isArray(value.files)) {
    throw new Error(`${path} is not a masa-rl checkpoint manifest`);
  }
  for (const entry of value.files) {
    if (typeof entry.path !== 'string' || typeof entry.sha256 !== 'string' || !Number.isInteger(entry.bytes)) {
      throw new Error(`${path} has a malformed file entry`);
    }
    checkRelativePath(entry.path);
  }
  return value as CheckpointManifest;
}

/**
 * Checks a checkpoint folder against its manifest: `full` re-hashes every
 * file, `quick` checks presence and sizes only.
 */
export async function verifyCheckpoint(path: string, mode: 'full' | 'quick' = 'full'): Promise<CheckpointVerification> {
  let manifest: CheckpointManifest;
  try {
    manifest = parseManifest(await readFile(join(path, CHECKPOINT_MANIFEST), 'utf8'), join(path, CHECKPOINT_MANIFEST));
  } catch (error: unknown) {
    return { ok: false, reason: `no valid ${CHECKPOINT_MANIFEST}: ${(error as Error).message}` };
  }
  const match = STEP_DIR.exec(path.split(sep).pop() ?? '');
  if (match !== null && Number(match[1]) !== manifest.step) {
    return { ok: false, reason: `folder says step ${match[1]} but the manifest says step ${manifest.step}` };
  }
  const listed = new Set(manifest.files.map((entry) => entry.path));
  for (const file of await listFiles(path)) {
    if (file !== CHECKPOINT_MANIFEST && !listed.has(file)) return { ok: false, reason: `${file} is not in the manifest` };
  }
  for (const entry of manifest.files) {
    const full = join(path, ...entry.path.split('/'));
    const info = await stat(full).catch(() => undefined);
    if (info === undefined) return { ok: false, reason: `${entry.path} is missing` };
    if (info.size !== entry.bytes) return { ok: false, reason: `${entry.path} has ${info.size} bytes, the manifest says ${entry.bytes}` };
    if (mode === 'full' && (await sha256File(full)) !== entry.sha256) {
      return { ok: false, reason: `${entry.path} does not match its sha256` };
    }
  }
  return { ok: true, manifest };
}

export interface CheckpointInfo {
  path: string;
  step: number;
}

/** All `step-N` folders (complete or not), newest first. Temp folders are never listed. */
export async function listCheckpoints(checkpointsDir: string): Promise<CheckpointInfo[]> {
  const entries = await readdir(checkpointsDir, { withFileTypes: true }).catch(() => []);
  const out: CheckpointInfo[] = [];
  for (const entry of entries) {
    const match = entry.isDirectory() ? STEP_DIR.exec(entry.name) : null;
    if (match !== null) out.push({ path: join(checkpointsDir, entry.name), step: Number(match[1]) });
  }
  return out.sort((a, b) => b.step - a.step);
}

export interface FindLatestCheckpointOptions {
  /** How hard to check each candidate. @default 'full' */
  verify?: 'full' | 'quick';
}

/** A complete checkpoint and what was skipped to find it. */
export interface LatestCheckpoint extends CheckpointInfo {
  manifest: CheckpointManifest;
  /** Newer folders that were not complete, with the reason. */
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * The newest complete checkpoint in `checkpointsDir`, or `undefined`. Temp
 * folders and folders whose manifest is missing, malformed or does not match
 * their files are skipped.
 */
export async function findLatestCheckpoint(
  checkpointsDir: string,
  options: FindLatestCheckpointOptions = {},
): Promise<LatestCheckpoint | undefined> {
  const { verify = 'full' } = options;
  const skipped: Array<{ path: string; reason: string }> = [];
  for (const candidate of await listCheckpoints(checkpointsDir)) {
    const result = await verifyCheckpoint(candidate.path, verify);
    if (result.ok) return { ...candidate, manifest: result.manifest, skipped };
    skipped.push({ path: candidate.path, reason: result.reason });
  }
  return undefined;
}

export interface PruneCheckpointsOptions {
  checkpointsDir: string;
  /** Complete checkpoints to keep (newest first). */
  keepLast: number;
}

/**
 * Deletes all but the newest `keepLast` complete checkpoints. The manifest of
 * a folder goes first, so a deletion cut short leaves a folder that is never
 * picked up. Returns the removed paths.
 */
export async function pruneCheckpoints(options: PruneCheckpointsOptions): Promise<string[]> {
  const { checkpointsDir, keepLast } = options;
  if (!Number.isInteger(keepLast) || keepLast < 1) {
    throw new MasaError('CONFIG_INVALID', `trainer.max_actor_ckpt_to_keep must be an integer >= 1 or null, got ${keepLast}`);
  }
  const removed: string[] = [];
  let kept = 0;
  for (const candidate of await listCheckpoints(checkpointsDir)) {
    const complete = (await verifyCheckpoint(candidate.path, 'quick')).ok;
    if (complete && kept < keepLast) {
      kept += 1;
      continue;
    }
    if (!complete && kept === 0) continue; // an incomplete folder newer than every kept one: leave it for inspection
    await rm(join(candidate.path, CHECKPOINT_MANIFEST), { force: true });
    await rm(candidate.path, { recursive: true, force: true });
    removed.push(candidate.path);
  }
  return removed;
}

/** An opened, verified checkpoint. */
export interface LoadedCheckpoint {
  path: string;
  step: number;
  manifest: CheckpointManifest;
  /** Names of the stored files. */
  files(): string[];
  has(name: string): boolean;
  read(name: string): Promise<Uint8Array>;
  readText(name: string): Promise<string>;
  readJson(name: string): Promise<unknown>;
}

/**
 * Opens a checkpoint folder after verifying every file against its manifest.
 *
 * @throws MasaError `CHECKPOINT_INVALID` with the reason.
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const result = await verifyCheckpoint(path, 'full');
  if (!result.ok) {
    throw new MasaError('CHECKPOINT_INVALID', `checkpoint ${path} is not usable: ${result.reason}; resume from another checkpoint (trainer.resume_from_path) or start fresh (trainer.resume_mode=disable)`, {
      details: { path, reason: result.reason },
    });
  }
  const { manifest } = result;
  const names = new Set(manifest.files.map((entry) => entry.path));
  const read = async (name: string): Promise<Uint8Array> => {
    if (!names.has(name)) {
      throw new MasaError('CHECKPOINT_INVALID', `checkpoint ${path} has no ${name}; it was written by a different trainer version or algorithm`, {
        details: { path, name },
      });
    }
    return new Uint8Array(await readFile(join(path, ...name.split('/'))));
  };
  return {
    path,
    step: manifest.step,
    manifest,
    files: () => [...names],
    has: (name) => names.has(name),
    read,
    readText: async (name) => new TextDecoder().decode(await read(name)),
    readJson: async (name) => JSON.parse(new TextDecoder().decode(await read(name))) as unknown,
  };
}
