/**
 * TensorBoard event records: a `tensorflow.Event` protobuf
 * (`tensorboard/compat/proto/event.proto`, `summary.proto`) framed as a
 * TFRecord. Only the parts a scalar logger needs are encoded:
 *
 * - `Event { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5; SessionLog session_log = 7; } }`
 * - `Summary { repeated Value value = 1; }`, `Value { string tag = 1; float simple_value = 2; }`
 * - `SessionLog { SessionStatus status = 1; }` with `START = 1`
 *
 * TFRecord framing: `uint64 length` (little-endian), `uint32 masked_crc32c(length bytes)`,
 * the data, `uint32 masked_crc32c(data)`.
 */
import { maskedCrc32c } from './crc32c.js';
import { createProtoWriter } from './proto-writer.js';

/** The `file_version` TensorBoard expects in the first record of a file (version 2 turns on restart purging by `SessionLog.START`). */
export const TENSORBOARD_FILE_VERSION = 'brain.Event:2';

/** `SessionLog.SessionStatus.START`. */
const SESSION_START = 1;

/** One scalar of a summary. */
export interface ScalarValue {
  /** `/`-grouped name, e.g. `actor/pg_clipfrac`. */
  tag: string;
  /** Stored as float32 (`simple_value`). */
  value: number;
}

/** What one event carries (the `what` oneof). */
export type TensorBoardEventBody =
  | { type: 'file-version'; version: string }
  | { type: 'scalars'; values: readonly ScalarValue[] }
  /** A (re)start of the writer at `step`: TensorBoard drops earlier points with a step ≥ this one. */
  | { type: 'session-start' };

export interface TensorBoardEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  step: number;
  body: TensorBoardEventBody;
}

/** Serializes one `tensorflow.Event`. */
export function encodeEvent(event: TensorBoardEvent): Uint8Array {
  const writer = createProtoWriter().double(1, event.wallTime).int64(2, event.step);
  const { body } = event;
  if (body.type === 'file-version') {
    writer.string(3, body.version);
  } else if (body.type === 'scalars') {
    const summary = createProtoWriter();
    for (const { tag, value } of body.values) summary.bytes(1, createProtoWriter().string(1, tag).float(2, value).finish());
    writer.bytes(5, summary.finish());
  } else {
    writer.bytes(7, createProtoWriter().int64(1, SESSION_START).finish());
  }
  return writer.finish();
}

/** Frames `data` as one TFRecord (length, its masked CRC, data, its masked CRC). */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
