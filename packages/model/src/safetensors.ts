import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { MasaError } from '@masa-rl/core';
import { writeAll, writeFileAtomic } from './atomic-file.js';
import {
  bf16BitsToF32Bits,
  f16BitsToF32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  f64ToBf16Bits,
  f64ToF16Bits,
} from './half-precision.js';

/** Element types in the safetensors format. masa-rl reads and writes the float ones. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** The float element types masa-rl converts to and from. */
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';

/** In-memory weights: float32 for real work, float64 for exact tests. */
export type FloatArray = Float32Array | Float64Array;

const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Bytes per element of a safetensors dtype. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

/** Where one tensor's bytes live. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The file that holds it. */
  file: string;
  /** Absolute byte offset of its first element in `file`. */
  byteOffset: number;
  byteLength: number;
}

/** The parsed header of one `.safetensors` file. */
export interface SafetensorsHeader {
  file: string;
  /** Tensors in the order of their data in the file. */
  entries: SafetensorsEntry[];
  /** The `__metadata__` map (string → string). */
  metadata: Record<string, string>;
}

/** Chunk size for converting reads and writes: bounds the scratch memory. */
const CHUNK_BYTES = 1 << 22;
/** Node's fs read/write limit per call is 2 GiB - 1; stay well below. */
const IO_BYTES = 1 << 26;
/** No real header is this large; refuse to allocate more. */
const MAX_HEADER_BYTES = 1 << 27;

function corrupt(file: string, problem: string, details: Record<string, unknown> = {}): MasaError {
  return new MasaError(
    'MODEL_LOAD_FAILED',
    `${file} is not a valid safetensors file: ${problem} (re-download or re-export the checkpoint)`,
    { details: { file, ...details } },
  );
}

function checkHostEndianness(): void {
  if (endianness() !== 'LE') {
    throw new MasaError('RUNTIME_UNAVAILABLE', 'safetensors I/O needs a little-endian host; this machine is big-endian');
  }
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(IO_BYTES, target.byteLength - done);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) throw corrupt(file, `unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/** Parses the header of an open safetensors file (validating offsets against the file size). */
export async function readHeaderFromHandle(handle: FileHandle, file: string): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  if (size < 8) throw corrupt(file, `the file has ${size} bytes, fewer than the 8-byte header length`);
  const prefix = new Uint8Array(8);
  await readExactly(handle, prefix, 0, file);
  const headerLength = Number(new DataView(prefix.buffer).getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
    throw corrupt(file, `header length ${headerLength} does not fit the file (${size} bytes)`);
  }
  const headerBytes = new Uint8Array(headerLength);
  await readExactly(handle, headerBytes, 8, file);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new MasaError('MODEL_LOAD_FAILED', `${file}: the safetensors header is not valid UTF-8 JSON`, { cause: error, details: { file } });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw corrupt(file, 'the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = size - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(file, '__metadata__ is not an object');
      metadata = {};
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== 'string') throw corrupt(file, `__metadata__.${key} is not a string`);
        metadata[key] = text;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) throw corrupt(file, `entry "${name}" is not an object`, { tensor: name });
    if (!isDtype(info.dtype)) throw corrupt(file, `tensor "${name}" has unknown dtype ${JSON.stringify(info.dtype)}`, { tensor: name });
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      throw corrupt(file, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`, { tensor: name });
    }
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isInteger(o) && o >= 0)
    ) {
      throw corrupt(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`, { tensor: name });
    }
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const byteLength = numel * DTYPE_BYTES[info.dtype];
    if (end - begin !== byteLength || end > dataLength) {
      throw corrupt(
        file,
        `tensor "${name}" (${info.dtype} ${JSON.stringify(shape)}) needs ${byteLength} bytes but data_offsets are [${begin}, ${end}] of ${dataLength}`,
        { tensor: name },
      );
    }
    entries.push({ name, dtype: info.dtype, shape: shape as number[], file, byteOffset: dataStart + begin, byteLength });
  }
  entries.sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1] as SafetensorsEntry;
    const current = entries[i] as SafetensorsEntry;
    if (current.byteOffset < previous.byteOffset + previous.byteLength) {
      throw corrupt(file, `tensors "${previous.name}" and "${current.name}" overlap`, { tensor: current.name });
    }
  }
  return { file, entries, metadata };
}

/**
 * Reads the header of a `.safetensors` file: names, dtypes, shapes and byte ranges.
 * Reads no tensor data.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` when the file is missing or malformed.
 */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new MasaError('MODEL_LOAD_FAILED', `cannot open ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  try {
    return await readHeaderFromHandle(handle, file);
  } finally {
    await handle.close();
  }
}

/** Options of {@link readTensorInto}. */
export interface ReadTensorOptions {
  /** The tensor to read (from a header). */
  entry: SafetensorsEntry;
  /** Destination with exactly as many elements as the tensor. */
  target: FloatArray;
  /** An open handle on `entry.file`; opened and closed here when absent. */
  handle?: FileHandle;
}

/**
 * Reads one tensor straight into `target`, converting the element type on the way
 * (F32/F64 into a matching array are read in place; others go through a bounded
 * scratch chunk). No second copy of the tensor is ever held.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` for a non-float tensor or a short file;
 *   `ARGUMENT_INVALID` when `target` has the wrong length.
 */
export async function readTensorInto(options: ReadTensorOptions): Promise<void> {
  const { entry, target } = options;
  checkHostEndianness();
  const size = DTYPE_BYTES[entry.dtype];
  const numel = entry.byteLength / size;
  if (target.length !== numel) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `tensor "${entry.name}" in ${entry.file} has ${numel} elements (shape ${JSON.stringify(entry.shape)}) but the target holds ${target.length}`,
      { details: { file: entry.file, tensor: entry.name } },
    );
  }
  if (entry.dtype !== 'F32' && entry.dtype !== 'F64' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') {
    throw new MasaError(
      'MODEL_LOAD_FAILED',
      `tensor "${entry.name}" in ${entry.file} has dtype ${entry.dtype}; masa-rl loads float weights only (F32, F16, BF16, F64)`,
      { details: { file: entry.file, tensor: entry.name } },
    );
  }
  const handle = options.handle ?? (await open(entry.file, 'r'));
  try {
    const direct =
      (entry.dtype === 'F32' && target instanceof Float32Array) || (entry.dtype === 'F64' && target instanceof Float64Array);
    if (direct) {
      await readExactly(handle, new Uint8Array(target.buffer, target.byteOffset, entry.byteLength), entry.byteOffset, entry.file);
      return;
    }
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / size));
    const scratch = new ArrayBuffer(Math.min(numel, perChunk) * size);
    const bytes = new Uint8Array(scratch);
    const targetBits = target instanceof Float32Array ? new Uint32Array(target.buffer, target.byteOffset, target.length) : null;
    const widen = new Float32Array(1);
    const widenBits = new Uint32Array(widen.buffer);
    for (let start = 0; start < numel; start += perChunk) {
      const count = Math.min(perChunk, numel - start);
      const chunk = bytes.subarray(0, count * size);
      await readExactly(handle, chunk, entry.byteOffset + start * size, entry.file);
      if (entry.dtype === 'F32') {
        const source = new Float32Array(scratch, 0, count);
        for (let i = 0; i < count; i++) target[start + i] = source[i] as number;
      } else if (entry.dtype === 'F64') {
        const source = new Float64Array(scratch, 0, count);
        target.set(source, start); // float64 → float32 rounds to nearest even
      } else {
        const source = new Uint16Array(scratch, 0, count);
        const toBits = entry.dtype === 'BF16' ? bf16BitsToF32Bits : f16BitsToF32Bits;
        if (targetBits !== null) {
          for (let i = 0; i < count; i++) targetBits[start + i] = toBits(source[i] as number);
        } else {
          for (let i = 0; i < count; i++) {
            widenBits[0] = toBits(source[i] as number);
            target[start + i] = widen[0] as number;
          }
        }
      }
    }
  } finally {
    if (options.handle === undefined) await handle.close();
  }
}

/** One tensor to write. */
export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: FloatArray;
  /** The element type in the file. @default 'F32' */
  dtype?: FloatDtype;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** Destination path; written atomically (temp file + rename). */
  file: string;
  tensors: readonly TensorToWrite[];
  /** `__metadata__` (string → string). @default { format: 'pt' } */
  metadata?: Record<string, string>;
}

function encodeChunk(data: FloatArray, start: number, count: number, dtype: FloatDtype, out: ArrayBuffer): Uint8Array {
  const size = DTYPE_BYTES[dtype];
  if (dtype === 'F32') {
    const view = new Float32Array(out, 0, count);
    view.set(data.subarray(start, start + count)); // float64 → float32 rounds to nearest even
  } else if (dtype === 'F64') {
    const view = new Float64Array(out, 0, count);
    view.set(data.subarray(start, start + count));
  } else {
    const view = new Uint16Array(out, 0, count);
    if (data instanceof Float32Array) {
      const bits = new Uint32Array(data.buffer, data.byteOffset + start * 4, count);
      const narrow = dtype === 'BF16' ? f32BitsToBf16Bits : f32BitsToF16Bits;
      for (let i = 0; i < count; i++) view[i] = narrow(bits[i] as number);
    } else {
      const narrow = dtype === 'BF16' ? f64ToBf16Bits : f64ToF16Bits;
      for (let i = 0; i < count; i++) view[i] = narrow(data[start + i] as number);
    }
  }
  return new Uint8Array(out, 0, count * size);
}

/** Orders tensors the way Hugging Face's writer does: wider dtypes first, then by name (keeps data aligned). */
function writeOrder(tensors: readonly TensorToWrite[]): TensorToWrite[] {
  return [...tensors].sort((a, b) => {
    const bySize = DTYPE_BYTES[b.dtype ?? 'F32'] - DTYPE_BYTES[a.dtype ?? 'F32'];
    return bySize !== 0 ? bySize : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** Bytes a safetensors file with these tensors occupies, header excluded. */
export function tensorDataBytes(tensors: readonly TensorToWrite[]): number {
  return tensors.reduce((sum, t) => sum + t.data.length * DTYPE_BYTES[t.dtype ?? 'F32'], 0);
}

/**
 * Writes a `.safetensors` file atomically, converting each tensor chunk by chunk
 * (f32 → bf16/f16 round to nearest even; float64 sources are rounded once, correctly).
 * Tensors already in the file's dtype are written straight from their arrays.
 *
 * @throws MasaError `ARGUMENT_INVALID` for a shape/length mismatch or duplicate name;
 *   `FILE_WRITE_FAILED` when the file cannot be written.
 */
export async function writeSafetensors(options: WriteSafetensorsOptions): Promise<void> {
  const { file, metadata = { format: 'pt' } } = options;
  checkHostEndianness();
  const ordered = writeOrder(options.tensors);
  const header: Record<string, unknown> = { __metadata__: metadata };
  const seen = new Set<string>();
  let offset = 0;
  for (const tensor of ordered) {
    const dtype = tensor.dtype ?? 'F32';
    const numel = tensor.shape.reduce((a, b) => a * b, 1);
    if (numel !== tensor.data.length) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `tensor "${tensor.name}": shape ${JSON.stringify(tensor.shape)} has ${numel} elements but its data has ${tensor.data.length}`,
        { details: { tensor: tensor.name } },
      );
    }
    if (seen.has(tensor.name)) throw new MasaError('ARGUMENT_INVALID', `tensor "${tensor.name}" is listed twice`, { details: { tensor: tensor.name } });
    seen.add(tensor.name);
    const byteLength = numel * DTYPE_BYTES[dtype];
    header[tensor.name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  }
  let headerText = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const encoded = new TextEncoder().encode(headerText);
  const padding = (8 - ((8 + encoded.byteLength) % 8)) % 8;
  headerText += ' '.repeat(padding);
  const headerBytes = new TextEncoder().encode(headerText);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);

  await writeFileAtomic(file, async (handle) => {
    await writeAll(handle, prefix);
    await writeAll(handle, headerBytes);
    let scratch: ArrayBuffer | null = null;
    for (const tensor of ordered) {
      const dtype = tensor.dtype ?? 'F32';
      const data = tensor.data;
      const direct = (dtype === 'F32' && data instanceof Float32Array) || (dtype === 'F64' && data instanceof Float64Array);
      if (direct) {
        for (let start = 0; start < data.byteLength; start += IO_BYTES) {
          const length = Math.min(IO_BYTES, data.byteLength - start);
          await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset + start, length));
        }
        continue;
      }
      const perChunk = Math.floor(CHUNK_BYTES / 8);
      scratch ??= new ArrayBuffer(perChunk * 8);
      for (let start = 0; start < data.length; start += perChunk) {
        const count = Math.min(perChunk, data.length - start);
        await writeAll(handle, encodeChunk(data, start, count, dtype, scratch));
      }
    }
  });
}

/** True when `file` exists. */
export async function fileExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
