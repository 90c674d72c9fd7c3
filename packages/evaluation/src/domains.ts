/**
 * Which datasets make up each evaluation domain (MASA-SPEC §12.1), and the
 * sampling defaults of a dataset (§12.2 for the benchmarks; the tiny model's
 * own settings for the synthetic arithmetic sets).
 */
import type { Domain } from '@masa-rl/core';

/** The domains `masa eval --domain` accepts. */
export const EVAL_DOMAINS: readonly Domain[] = ['math', 'science', 'logic', 'coding'];

/**
 * The datasets of each domain, in the reference's order (`eval.sh`). `gpqa_diamond` and `rbench` are not
 * bundled: they join the science domain only when a copy is given (`gpqaCsv`, `rbenchFile`).
 */
export const DOMAIN_DATASETS: Readonly<Record<Domain, readonly string[]>> = {
  math: ['aime2024', 'aime2025', 'amc23', 'math500', 'minerva', 'olympiadbench'],
  science: ['gpqa_diamond', 'rbench', 'arc_challenge', 'scibench'],
  logic: ['prontoqa', 'proofwriter', 'folio', 'logical_deduction', 'ar_lsat'],
  coding: ['mbpp'],
};

/** Sampling settings of an evaluation. */
export interface SamplingSettings {
  /** Samples per problem. */
  n: number;
  temperature: number;
  topP: number;
  /** Token budget of each sample. */
  maxNewTokens: number;
}

/** The MASA reference's evaluation sampling (MASA-SPEC §12.2): T 0.6, top-p 1, n 32, 16,384 new tokens. */
export const MASA_EVAL_SAMPLING: Readonly<SamplingSettings> = { n: 32, temperature: 0.6, topP: 1, maxNewTokens: 16_384 };

/** The tiny model's settings on the synthetic arithmetic sets (TINY-TASK §4): n 8, T 1, top-p 1, 320 new tokens (its context). */
export const SYNTHETIC_EVAL_SAMPLING: Readonly<SamplingSettings> = { n: 8, temperature: 1, topP: 1, maxNewTokens: 320 };

/** True for the synthetic arithmetic sets (their template is `synthetic-arith`). */
export function isSyntheticTemplate(template: string): boolean {
  return template === 'synthetic-arith';
}

/**
 * Default sampling for a set of dataset templates: the tiny model's settings when every dataset is a
 * synthetic arithmetic set, else MASA's. With temperature 0 (greedy) the reference draws one sample,
 * so `n` defaults to 1 then.
 */
export function defaultSampling(templates: readonly string[], temperature?: number): SamplingSettings {
  const base = templates.length > 0 && templates.every(isSyntheticTemplate) ? SYNTHETIC_EVAL_SAMPLING : MASA_EVAL_SAMPLING;
  const resolved = { ...base };
  if (temperature !== undefined) resolved.temperature = temperature;
  if (resolved.temperature === 0) resolved.n = 1;
  return resolved;
}
