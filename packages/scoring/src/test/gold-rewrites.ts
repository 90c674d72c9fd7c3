/**
 * Rewrites of gold answers for grader self-checks (issue 2, acceptance 3):
 * spellings that keep the value, and a last-digit change that alters it.
 * Deliberately simple string surgery, independent of the grader's own
 * normaliser.
 */

const TEXT_LIKE = /\\(?:text|mbox|mathrm|textnormal|textbf|operatorname)\s*\{[^{}]*\}(?:\^\s*\{?\d\}?)?/g;

/** Index ranges covered by `\text{…}`-like unit annotations (and an exponent right after them). */
function protectedRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const match of text.matchAll(TEXT_LIKE)) ranges.push([match.index, match.index + match[0].length]);
  return ranges;
}

/**
 * Changes the last digit that belongs to the value (not to a `\text{…}` or
 * `\mbox{…}` unit) to the next digit (9 → 0). Returns undefined for golds
 * with no such digit.
 */
export function changeLastDigit(gold: string): string | undefined {
  const ranges = protectedRanges(gold);
  for (let i = gold.length - 1; i >= 0; i--) {
    const ch = gold.charCodeAt(i);
    if (ch < 48 || ch > 57) continue;
    if (ranges.some(([start, end]) => i >= start && i < end)) continue;
    const next = String.fromCharCode(48 + ((ch - 48 + 1) % 10));
    return gold.slice(0, i) + next + gold.slice(i + 1);
  }
  return undefined;
}

function balancedParens(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

/** The rewrites we know keep the value, each as a function of the gold. */
const REWRITES: ReadonlyArray<[string, (gold: string) => string | undefined]> = [
  [
    'slash-fraction',
    (g) => {
      const match = /^(-?)\\frac\{(\d+)\}\{(\d+)\}$/.exec(g.trim());
      return match ? `${match[1]}${match[2]}/${match[3]}` : undefined;
    },
  ],
  ['dfrac', (g) => (g.includes('\\frac') ? g.replace(/\\frac(?![a-z])/g, '\\dfrac') : undefined)],
  [
    'left-right',
    (g) => {
      if (!/[()]/.test(g) || /\\left|\\right/.test(g) || !balancedParens(g)) return undefined;
      // Only plain parentheses: every `(` pairs with a `)` (half-open intervals keep their `]`).
      return g.replace(/(?<!\\)\(/g, '\\left(').replace(/(?<!\\)\)/g, '\\right)');
    },
  ],
  // Not in thousands separators (1,000 · 10,\!080), where a space would make a list.
  ['comma-space', (g) => (g.includes(',') && !/\d,\d{3}(?!\d)/.test(g) && !/,\\!/.test(g) ? g.replace(/,\s*/g, ', ') : undefined)],
  ['spaced-operators', (g) => (/[0-9a-z}]\s*[+=]\s*[0-9a-z\\]/.test(g) ? g.replace(/\s*([+=])\s*/g, ' $1 ') : undefined)],
  ['sqrt-braces', (g) => (/\\sqrt\d/.test(g) ? g.replace(/\\sqrt(\d)/g, '\\sqrt{$1}') : undefined)],
  ['integer-decimal', (g) => (/^-?\d{1,9}$/.test(g.trim()) ? `${g.trim()}.0` : undefined)],
  [
    'thousands-separator',
    (g) => (/^\d{5,9}$/.test(g.trim()) ? g.trim().replace(/\B(?=(\d{3})+$)/g, '{,}') : undefined),
  ],
  ['degree-sign', (g) => (/\^\\circ|\^\{\\circ\}/.test(g) ? g.replace(/\^\\circ|\^\{\\circ\}/g, '°') : undefined)],
];

/**
 * A value-preserving rewrite of a gold answer: wraps it in `$…$` and applies
 * every rewrite that fits (`\frac` → `\dfrac`, `a/b` for a lone fraction,
 * `\left( … \right)`, spaces after commas and around `+ =`, `\sqrt2` →
 * `\sqrt{2}`, `12` → `12.0`, `10080` → `10{,}080`, `^\circ` → `°`, a trailing
 * period after the math), choosing among alternatives by `variant` so that all get used.
 * Returns the rewrite and the names of the rewrites applied.
 */
export function rewriteGold(gold: string, variant = 0): { text: string; applied: string[] } {
  let text = gold;
  const applied: string[] = [];
  for (let k = 0; k < REWRITES.length; k++) {
    const [name, rewrite] = REWRITES[k] as [string, (gold: string) => string | undefined];
    // integer-decimal and thousands-separator exclude each other; pick by variant.
    if (name === 'integer-decimal' && variant % 2 === 1) continue;
    if (name === 'slash-fraction' && variant % 2 === 1) continue;
    if (name === 'thousands-separator' && variant % 2 === 0) continue;
    const next = rewrite(text);
    if (next !== undefined && next !== text) {
      text = next;
      applied.push(name);
    }
  }
  const dollars = (text.match(/(?<!\\)\$/g) ?? []).length;
  if (dollars === 0) {
    text = variant % 4 === 3 ? `\\(${text}\\)` : `$${text}$`;
    applied.push('math-delimiters');
  } else if (dollars % 2 === 0) {
    // Already in $…$: switch to \( … \) delimiters.
    let open = true;
    text = text.replace(/(?<!\\)\$/g, () => {
      const token = open ? '\\(' : '\\)';
      open = !open;
      return token;
    });
    applied.push('paren-delimiters');
  }
  if (variant % 3 === 0 && !text.trim().endsWith('.')) {
    text = `${text}.`;
    applied.push('trailing-period');
  }
  return { text, applied };
}
