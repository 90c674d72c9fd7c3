import { describe, expect, it } from 'vitest';
import { MasaError } from './errors.js';

describe('MasaError', () => {
  it('carries code, message, cause and details', () => {
    const cause = new Error('disk full');
    const error = new MasaError('FILE_WRITE_FAILED', 'could not write run/x: free space and retry', {
      cause,
      details: { path: 'run/x' },
    });
    expect(error.code).toBe('FILE_WRITE_FAILED');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ path: 'run/x' });
    expect(error).toBeInstanceOf(Error);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'FILE_WRITE_FAILED', name: 'MasaError' });
  });

  it('isInstance recognises errors from another copy of the package by marker', () => {
    // Simulate a duplicate package copy: an object carrying the global-registry symbol.
    const foreign = Object.assign(new Error('x'), { code: 'CONFIG_INVALID', [Symbol.for('masa-rl.error')]: true });
    expect(MasaError.isInstance(foreign)).toBe(true);
    expect(MasaError.isInstance(new Error('plain'))).toBe(false);
    expect(MasaError.isInstance({ code: 'CONFIG_INVALID' })).toBe(false);
    expect(MasaError.hasCode(foreign, 'CONFIG_INVALID')).toBe(true);
    expect(MasaError.hasCode(foreign, 'INTERNAL')).toBe(false);
  });

  it('from() wraps unknown values and passes MasaErrors through', () => {
    const original = new MasaError('DATASET_INVALID', 'bad row');
    expect(MasaError.from(original)).toBe(original);
    const wrapped = MasaError.from(new TypeError('boom'), 'MODEL_LOAD_FAILED');
    expect(wrapped.code).toBe('MODEL_LOAD_FAILED');
    expect(wrapped.message).toBe('boom');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(MasaError.from('text').code).toBe('INTERNAL');
  });
});
