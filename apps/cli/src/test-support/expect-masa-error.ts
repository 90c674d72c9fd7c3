import { MasaError } from '@masa-rl/core';

/** Awaits `work` and returns the MasaError it rejects with; anything else (or success) fails the test. */
export async function expectMasaError(work: Promise<unknown>): Promise<MasaError> {
  try {
    await work;
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}
