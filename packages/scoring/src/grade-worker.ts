/**
 * Worker-thread entry of the grading pool: grades one request at a time with
 * {@link gradeSync} and posts the verdict back. The pool enforces the
 * deadline by terminating this thread, which also stops a busy synchronous
 * computation.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gradeSync, type GradeRequest } from './grade.js';
import type { WorkerMessage, WorkerReply } from './worker-protocol.js';

const port = parentPort;
const testHooks = (workerData as { testHooks?: boolean } | null)?.testHooks === true;

function runHook(hook: string): void {
  if (!testHooks) throw new Error('test hooks are disabled in this pool');
  if (hook === 'spin') {
    for (;;) {
      // Busy forever: only terminate() ends this.
    }
  }
  if (hook === 'allocate') {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(1_000_000).fill(1));
  }
  if (hook === 'throw') throw new Error('test hook: thrown from the worker');
  if (hook === 'exit') process.exit(3);
}

if (port) {
  port.on('message', (message: WorkerMessage) => {
    if (message.hook !== undefined) {
      try {
        runHook(message.hook);
      } catch (error: unknown) {
        const reply: WorkerReply = {
          id: message.id,
          verdict: { equal: false, reason: 'error', ms: 0, status: 'error', error: error instanceof Error ? error.message : String(error) },
        };
        port.postMessage(reply);
        return;
      }
    }
    const verdict = gradeSync(message.request as GradeRequest);
    const reply: WorkerReply = { id: message.id, verdict };
    port.postMessage(reply);
  });
  // Warm up the parser (compute-engine builds its dictionaries on first use) before saying ready.
  gradeSync({ kind: 'math', gold: '\\frac{1}{2}', pred: 'x^2+\\sqrt{2}' });
  port.postMessage({ ready: true });
}
