/**
 * MASA parity extractors, bugs included: `extract_answer_math` (MASA-SPEC
 * §6.1), `get_choice` (§12.4, "choiceOf"), the logic sets' label phrase and
 * the MBPP code-block rule.
 */
import { masaStripString } from './masa-normalize.js';
import { pyStrip, pyTail } from './python-compat.js';

/**
 * `extract_answer_math(pred_str)`: text after the last `boxed` (brace-matched
 * when it starts with `{`, else up to the first `$`), else after the last
 * `he answer is`, else the last number; then the first line, minus one
 * leading `:`, one trailing `.` and one trailing `/`; then `strip_string`.
 */
export function masaExtractAnswer(response: string): string {
  let prediction: string;
  if (response.includes('boxed')) {
    const tail = response.slice(response.lastIndexOf('boxed') + 'boxed'.length);
    if (tail.length === 0) return '';
    if (tail[0] === '{') {
      let depth = 1;
      let end = tail.length;
      for (let i = 1; i < tail.length; i++) {
        const ch = tail[i];
        if (ch === '{') depth++;
        else if (ch === '}') {
          depth--;
          if (depth === 0) {
            end = i;
            break;
          }
        }
      }
      prediction = tail.slice(1, end);
    } else {
      prediction = pyStrip(tail.split('$')[0] as string);
    }
  } else if (response.includes('he answer is')) {
    const parts = response.split('he answer is');
    prediction = pyStrip(parts[parts.length - 1] as string);
  } else {
    const numbers = response.replace(/,/g, '').match(/-?\p{Nd}*\.?\p{Nd}+/gu);
    prediction = numbers && numbers.length > 0 ? (numbers[numbers.length - 1] as string) : '';
  }
  prediction = prediction.split('\n')[0] as string;
  if (prediction !== '' && prediction[0] === ':') prediction = prediction.slice(1);
  if (prediction !== '' && prediction.endsWith('.')) prediction = prediction.slice(0, -1);
  if (prediction !== '' && prediction.endsWith('/')) prediction = prediction.slice(0, -1);
  return masaStripString(prediction);
}

const CHOICE_TOKENS = 'ABCDEFGH';
const WORD = '[\\p{L}\\p{N}_]';
const BOXED_RE = /\\boxed\s*\{\s*([A-Ha-h])\s*\}/u;
const BRACKET_RE = /[([{]\s*([A-Ha-h])\s*[)\]}]/u;
const PREFIXED_RE = new RegExp(`^(?:option|answer|ans|choice)\\s*[:\\-]?\\s*([A-Ha-h])(?!${WORD})`, 'iu');
const STANDALONE_RE = new RegExp(`(?<!${WORD})([A-Ha-h])(?!${WORD})`, 'u');
const INDICATORS = [
  'the correct option is',
  'the correct answer is',
  'thus, the answer is',
  'answer is',
  'answer:',
  'option is',
];

/**
 * `get_choice(answer_str)` ("choiceOf"): the first boxed letter in the last
 * 2,000 characters, else the first bracketed letter (`(b)`, `[C]`, `{a}`),
 * else a leading `option|answer|ans|choice` prefix, else the first character
 * when it is a label, else the indicator phrases (recursively), else the first
 * standalone letter a–h — so the English article "a" reads as `A`. Returns
 * null where the reference returns `None`.
 */
export function masaChoiceOf(answer: string | null | undefined): string | null {
  if (!answer) return null;
  const s = pyTail(pyStrip(answer), 2000);
  for (const pattern of [BOXED_RE, BRACKET_RE, PREFIXED_RE]) {
    const match = pattern.exec(s);
    if (match) return (match[1] as string).toUpperCase();
  }
  const first = Array.from(s)[0];
  if (first !== undefined) {
    const upper = first.toUpperCase();
    if (upper.length === 1 && CHOICE_TOKENS.includes(upper)) {
      const points = Array.from(s);
      if (points.length === 1) return upper;
      if ([')', '.', ':', '-', ' '].includes(points[1] as string)) return upper;
    }
  }
  const lower = s.toLowerCase();
  for (const indicator of INDICATORS) {
    const at = lower.indexOf(indicator);
    if (at >= 0) {
      const tail = pyStrip(s.slice(at + indicator.length));
      const letter = masaChoiceOf(tail);
      if (letter) return letter;
    }
  }
  const standalone = STANDALONE_RE.exec(s);
  if (standalone) {
    const letter = (standalone[1] as string).toUpperCase();
    if (CHOICE_TOKENS.includes(letter)) return letter;
  }
  return null;
}

/** The label phrase of the logic prompts. */
export const MASA_LABEL_PHRASE = 'The correct option is:';

/**
 * The reference's choice reading of one response: for the logic sets the text
 * after the last `The correct option is:` (else the whole trimmed response),
 * then {@link masaChoiceOf}.
 */
export function masaResponseChoice(response: string, logic: boolean): string | null {
  let text = response;
  if (logic) {
    if (text.includes(MASA_LABEL_PHRASE)) {
      const parts = text.split(MASA_LABEL_PHRASE);
      text = pyStrip(parts[parts.length - 1] as string);
    } else {
      text = pyStrip(text);
    }
  }
  return masaChoiceOf(text);
}

/**
 * The reference's MBPP code rule: the content of the first fenced block
 * (optionally tagged `python`, any case), else the raw text.
 */
export function masaExtractCode(response: string): string {
  const match = /```(?:python)?\s*([\s\S]*?)```/i.exec(response);
  return match ? (match[1] as string) : response;
}

/** The reference's MBPP program: code, a newline, then the asserts one per line. */
export function masaBuildProgram(code: string, tests: readonly string[]): string {
  return `${code}\n${tests.join('\n')}`;
}
