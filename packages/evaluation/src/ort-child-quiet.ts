/**
 * The factory module of the evaluation's engine process (built to `dist/ort-child-quiet.js`; never
 * imported by the package itself). It loads the model like `@masa-rl/rollout`'s own child module but
 * ignores SIGINT: a terminal's Ctrl-C reaches the whole process group, and the evaluation, not its
 * engine, decides when to stop (after the current batch). The child still exits when its parent goes.
 */
import { loadOrtEngine, type LoadOrtEngineOptions, type OrtEngine } from '@masa-rl/rollout';

process.on('SIGINT', () => undefined);

export function createEngine(options: LoadOrtEngineOptions): Promise<OrtEngine> {
  return loadOrtEngine(options);
}
