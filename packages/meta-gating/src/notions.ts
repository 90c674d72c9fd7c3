import type { JsonValue } from './json-literal-parser.js';
import { pythonStrip, pythonStripChars } from './python-string.js';

/** Result of {@link normalizeNotions}. */
export type NotionList = { ok: true; notions: string[] } | { ok: false; error: string };

/**
 * Turns a predicted `math_notion` value into a list of notion strings exactly
 * as the reference reward does (MASA-SPEC §6.3 step 1), including the cases
 * where Python raises (which make the notion score 0):
 * - a string containing `,` is split on `,`, each piece trimmed of whitespace
 *   and then of leading/trailing `[` and `]` characters;
 * - a string without `,` is a one-element list;
 * - a list is used as is, unless it contains the exact element `","`
 *   (Python then calls `.split` on the list and fails) or a non-string element
 *   (`singularize` fails on it);
 * - `null`, numbers and booleans fail (`"," in None` raises);
 * - an object fails (it becomes a one-element list that `singularize` rejects).
 */
export function normalizeNotions(value: JsonValue | undefined): NotionList {
  if (typeof value === 'string') {
    if (!value.includes(',')) return { ok: true, notions: [value] };
    const notions = value.split(',').map((piece) => pythonStripChars(pythonStripChars(pythonStrip(piece), '['), ']'));
    return { ok: true, notions };
  }
  if (Array.isArray(value)) {
    if (value.some((item) => item === ',')) return { ok: false, error: 'the notion list contains the element ","' };
    const notions: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string') return { ok: false, error: `a notion is not a string (${describe(item)})` };
      notions.push(item);
    }
    return { ok: true, notions };
  }
  return { ok: false, error: `math_notion is ${describe(value)}, not a string or a list of strings` };
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The reference's rule-based singular (MASA-SPEC §6.3): tests the lower-cased
 * word and slices the original. `…ies` (not `series`) → `…y`; `…ches`,
 * `…shes`, `…xes`, `…zes`, `…oes` → drop `es`; `…s` (not `…ss`, not `series`)
 * → drop `s`; otherwise unchanged.
 */
export function singularize(word: string): string {
  const lower = word.toLowerCase();
  if (lower.endsWith('ies') && lower !== 'series') return `${word.slice(0, -3)}y`;
  if (['ches', 'shes', 'xes', 'zes', 'oes'].some((ending) => lower.endsWith(ending))) return word.slice(0, -2);
  if (lower.endsWith('s') && !lower.endsWith('ss') && lower !== 'series') return word.slice(0, -1);
  return word;
}
