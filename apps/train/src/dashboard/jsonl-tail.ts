/**
 * Follows a JSON-lines file by polling its size (robust on every filesystem,
 * network mounts included, unlike change notifications): each poll returns
 * the complete new lines; a partial last line waits for its newline; a file
 * that shrank (a resumed run truncates its files) starts over with `reset`.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

export interface JsonlPoll {
  /** The file was truncated or replaced: forget what was read before. */
  reset: boolean;
  /** Parsed new lines (lines that are not JSON objects are skipped). */
  records: Array<Record<string, unknown>>;
}

export interface JsonlTail {
  readonly path: string;
  /** Reads whatever complete lines were appended since the last poll. */
  poll(): JsonlPoll;
}

/** Starts following `path` from its beginning (a missing file counts as empty). */
export function createJsonlTail(path: string): JsonlTail {
  let offset = 0;
  let partial: Buffer = Buffer.alloc(0);
  let identity: string | undefined;
  return {
    path,
    poll() {
      let size: number;
      let id: string;
      try {
        const info = statSync(path);
        size = info.size;
        id = `${info.dev}:${info.ino}`;
      } catch {
        const reset = offset > 0 || partial.length > 0;
        offset = 0;
        partial = Buffer.alloc(0);
        identity = undefined;
        return { reset, records: [] };
      }
      let reset = false;
      // Atomic rewrites (temp + rename) give a new inode; truncation gives a smaller size.
      if ((identity !== undefined && id !== identity) || size < offset) {
        reset = offset > 0 || partial.length > 0;
        offset = 0;
        partial = Buffer.alloc(0);
      }
      identity = id;
      if (size === offset) return { reset, records: [] };
      const fd = openSync(path, 'r');
      let bytes: Buffer;
      try {
        const length = fstatSync(fd).size - offset;
        const buffer = Buffer.alloc(Math.max(0, length));
        let read = 0;
        while (read < length) {
          const n = readSync(fd, buffer, read, length - read, offset + read);
          if (n === 0) break;
          read += n;
        }
        offset += read;
        bytes = Buffer.concat([partial, buffer.subarray(0, read)]);
      } finally {
        closeSync(fd);
      }
      // Split on the byte 0x0a so that a character cut by the writer waits whole for the next poll.
      const end = bytes.lastIndexOf(0x0a) + 1;
      partial = Buffer.from(bytes.subarray(end));
      const lines = bytes.subarray(0, end).toString('utf8').split('\n');
      const records: Array<Record<string, unknown>> = [];
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          const value = JSON.parse(line) as unknown;
          if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as Record<string, unknown>);
        } catch {
          // Not JSON: skipped.
        }
      }
      return { reset, records };
    },
  };
}
