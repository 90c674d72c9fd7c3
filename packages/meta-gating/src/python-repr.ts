import type { JsonValue } from './json-literal-parser.js';

/** Characters Python's `str.isprintable()` rejects (other than the ASCII ones handled first). */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/**
 * Python's `repr()` of a string: single quotes unless the text contains a
 * single quote and no double quote; backslash, the chosen quote, `\t`, `\n`,
 * `\r` escaped; other control and non-printable characters as `\xhh`,
 * `\uhhhh` or `\Uhhhhhhhh`; printable non-ASCII characters kept.
 */
export function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\t') out += '\\t';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x7f) out += char;
    else if (!NOT_PRINTABLE.test(char)) out += char;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return out + quote;
}

/**
 * Python's `repr()` of a float: the shortest digits that round-trip, in
 * positional notation with at least one decimal when the decimal exponent is
 * in [-4, 16), else scientific with a signed two-digit exponent
 * (`1e+16`, `1.5e-05`); `nan`, `inf`, `-inf`.
 */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa = '0', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const exponent = Number(exponentText);
  const digits = mantissa.replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const head = digits.length > 1 ? `${digits.slice(0, 1)}.${digits.slice(1)}` : digits;
    const exponentSign = exponent < 0 ? '-' : '+';
    return `${sign}${head}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent >= 0) {
    const integerPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const fraction = digits.slice(exponent + 1);
    return `${sign}${integerPart}.${fraction === '' ? '0' : fraction}`;
  }
  return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
}

/**
 * Python's `repr()` of a JSON value as `json.loads` would have produced it:
 * `None`/`True`/`False`, lists `[a, b]`, dicts `{'k': v}`, strings per
 * {@link pythonStringRepr}. A JS number carries no int/float distinction:
 * integral values below 1e16 print as Python ints (`2`), others as floats —
 * so a float literal `2.0` inside a list prints as `2` (rare in notion lists).
 */
export function pythonRepr(value: JsonValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value === 0 ? 0 : value) : pythonFloatRepr(value);
  }
  if (typeof value === 'string') return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map((item) => pythonRepr(item)).join(', ')}]`;
  const entries = Object.keys(value).map((key) => `${pythonStringRepr(key)}: ${pythonRepr(value[key] ?? null)}`);
  return `{${entries.join(', ')}}`;
}
