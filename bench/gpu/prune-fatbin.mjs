#!/usr/bin/env node
// Shrinks a CUDA library for one GPU architecture by zeroing, inside its
// `.nv_fatbin` section, the device code built for every other architecture.
//
//   node bench/gpu/prune-fatbin.mjs --arch 90 IN.so OUT.so [--json]
//
// onnxruntime's CUDA provider carries its kernels for six architectures (sm_75 …
// sm_120): 166 MB of its 230 MB. A machine runs only one of them, and the copy
// has to travel to GPU machines that cannot download it (64 MiB a transfer on the
// project's lent machines). Zeroed payloads compress to almost nothing, so the
// sm_90 copy is 38 MB as .xz against 165 MB for the original.
//
// What it changes: the payload bytes of the entries of other architectures (and
// of PTX, which a GPU with matching machine code never compiles), only in the
// fat-binary containers that hold machine code for --arch. Every header, every
// offset and the file's size stay as they were, and a container without code
// for --arch is left whole. The CUDA runtime picks the entry for the GPU from the
// headers and reads only that one; the result then works on GPUs of that
// architecture only. Checked on an H200 (sm_90) with onnxruntime 1.29.0's
// provider: bench/gpu/README.md.
//
// The layout read here (undocumented by NVIDIA, stable since CUDA 4): a container
// is a 16-byte header (magic 0xBA55ED50, u16 version, u16 header size, u64 size of
// the entries), then entries, each a header (u16 kind: 1 PTX, 2 machine code;
// u32 header size at 4; u64 payload size at 8; u32 architecture at 28) followed by
// its payload. Containers are 8-byte aligned inside the section.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../lib/atomic-write.mjs';

export const FATBIN_MAGIC = 0xba55ed50;
export const KIND_PTX = 1;
export const KIND_MACHINE_CODE = 2;

/** A clear error for a file this tool cannot read. */
export class PruneError extends Error {}

/**
 * The file offset and size of a section of a little-endian ELF64 file.
 * @param {Uint8Array} bytes
 * @param {string} wanted
 */
export function findSection(bytes, wanted) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || view.getUint32(0, false) !== 0x7f454c46) throw new PruneError('not an ELF file (no \\x7fELF magic)');
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new PruneError('only little-endian 64-bit ELF files are supported (Linux x86-64 libraries)');
  const sectionTable = Number(view.getBigUint64(0x28, true));
  const entrySize = view.getUint16(0x3a, true);
  const count = view.getUint16(0x3c, true);
  const namesIndex = view.getUint16(0x3e, true);
  if (entrySize < 64 || sectionTable + count * entrySize > bytes.length || namesIndex >= count) throw new PruneError('the ELF section table is truncated or malformed');
  const header = (/** @type {number} */ index) => {
    const at = sectionTable + index * entrySize;
    return { name: view.getUint32(at, true), offset: Number(view.getBigUint64(at + 24, true)), size: Number(view.getBigUint64(at + 32, true)) };
  };
  const names = header(namesIndex);
  for (let index = 0; index < count; index++) {
    const section = header(index);
    let end = names.offset + section.name;
    while (end < bytes.length && bytes[end] !== 0) end++;
    const name = new TextDecoder().decode(bytes.subarray(names.offset + section.name, end));
    if (name === wanted) {
      if (section.offset + section.size > bytes.length) throw new PruneError(`section ${wanted} runs past the end of the file`);
      return { offset: section.offset, size: section.size };
    }
  }
  return undefined;
}

/**
 * Zeroes, in place, the payloads of entries not built for `arch` in the containers
 * that hold machine code for `arch`.
 * @param {Uint8Array} bytes a whole ELF file (modified)
 * @param {number} arch e.g. 90 for sm_90
 */
export function pruneFatbin(bytes, arch) {
  const section = findSection(bytes, '.nv_fatbin');
  if (section === undefined) throw new PruneError('the file has no .nv_fatbin section: it carries no CUDA device code');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = section.offset + section.size;
  const stats = { containers: 0, pruned: 0, keptWhole: 0, zeroedBytes: 0, keptBytes: 0, /** @type {Record<string, number>} */ architectures: {} };
  let at = section.offset;
  while (at + 16 <= end) {
    if (view.getUint32(at, true) !== FATBIN_MAGIC) {
      at += 8; // alignment padding between containers
      continue;
    }
    const headerSize = view.getUint16(at + 6, true);
    const containerEnd = at + headerSize + Number(view.getBigUint64(at + 8, true));
    if (containerEnd > end) throw new PruneError(`the fat-binary container at byte ${at} runs past the end of .nv_fatbin`);
    /** @type {{ payload: number, size: number, kind: number, arch: number }[]} */
    const entries = [];
    for (let entry = at + headerSize; entry < containerEnd; ) {
      const kind = view.getUint16(entry, true);
      const entryHeader = view.getUint32(entry + 4, true);
      const size = Number(view.getBigUint64(entry + 8, true));
      const entryArch = view.getUint32(entry + 28, true);
      if (entryHeader < 32 || entry + entryHeader + size > containerEnd) throw new PruneError(`a fat-binary entry at byte ${entry} is malformed`);
      entries.push({ payload: entry + entryHeader, size, kind, arch: entryArch });
      const label = `${kind === KIND_PTX ? 'ptx' : 'sm'}_${entryArch}`;
      stats.architectures[label] = (stats.architectures[label] ?? 0) + size;
      entry += entryHeader + size;
    }
    stats.containers++;
    if (entries.some((entry) => entry.kind === KIND_MACHINE_CODE && entry.arch === arch)) {
      stats.pruned++;
      for (const entry of entries) {
        if (entry.kind === KIND_MACHINE_CODE && entry.arch === arch) {
          stats.keptBytes += entry.size;
        } else {
          bytes.fill(0, entry.payload, entry.payload + entry.size);
          stats.zeroedBytes += entry.size;
        }
      }
    } else {
      stats.keptWhole++;
    }
    at = containerEnd;
  }
  if (stats.pruned === 0) {
    const present = Object.keys(stats.architectures).sort((a, b) => Number(a.split('_')[1]) - Number(b.split('_')[1]) || a.localeCompare(b)).join(', ') || 'none';
    throw new PruneError(`no fat-binary container holds machine code for sm_${arch} (present: ${present}); pick one of those with --arch`);
  }
  return stats;
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { arch: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const arch = Number(values.arch);
  if (!Number.isInteger(arch) || arch <= 0 || positionals.length !== 2) {
    process.stderr.write('usage: node bench/gpu/prune-fatbin.mjs --arch 90 IN.so OUT.so [--json]   (--arch: the GPU\'s compute capability without the dot: 90 for H100/H200, 80 for A100)\n');
    process.exit(2);
  }
  const [input, output] = /** @type {[string, string]} */ (positionals);
  try {
    const bytes = readFileSync(input);
    const stats = pruneFatbin(bytes, arch);
    writeFileAtomic(output, bytes);
    const mb = (/** @type {number} */ n) => `${(n / 1e6).toFixed(1)} MB`;
    if (values.json) process.stdout.write(`${JSON.stringify({ input, output, arch, ...stats })}\n`);
    else process.stderr.write(`prune-fatbin: kept sm_${arch} (${mb(stats.keptBytes)}), zeroed ${mb(stats.zeroedBytes)} of other architectures in ${stats.pruned} of ${stats.containers} containers (${stats.keptWhole} without sm_${arch} left whole); wrote ${output}\n`);
  } catch (error) {
    if (!(error instanceof PruneError)) throw error;
    process.stderr.write(`prune-fatbin: ${input}: ${error.message}\n`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
