// Engine factory for the child-process tests: a scripted engine whose
// behaviour is chosen by plain-data options (functions cannot cross processes).
import { MasaError } from '@masa-rl/core';
import { createScriptedEngine } from '@masa-rl/rollout/test';

export function createEngine(options) {
  if (options.failInit === true) throw new MasaError('MODEL_LOAD_FAILED', 'no model.safetensors in /models/missing; run masa export first');
  return createScriptedEngine({
    name: 'scripted-child',
    blockMs: options.blockMs ?? 0,
    tokenDelayMs: options.tokenDelayMs ?? 0,
    respond: ({ request, sampleIndex, rng }) => {
      if (request.id === 'crash') {
        process.stderr.write('fatal: simulated native crash in session.run\n');
        process.exit(3);
      }
      if (request.id === 'throw') throw new MasaError('NUMERIC_INSTABILITY', 'logits are NaN at step 3', { details: { step: 3 } });
      if (request.id === 'long') return 'z'.repeat(100_000);
      return `child s${sampleIndex}:${rng.int(0, 999)} ### rest`;
    },
  });
}

export const notAFactory = 42;
