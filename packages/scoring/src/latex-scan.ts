/**
 * Linear-time scanning helpers for LaTeX strings: brace matching and splitting
 * at top-level separators. No regular expression here backtracks, so a
 * megabyte of adversarial input costs a single pass.
 */

/**
 * Index of the `}` that closes the `{` at `openIndex`, or -1 when it never
 * closes. Escaped braces (`\{`, `\}`) are literal characters, not groups.
 */
export function matchBrace(text: string, openIndex: number): number {
  let depth = 0;
  for (let i = openIndex; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 92 /* \ */) {
      i++;
      continue;
    }
    if (ch === 123 /* { */) depth++;
    else if (ch === 125 /* } */) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Depth changes of one position, treating `\{ \}` as grouping (set braces). */
function bracketDelta(text: string, i: number): { delta: number; width: number } {
  const ch = text[i];
  if (ch === '\\') {
    const next = text[i + 1];
    if (next === '{') return { delta: 1, width: 2 };
    if (next === '}') return { delta: -1, width: 2 };
    if (text.startsWith('\\langle', i)) return { delta: 1, width: 7 };
    if (text.startsWith('\\rangle', i)) return { delta: -1, width: 7 };
    return { delta: 0, width: next === undefined ? 1 : 2 };
  }
  if (ch === '{' || ch === '(' || ch === '[') return { delta: 1, width: 1 };
  if (ch === '}' || ch === ')' || ch === ']') return { delta: -1, width: 1 };
  return { delta: 0, width: 1 };
}

/**
 * Splits `text` at every top-level occurrence of one of `separators` (outside
 * any `{}`, `()`, `[]`, `\{\}` or `\langle\rangle`). Brackets of different
 * kinds close each other, so half-open intervals such as `(1,2]` nest
 * correctly. Separators that are words (`and`, `or`) only match as whole
 * words. Returns the pieces untrimmed.
 */
export function splitTopLevel(text: string, separators: readonly string[]): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < text.length) {
    if (depth === 0) {
      let matched: string | undefined;
      for (const sep of separators) {
        if (!text.startsWith(sep, i)) continue;
        if (/^[A-Za-z]/.test(sep)) {
          const before = text[i - 1];
          const after = text[i + sep.length];
          if ((before !== undefined && /[A-Za-z\\]/.test(before)) || (after !== undefined && /[A-Za-z]/.test(after))) continue;
        }
        if (sep.startsWith('\\') && /^\\[A-Za-z]+$/.test(sep)) {
          const after = text[i + sep.length];
          if (after !== undefined && /[A-Za-z]/.test(after)) continue;
        }
        matched = sep;
        break;
      }
      if (matched !== undefined) {
        parts.push(text.slice(start, i));
        i += matched.length;
        start = i;
        continue;
      }
    }
    const { delta, width } = bracketDelta(text, i);
    depth = Math.max(0, depth + delta);
    i += width;
  }
  parts.push(text.slice(start));
  return parts;
}

/** True when the brackets of `text` balance (every kind counted together) and never go negative. */
export function isBalanced(text: string): boolean {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const { delta, width } = bracketDelta(text, i);
    depth += delta;
    if (depth < 0) return false;
    i += width;
  }
  return depth === 0;
}

/**
 * If `text` is entirely wrapped by one bracket pair starting at index 0 and
 * closing at the last character, returns the open and close tokens and the
 * inside; otherwise undefined. `(1,2)(3,4)` is not wrapped.
 */
export function unwrapBrackets(text: string): { open: string; close: string; inner: string } | undefined {
  const opens: Array<[string, string[]]> = [
    ['\\{', ['\\}']],
    ['\\langle', ['\\rangle']],
    ['(', [')', ']']],
    ['[', [']', ')']],
    ['{', ['}']],
  ];
  for (const [open, closes] of opens) {
    if (!text.startsWith(open)) continue;
    for (const close of closes) {
      if (!text.endsWith(close) || text.length < open.length + close.length) continue;
      // The opening bracket must close exactly at the end.
      let depth = 0;
      let i = 0;
      let closesAtEnd = false;
      while (i < text.length) {
        const { delta, width } = bracketDelta(text, i);
        depth += delta;
        if (depth === 0) {
          closesAtEnd = i + width === text.length;
          break;
        }
        i += width;
      }
      if (closesAtEnd) return { open, close, inner: text.slice(open.length, text.length - close.length) };
    }
  }
  return undefined;
}
