/**
 * A tiny protocol-buffers encoder: just the wire types the TensorBoard event
 * messages use (varint, 64-bit, 32-bit, length-delimited). Fields are written
 * in the order they are added; proto3 readers accept any order.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Builds one protobuf message. */
export interface ProtoWriter {
  /** A `double` field (64-bit little-endian). */
  double(field: number, value: number): ProtoWriter;
  /** A `float` field (32-bit little-endian; the value is rounded to float32). */
  float(field: number, value: number): ProtoWriter;
  /** An `int64`/`int32`/enum field (varint; negative values take ten bytes, two's complement). */
  int64(field: number, value: number): ProtoWriter;
  /** A `string` field (UTF-8). */
  string(field: number, value: string): ProtoWriter;
  /** A nested message or `bytes` field. */
  bytes(field: number, value: Uint8Array): ProtoWriter;
  /** The encoded message. */
  finish(): Uint8Array;
}

const encoder = new TextEncoder();

/** Creates an empty message writer. */
export function createProtoWriter(): ProtoWriter {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const push = (chunk: Uint8Array): void => {
    chunks.push(chunk);
    length += chunk.length;
  };
  const varint = (value: bigint): void => {
    // Unsigned 64-bit view of the value (two's complement for negatives).
    let rest = BigInt.asUintN(64, value);
    const out: number[] = [];
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      out.push(rest === 0n ? low : low | 0x80);
    } while (rest !== 0n);
    push(Uint8Array.from(out));
  };
  const key = (field: number, wireType: number): void => {
    if (!Number.isInteger(field) || field < 1 || field > 536_870_911) throw new RangeError(`protobuf field number ${field} is out of range`);
    varint(BigInt(field) * 8n + BigInt(wireType));
  };
  const writer: ProtoWriter = {
    double(field, value) {
      key(field, WIRE_FIXED64);
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, value, true);
      push(bytes);
      return writer;
    },
    float(field, value) {
      key(field, WIRE_FIXED32);
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setFloat32(0, value, true);
      push(bytes);
      return writer;
    },
    int64(field, value) {
      if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf int64 field ${field}: ${value} is not a safe integer`);
      key(field, WIRE_VARINT);
      varint(BigInt(value));
      return writer;
    },
    string(field, value) {
      return writer.bytes(field, encoder.encode(value));
    },
    bytes(field, value) {
      key(field, WIRE_LENGTH_DELIMITED);
      varint(BigInt(value.length));
      push(value);
      return writer;
    },
    finish() {
      const out = new Uint8Array(length);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
  };
  return writer;
}
