/**
 * The training worker: the process `masa train` forks. It waits for a
 * `start` message with a {@link TrainJob}, runs it, and sends every
 * {@link JobMessage} back over IPC. `stop` saves a checkpoint at the next step
 * boundary and ends; `abort` ends at once. Ctrl-C in the terminal reaches this
 * process too: it is ignored here, because the parent decides what it means.
 * When the parent goes away (killed), the worker aborts and exits.
 */
import { runTrainJob, type JobMessage, type TrainJob } from './train-job.js';

/** Messages the parent sends. */
type ParentMessage = { type: 'start'; job: TrainJob } | { type: 'stop' } | { type: 'abort' };

const controller = new AbortController();
let stopRequested = false;
let started = false;

function send(message: JobMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

process.on('SIGINT', () => {
  // The parent turns Ctrl-C into `stop` / `abort` messages.
});

process.on('disconnect', () => {
  controller.abort();
  setTimeout(() => process.exit(1), 5_000).unref();
});

process.on('message', (raw: unknown) => {
  const message = raw as ParentMessage;
  if (message.type === 'stop') stopRequested = true;
  else if (message.type === 'abort') controller.abort();
  else if (message.type === 'start' && !started) {
    started = true;
    const sends: Array<Promise<void>> = [];
    void runTrainJob(message.job, {
      emit: (jobMessage) => sends.push(send(jobMessage)),
      stopRequested: () => stopRequested,
      signal: controller.signal,
    }).then(async () => {
      await Promise.all(sends);
      // ONNX Runtime and timers may hold the loop open: the job is over.
      process.exit(0);
    });
  }
});
