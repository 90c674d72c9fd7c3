/** Messages between the grading pool and its worker threads. */
import type { GradeVerdict } from '@masa-rl/core';
import type { GradeRequest } from './grade.js';

/** Pool → worker: one request to grade. `hook` exists only for the pool's own tests. */
export interface WorkerMessage {
  id: number;
  request: GradeRequest;
  hook?: 'spin' | 'allocate' | 'throw' | 'exit';
}

/** Worker → pool: the verdict for request `id`. */
export interface WorkerReply {
  id: number;
  verdict: GradeVerdict;
}
