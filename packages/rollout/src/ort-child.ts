/**
 * The factory module {@link createOrtChildEngine} asks its child process to
 * import (built to `dist/ort-child.js`): it loads the model folder there.
 */
import { loadOrtEngine, type LoadOrtEngineOptions } from './load-ort-engine.js';
import type { OrtEngine } from './ort-engine.js';

export function createEngine(options: LoadOrtEngineOptions): Promise<OrtEngine> {
  return loadOrtEngine(options);
}
