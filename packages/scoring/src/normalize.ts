/**
 * Correct-mode string normalisation (SCORING.md §4 step 1): strips notation
 * that never changes the value of an answer, so that the structure and
 * comparison layers see one spelling per meaning. Percent signs, degrees and
 * units are stripped here and never converted.
 */

/** Replaces every occurrence of `from` (a plain string). */
function replaceAll(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

const UNICODE_MAP: Array<[string, string]> = [
  ['\u2212', '-'],
  ['\u2013', '-'],
  ['\u2014', '-'],
  ['\u00d7', '\\times '],
  ['\u22c5', '\\cdot '],
  ['\u00b7', '\\cdot '],
  ['\u00f7', '/'],
  ['\u03c0', '\\pi '],
  ['\u221e', '\\infty '],
  ['\u221a', '\\sqrt'],
  ['\u2264', '\\le '],
  ['\u2265', '\\ge '],
  ['\u2260', '\\ne '],
  ['\u00b0', '^\\circ'],
  ['\u222a', '\\cup '],
  ['\u2229', '\\cap '],
  ['\u2205', '\\emptyset '],
  ['\u00b1', '\\pm '],
  ['\u2213', '\\mp '],
  ['\u00b2', '^2'],
  ['\u00b3', '^3'],
  ['\u2208', '\\in '],
  ['\u211d', '\\mathbb{R}'],
  ['\u00a0', ' '],
  ['\u2009', ' '],
  ['\u202f', ' '],
  ['\u2002', ' '],
  ['\u2003', ' '],
  ['\u3000', ' '],
];

/** Spacing commands and sizing commands that carry no meaning in an answer. */
const SPACING = /\\(?:displaystyle|textstyle|scriptstyle|quad|qquad|[,;:> ]|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![A-Za-z])/g;

/**
 * Global clean-up of an answer string: math delimiters, spacing, `\left` /
 * `\right`, fraction variants, unicode symbols, degree marks, currency,
 * thousands separators, `infinity`, relation spellings.
 */
const ROW_BREAK = '\u0000';

function isBalancedBraces(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

export function normalizeAnswerText(input: string): string {
  // Protect matrix row breaks (\\) from the single-backslash rules below.
  let s = input.trim().replace(/\u0000/g, '').replace(/\\\\/g, ROW_BREAK);
  for (const [from, to] of UNICODE_MAP) if (s.includes(from)) s = replaceAll(s, from, to);
  // Thousands separators written as LaTeX spacing or grouping: 10,\!080 · 1{,}000 · 1\,000\,000.
  s = s.replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, '$1');
  s = s.replace(/(\d)\{,\}(?=\d{3}(?!\d))/g, '$1');
  s = s.replace(/(\d)\\,(?=\d{3}(?!\d))/g, '$1');
  s = replaceAll(s, '\\!', '');
  // Math-mode delimiters.
  s = s.replace(/\$/g, ' ');
  s = s.replace(/\\[()[\]]/g, ' ');
  // \left( … \right) keep their delimiter; \left. and \right. vanish.
  s = s.replace(/\\(?:left|right)\s*\./g, '');
  s = s.replace(/\\(?:left|right)(?![A-Za-z])/g, '');
  s = s.replace(SPACING, ' ');
  s = s.replace(/\\hspace\*?\{[^{}]*\}/g, ' ');
  s = s.replace(/~/g, ' ');
  s = s.replace(/\\[dtc]frac(?![A-Za-z])/g, '\\frac');
  s = s.replace(/\\[dt]binom(?![A-Za-z])/g, '\\binom');
  // Relations: one spelling each.
  s = s.replace(/\\(?:leqslant|leq|le)(?![A-Za-z])/g, '\\le ');
  s = s.replace(/\\(?:geqslant|geq|ge)(?![A-Za-z])/g, '\\ge ');
  s = s.replace(/\\(?:neq|ne)(?![A-Za-z])/g, '\\ne ');
  s = s.replace(/\\lt(?![A-Za-z])/g, '<');
  s = s.replace(/\\gt(?![A-Za-z])/g, '>');
  s = replaceAll(s, '<=', '\\le ');
  s = replaceAll(s, '>=', '\\ge ');
  s = replaceAll(s, '!=', '\\ne ');
  s = replaceAll(s, '==', '=');
  // Degrees: stripped, never converted.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}/g, '');
  s = s.replace(/\^\s*\\circ(?![A-Za-z])/g, '');
  s = s.replace(/\\(?:circ|degree)(?![A-Za-z])/g, '');
  s = s.replace(/\s*\\text\{\s*degrees?\s*\}/g, '');
  s = s.replace(/(\d|\})\s*degrees?(?![A-Za-z])/g, '$1');
  // Currency.
  s = s.replace(/\\\$/g, '');
  s = s.replace(/\\(?:euro|pounds|textdollar|textsterling)(?![A-Za-z])/g, '');
  s = s.replace(/[€£¥]/g, '');
  // Empty set and the reals.
  s = s.replace(/\\(?:varnothing|emptyset)(?![A-Za-z])/g, '\\emptyset ');
  s = s.replace(/\\\{\s*\\\}/g, '\\emptyset ');
  // Words for infinity.
  s = s.replace(/(^|[^A-Za-z\\])(?:infinity|inf)(?![A-Za-z])/g, '$1\\infty ');
  s = s.replace(/\\infin(?![A-Za-z])/g, '\\infty ');
  s = s.replace(/\\text\{\s*(?:percent|pct)\s*\}|(?<![A-Za-z])(?:percent|pct)(?![A-Za-z])/g, '\\%');
  s = s.replace(/\\mathbb\s*\{\s*R\s*\}|\\R(?![A-Za-z])/g, '\\mathbb{R}');
  // Collapse whitespace.
  s = s.replace(/\s+/g, ' ').trim();
  // A trailing period (end of sentence), but not a decimal point like `5.` — both read the same.
  s = s.replace(/(?:\s*\.)+$/, '').trim();
  // A whole-answer \boxed{…} / \fbox{…} (a bare answer copied with its box).
  const boxed = /^\\(?:boxed|fbox)\s*\{([\s\S]*)\}$/.exec(s);
  if (boxed && isBalancedBraces(boxed[1] as string)) s = (boxed[1] as string).trim();
  // A leading \approx / = (\boxed{\approx 10.8}, \boxed{= 5}) is not part of the value.
  s = s.replace(/^(?:\\approx|\\simeq|\\sim|=)\s*/, '');
  // x \in S → S.
  s = s.replace(/^[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s+/, '');
  // Whole-string thousands: 1,234 · 1,234,567.89 · 1 000 000.
  if (/^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  else if (/^[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/ /g, '');
  return s.replace(/\u0000/g, '\\\\');
}

/** English unit words stripped after a value (multi-letter only; single letters are usually variables). */
const UNIT_WORDS = [
  'cm', 'mm', 'km', 'm\\^2', 'cm\\^2', 'inches', 'inch', 'in\\^2', 'feet', 'foot', 'ft', 'yards', 'yard', 'yd', 'miles', 'mile',
  'mph', 'meters', 'meter', 'metres', 'metre', 'hours', 'hour', 'hrs', 'hr', 'minutes', 'minute', 'mins', 'seconds', 'second',
  'secs', 'sec', 'days', 'day', 'weeks', 'week', 'months', 'month', 'years', 'year', 'dollars', 'dollar', 'cents', 'cent',
  'units', 'unit', 'square', 'sq', 'cubic', 'grams', 'gram', 'kg', 'pounds', 'pound', 'lbs', 'lb', 'ounces', 'ounce', 'oz',
  'liters', 'liter', 'litres', 'litre', 'ml', 'gallons', 'gallon', 'students', 'people', 'persons', 'ways', 'points', 'times',
  'degrees', 'degree', 'radians', 'sqrt units',
];
const UNIT_WORD_RE = new RegExp(
  `^(.*?[0-9}).])\\s*(?:(?:square|sq|cubic)\\s+)?(?:${UNIT_WORDS.join('|')})(?:\\^\\{?[23]\\}?)?\\.?$`,
);

/** What {@link stripItemDecorations} removed from an item. */
export interface ItemDecorations {
  text: string;
  /** The item ended with a percent sign. */
  percent: boolean;
  /** A trailing unit was stripped. */
  unit: boolean;
}

const TEXT_COMMAND = /\\(?:text|textnormal|textrm|mbox|mathrm|textit|textbf|mathit|mathbf|operatorname)\s*\{/y;

/**
 * Strips one item's trailing decorations: a percent sign (remembered), a
 * trailing `\text{…}` / `\mbox{…}` / `\mathrm{…}` unit with an optional `^2`
 * when a value comes before it, and a trailing English unit word.
 */
export function stripItemDecorations(input: string): ItemDecorations {
  let text = input.trim();
  let percent = false;
  let unit = false;
  for (let round = 0; round < 3; round++) {
    const before = text;
    if (/\\?%$/.test(text)) {
      text = text.replace(/\s*\\?%$/, '').trim();
      percent = true;
    }
    // Trailing \text{…}^2 unit after a value.
    const unitMatch = /^(.*?)\s*\\(?:text|textnormal|textrm|mbox|mathrm)\s*\{([^{}]*)\}\s*(?:\^\s*\{?\s*[23]\s*\}?)?$/.exec(text);
    if (unitMatch) {
      const value = (unitMatch[1] as string).trim();
      const rawContent = unitMatch[2] as string;
      const content = rawContent.trim();
      const command = /\\(mathrm|text|textnormal|textrm|mbox)/.exec(text.slice(value.length))?.[1] ?? 'text';
      // `\mathrm{e}`, `\mathrm{d}`: a single upright letter is a constant or a variable, not a unit —
      // unless it was written with a leading space (`\mathrm{~m}`), the style of unit annotations.
      const singleLetter = /^[A-Za-z]$/.test(content) && command === 'mathrm' && !/^\s/.test(rawContent);
      const isUnit = /[A-Za-z]/.test(content) && !/^(?:or|and)$/.test(content) && !singleLetter;
      if (value.length > 0 && /(?:[0-9}).]|\\pi)$/.test(value) && isUnit) {
        text = value;
        unit = true;
      }
    }
    // A plain number followed by English words: "3 apples", "12 ways to choose".
    const counted = /^(-?\d[\d,]*(?:\.\d+)?|\\frac\{\d+\}\{\d+\})\s+([A-Za-z]{3,}(?:\s+[A-Za-z]+)*)$/.exec(text);
    if (counted && !/^(?:sin|cos|tan|sec|csc|cot|log|exp|sqrt|arcsin|arccos|arctan)\b/.test(counted[2] as string)) {
      text = counted[1] as string;
      unit = true;
    }
    const wordMatch = UNIT_WORD_RE.exec(text);
    if (wordMatch) {
      text = (wordMatch[1] as string).trim();
      unit = true;
    }
    if (text === before) break;
  }
  return { text, percent, unit };
}

/**
 * If `text` is exactly one text-like command (`\text{…}`, `\textbf{…}`,
 * `\mathrm{…}` …) returns its content; otherwise undefined.
 */
export function unwrapTextCommand(text: string): string | undefined {
  TEXT_COMMAND.lastIndex = 0;
  if (!TEXT_COMMAND.test(text)) return undefined;
  const open = TEXT_COMMAND.lastIndex - 1;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i === text.length - 1 ? text.slice(open + 1, i) : undefined;
    }
  }
  return undefined;
}

/** English number words up to twenty, and the tens, as integers. */
export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  hundred: 100, thousand: 1000, million: 1000000,
};
