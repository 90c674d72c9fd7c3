import { describe, expect, it } from 'vitest';
import { autoWeightMode } from './load-ort-engine.js';

const GiB = 2 ** 30;

describe("loadOrtEngine's weightMode 'auto'", () => {
  it('freezes weights that fit inline whatever the memory', () => {
    expect(autoWeightMode(1.5 * GiB, 2 * GiB)).toBe('initializers');
  });

  it('freezes larger weights only when 2.5 copies fit in 60% of RAM', () => {
    // Qwen3-0.6B in float32 (2.22 GiB): 5.55 GiB needed; 60% of 24 GiB is 14.4, of 8 GiB 4.8.
    expect(autoWeightMode(2.22 * GiB, 24 * GiB)).toBe('initializers');
    expect(autoWeightMode(2.22 * GiB, 8 * GiB)).toBe('inputs');
    // The boundary: 2.5 · 6 = 15 = 0.6 · 25.
    expect(autoWeightMode(6 * GiB, 25 * GiB)).toBe('initializers');
    expect(autoWeightMode(6 * GiB, 24.9 * GiB)).toBe('inputs');
  });
});
