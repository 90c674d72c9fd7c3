/**
 * An independent reader of TensorBoard event files, for tests only: its own
 * bit-at-a-time CRC-32C (no table), its own masking arithmetic (BigInt), and
 * its own protobuf decoder. It shares no code with the writer.
 */

/** CRC-32C one bit at a time (reflected polynomial 0x82F63B78). */
export function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffffn;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit += 1) crc = (crc & 1n) === 1n ? (crc >> 1n) ^ 0x82f63b78n : crc >> 1n;
  }
  return Number(crc ^ 0xffffffffn);
}

/** TFRecord's mask, in BigInt arithmetic: rotr15(crc) + 0xA282EAD8 mod 2³². */
export function referenceMask(crc: number): number {
  const value = BigInt(crc);
  const rotated = ((value >> 15n) | (value << 17n)) & 0xffffffffn;
  return Number((rotated + 0xa282ead8n) % 0x100000000n);
}

/** A decoded protobuf field. */
export type Field = { field: number; wire: 0; value: bigint } | { field: number; wire: 1; value: Uint8Array } | { field: number; wire: 2; value: Uint8Array } | { field: number; wire: 5; value: Uint8Array };

function readVarint(bytes: Uint8Array, start: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  let index = start;
  for (;;) {
    const byte = bytes[index];
    if (byte === undefined) throw new Error(`varint runs past the end at ${start}`);
    result |= BigInt(byte & 0x7f) << shift;
    index += 1;
    if ((byte & 0x80) === 0) return [result, index];
    shift += 7n;
  }
}

/** Splits a message into its fields (in order). */
export function decodeFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let index = 0;
  while (index < bytes.length) {
    const [key, afterKey] = readVarint(bytes, index);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    index = afterKey;
    if (wire === 0) {
      const [value, next] = readVarint(bytes, index);
      fields.push({ field, wire: 0, value });
      index = next;
    } else if (wire === 1) {
      fields.push({ field, wire: 1, value: bytes.slice(index, index + 8) });
      index += 8;
    } else if (wire === 2) {
      const [length, next] = readVarint(bytes, index);
      fields.push({ field, wire: 2, value: bytes.slice(next, next + Number(length)) });
      index = next + Number(length);
    } else if (wire === 5) {
      fields.push({ field, wire: 5, value: bytes.slice(index, index + 4) });
      index += 4;
    } else {
      throw new Error(`unexpected wire type ${wire} at ${index}`);
    }
    if (index > bytes.length) throw new Error('field runs past the end');
  }
  return fields;
}

/** One decoded `tensorflow.Event`. */
export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  /** SessionLog status, when the event is a session log. */
  sessionStatus?: number;
  /** tag → value (float32 read back as a number). */
  scalars?: Map<string, number>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeEvent(bytes: Uint8Array): ReadEvent {
  const event: ReadEvent = { wallTime: 0, step: 0 };
  for (const entry of decodeFields(bytes)) {
    if (entry.field === 1 && entry.wire === 1) event.wallTime = new DataView(entry.value.buffer, entry.value.byteOffset, 8).getFloat64(0, true);
    else if (entry.field === 2 && entry.wire === 0) event.step = Number(BigInt.asIntN(64, entry.value));
    else if (entry.field === 3 && entry.wire === 2) event.fileVersion = decoder.decode(entry.value);
    else if (entry.field === 5 && entry.wire === 2) {
      const scalars = new Map<string, number>();
      for (const valueField of decodeFields(entry.value)) {
        if (valueField.field !== 1 || valueField.wire !== 2) throw new Error(`Summary has field ${valueField.field}`);
        let tag: string | undefined;
        let value: number | undefined;
        for (const inner of decodeFields(valueField.value)) {
          if (inner.field === 1 && inner.wire === 2) tag = decoder.decode(inner.value);
          else if (inner.field === 2 && inner.wire === 5) value = new DataView(inner.value.buffer, inner.value.byteOffset, 4).getFloat32(0, true);
          else throw new Error(`Summary.Value has field ${inner.field}`);
        }
        if (tag === undefined || value === undefined) throw new Error('Summary.Value without tag or simple_value');
        scalars.set(tag, value);
      }
      event.scalars = scalars;
    } else if (entry.field === 7 && entry.wire === 2) {
      const status = decodeFields(entry.value).find((inner) => inner.field === 1);
      event.sessionStatus = status?.wire === 0 ? Number(status.value) : 0;
    } else {
      throw new Error(`Event has unexpected field ${entry.field} (wire ${entry.wire})`);
    }
  }
  return event;
}

/** Reads every record of a TFRecord file, checking both CRCs of each. */
export function readRecords(file: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let offset = 0;
  while (offset < file.length) {
    if (offset + 12 > file.length) throw new Error(`truncated record header at ${offset}`);
    const length = Number(view.getBigUint64(offset, true));
    const lengthCrc = view.getUint32(offset + 8, true);
    if (lengthCrc !== referenceMask(referenceCrc32c(file.subarray(offset, offset + 8)))) throw new Error(`bad length CRC at ${offset}`);
    const data = file.subarray(offset + 12, offset + 12 + length);
    if (offset + 16 + length > file.length) throw new Error(`truncated record at ${offset}`);
    const dataCrc = view.getUint32(offset + 12 + length, true);
    if (dataCrc !== referenceMask(referenceCrc32c(data))) throw new Error(`bad data CRC at ${offset}`);
    records.push(data);
    offset += 16 + length;
  }
  return records;
}

/** Reads and decodes a whole event file. */
export function readEventFile(file: Uint8Array): ReadEvent[] {
  return readRecords(file).map(decodeEvent);
}
