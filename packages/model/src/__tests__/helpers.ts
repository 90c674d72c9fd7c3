import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../checkpoint.js';
import type { LoadedModel } from '../checkpoint.js';
import { createRandomModel } from '../random-model.js';
import type { RandomModelOptions } from '../random-model.js';

/** max |actual - expected| / max |expected| (the error relative to the row's scale). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i] as number));
    error = Math.max(error, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  return scale === 0 ? error : error / scale;
}

/** A temp folder removed by `cleanup()`. */
export async function tempDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `masa-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Tiny model shapes for tests (hidden 16, 2 layers, GQA 4/2 heads of 8, vocab 64). */
export const TINY = { hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, headDim: 8, intermediateSize: 24, vocabSize: 64 } as const;

/** Writes a random model into `dir/name` and loads it back in float64. */
export async function tinyModel(
  dir: string,
  name: string,
  options: Omit<RandomModelOptions, 'modelDir' | 'hiddenSize' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'intermediateSize' | 'vocabSize'> &
    Partial<Pick<RandomModelOptions, 'hiddenSize' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'intermediateSize' | 'vocabSize'>>,
  dtype: 'float32' | 'float64' = 'float64',
): Promise<LoadedModel> {
  const modelDir = join(dir, name);
  await createRandomModel({ ...TINY, dtype: dtype === 'float64' ? 'F64' : 'F32', initStd: 0.3, ...options, modelDir });
  return loadModel({ modelDir, dtype });
}
