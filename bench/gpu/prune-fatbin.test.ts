/**
 * bench/gpu/prune-fatbin.mjs on a small ELF64 file built here byte by byte: a
 * `.nv_fatbin` section with two fat-binary containers, one with machine code for
 * sm_90 and one without.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findSection, pruneFatbin } from './prune-fatbin.mjs';

const script = join(dirname(fileURLToPath(import.meta.url)), 'prune-fatbin.mjs');

interface Entry {
  kind: 1 | 2;
  arch: number;
  fill: number;
  size: number;
}

/** One fat-binary entry: a 64-byte header and `size` bytes of `fill`. */
function entry({ kind, arch, fill, size }: Entry): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt16LE(kind, 0);
  header.writeUInt16LE(0x0101, 2);
  header.writeUInt32LE(64, 4);
  header.writeBigUInt64LE(BigInt(size), 8);
  header.writeUInt32LE(arch, 28);
  return Buffer.concat([header, Buffer.alloc(size, fill)]);
}

function container(entries: Entry[]): Buffer {
  const body = Buffer.concat(entries.map(entry));
  const header = Buffer.alloc(16);
  header.writeUInt32LE(0xba55ed50, 0);
  header.writeUInt16LE(1, 4);
  header.writeUInt16LE(16, 6);
  header.writeBigUInt64LE(BigInt(body.length), 8);
  return Buffer.concat([header, body]);
}

/** An ELF64 file: header, a `.text` stand-in, the given `.nv_fatbin`, the section names, the section table. */
function elf(fatbin: Buffer): { file: Buffer; fatbinOffset: number } {
  const text = Buffer.alloc(40, 0xcc);
  const names = Buffer.from('\0.text\0.nv_fatbin\0.shstrtab\0', 'latin1');
  const textOffset = 64;
  const fatbinOffset = textOffset + text.length; // 104: 8-aligned
  const namesOffset = fatbinOffset + fatbin.length;
  const tableOffset = Math.ceil((namesOffset + names.length) / 8) * 8;
  const sections = [
    { name: 0, offset: 0, size: 0 },
    { name: 1, offset: textOffset, size: text.length },
    { name: 7, offset: fatbinOffset, size: fatbin.length },
    { name: 18, offset: namesOffset, size: names.length },
  ];
  const file = Buffer.alloc(tableOffset + sections.length * 64);
  file.writeUInt32BE(0x7f454c46, 0);
  file[4] = 2; // 64-bit
  file[5] = 1; // little-endian
  file.writeBigUInt64LE(BigInt(tableOffset), 0x28);
  file.writeUInt16LE(64, 0x3a);
  file.writeUInt16LE(sections.length, 0x3c);
  file.writeUInt16LE(3, 0x3e);
  text.copy(file, textOffset);
  fatbin.copy(file, fatbinOffset);
  names.copy(file, namesOffset);
  sections.forEach((section, index) => {
    const at = tableOffset + index * 64;
    file.writeUInt32LE(section.name, at);
    file.writeBigUInt64LE(BigInt(section.offset), at + 24);
    file.writeBigUInt64LE(BigInt(section.size), at + 32);
  });
  return { file, fatbinOffset };
}

const withSm90: Entry[] = [
  { kind: 2, arch: 80, fill: 0xa1, size: 24 },
  { kind: 2, arch: 90, fill: 0xb2, size: 32 },
  { kind: 1, arch: 80, fill: 0xc3, size: 16 },
  { kind: 2, arch: 120, fill: 0xd4, size: 8 },
];
const withoutSm90: Entry[] = [
  { kind: 2, arch: 75, fill: 0xe5, size: 16 },
  { kind: 2, arch: 80, fill: 0xf6, size: 8 },
];

function sample() {
  const first = container(withSm90);
  const padding = Buffer.alloc(8); // alignment padding between containers
  const second = container(withoutSm90);
  const { file, fatbinOffset } = elf(Buffer.concat([first, padding, second]));
  return { file, fatbinOffset, secondOffset: fatbinOffset + first.length + padding.length };
}

/** The byte range of the payload of entry `index` in a container starting at `start`. */
function payloadRange(start: number, entries: Entry[], index: number): [number, number] {
  let at = start + 16;
  for (let i = 0; i < index; i++) at += 64 + entries[i]!.size;
  return [at + 64, at + 64 + entries[index]!.size];
}

describe('prune-fatbin', () => {
  it('finds the section by name in the section table', () => {
    const { file, fatbinOffset } = sample();
    expect(findSection(file, '.nv_fatbin')).toEqual({ offset: fatbinOffset, size: sample().secondOffset - fatbinOffset + container(withoutSm90).length });
    expect(findSection(file, '.text')).toEqual({ offset: 64, size: 40 });
    expect(findSection(file, '.data')).toBeUndefined();
  });

  it('zeroes the other architectures and PTX where sm_90 machine code exists, and nothing else', () => {
    const { file, fatbinOffset, secondOffset } = sample();
    const before = Buffer.from(file);
    const stats = pruneFatbin(file, 90);

    // Exactly the three foreign payloads of the first container changed, to zeros.
    const zeroed = [0, 2, 3].map((index) => payloadRange(fatbinOffset, withSm90, index));
    const expected = Buffer.from(before);
    for (const [start, end] of zeroed) expected.fill(0, start, end);
    expect(file.equals(expected)).toBe(true);
    const [keepStart, keepEnd] = payloadRange(fatbinOffset, withSm90, 1);
    expect(file.subarray(keepStart, keepEnd).every((byte) => byte === 0xb2)).toBe(true);
    // The container without sm_90 code is whole (its sm_75 and sm_80 code is all a sm_90 GPU could not use anyway).
    expect(file.subarray(secondOffset).equals(before.subarray(secondOffset))).toBe(true);

    expect(stats).toMatchObject({ containers: 2, pruned: 1, keptWhole: 1, keptBytes: 32, zeroedBytes: 24 + 16 + 8 });
    expect(stats.architectures).toEqual({ sm_80: 24 + 8, sm_90: 32, ptx_80: 16, sm_120: 8, sm_75: 16 });
  });

  it('refuses an architecture that no container has, naming the ones present', () => {
    const { file } = sample();
    const before = Buffer.from(file);
    expect(() => pruneFatbin(file, 86)).toThrow('no fat-binary container holds machine code for sm_86 (present: sm_75, ptx_80, sm_80, sm_90, sm_120); pick one of those with --arch');
    expect(file.equals(before)).toBe(true);
  });

  it('refuses files that are not ELF64, carry no device code, or have a container running past the section', () => {
    expect(() => pruneFatbin(Buffer.from('{"name": "not a library"}'.padEnd(80)), 90)).toThrow('not an ELF file');
    const { file: noFatbin } = elf(Buffer.alloc(0));
    noFatbin.write('.nv_fatbiX', 64 + 40 + 7, 'latin1'); // rename the section
    expect(() => pruneFatbin(noFatbin, 90)).toThrow('the file has no .nv_fatbin section');
    const truncated = container(withSm90).subarray(0, 100);
    expect(() => pruneFatbin(elf(truncated).file, 90)).toThrow('runs past the end of .nv_fatbin');
  });

  it('runs as a script: writes the pruned copy, exit 1 with the reason on a bad file, 2 on bad arguments', () => {
    const folder = mkdtempSync(join(tmpdir(), 'masa-prune-'));
    const input = join(folder, 'lib.so');
    const { file } = sample();
    writeFileSync(input, file);
    const ok = spawnSync(process.execPath, [script, '--arch', '90', input, join(folder, 'out.so'), '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ arch: 90, pruned: 1, keptBytes: 32 });
    const pruned = Buffer.from(file);
    pruneFatbin(pruned, 90);
    expect(readFileSync(join(folder, 'out.so')).equals(pruned)).toBe(true);
    expect(readFileSync(input).equals(file)).toBe(true);

    const bad = spawnSync(process.execPath, [script, '--arch', '90', join(folder, 'out.so').replace('out.so', 'missing.so'), join(folder, 'x.so')], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    const notElf = join(folder, 'notes.txt');
    writeFileSync(notElf, 'hello'.repeat(20));
    const refused = spawnSync(process.execPath, [script, '--arch', '90', notElf, join(folder, 'x.so')], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('notes.txt: not an ELF file');
    const usage = spawnSync(process.execPath, [script, input], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: node bench/gpu/prune-fatbin.mjs --arch 90');
  });
});
