/**
 * The table of built-in gradient rules, keyed by op type (`'com.microsoft::Op'`
 * for contrib ops).
 */
import type { GradientRule } from './gradient-rule.js';
import { ELEMENTWISE_RULES } from './gradient-rules-elementwise.js';
import { LINALG_RULES } from './gradient-rules-linalg.js';
import { LOSS_RULES } from './gradient-rules-loss.js';
import { REDUCE_RULES } from './gradient-rules-reduce.js';
import { SHAPE_RULES } from './gradient-rules-shape.js';

export const DEFAULT_GRADIENT_RULES: Readonly<Record<string, GradientRule>> = {
  ...ELEMENTWISE_RULES,
  ...LINALG_RULES,
  ...LOSS_RULES,
  ...REDUCE_RULES,
  ...SHAPE_RULES,
};

/** Op types (with domain prefix for contrib ops) that have a built-in gradient rule. */
export function differentiableOps(): string[] {
  return Object.keys(DEFAULT_GRADIENT_RULES).sort();
}
