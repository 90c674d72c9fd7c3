/**
 * Answer extraction (correct mode): pulls the final answer out of a model's
 * response. Every scan is linear in the length of the text.
 */
import { matchBrace } from './latex-scan.js';

/** Which rule produced an extracted answer. */
export type ExtractionRule =
  | 'boxed'
  | 'boxed-list'
  | 'final-answer'
  | 'answer-is'
  | 'answer-colon'
  | 'last-number'
  | 'none';

export interface ExtractedAnswer {
  /** The answer text, or undefined when nothing could be extracted. */
  answer: string | undefined;
  rule: ExtractionRule;
}

interface Box {
  start: number;
  end: number;
  content: string;
}

const BOX_COMMANDS = ['\\boxed', '\\fbox'];

/** Reads the box whose command starts at `start`; undefined if it is not a box. */
function readBox(text: string, start: number, command: string): Box | undefined {
  let i = start + command.length;
  const after = text[i];
  if (after !== undefined && /[A-Za-z]/.test(after)) return undefined; // \boxedfoo
  while (text[i] === ' ') i++;
  if (text[i] === '{') {
    const close = matchBrace(text, i);
    // A box without its closing brace takes the rest of the text.
    if (close < 0) return { start, end: text.length, content: text.slice(i + 1) };
    return { start, end: close + 1, content: text.slice(i + 1, close) };
  }
  // `\boxed 5`: one token up to whitespace or `$`.
  const match = /^[^\s$]+/.exec(text.slice(i, i + 200));
  if (!match || i === start + command.length) return undefined;
  return { start, end: i + match[0].length, content: match[0] };
}

/** Every box in the text, in order of appearance. */
function findBoxes(text: string): Box[] {
  const boxes: Box[] = [];
  let from = 0;
  for (;;) {
    let best = -1;
    let bestCommand = '';
    for (const command of BOX_COMMANDS) {
      const at = text.indexOf(command, from);
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
        bestCommand = command;
      }
    }
    if (best < 0) break;
    const box = readBox(text, best, bestCommand);
    if (box) {
      boxes.push(box);
      from = Math.max(box.start + bestCommand.length, box.end);
      // Nested boxes inside this box are part of its content, not separate answers.
    } else {
      from = best + bestCommand.length;
    }
  }
  return boxes;
}

const SEPARATOR_BETWEEN_BOXES = /^[\s$.]*(?:,|;|\band\b|\bor\b)[\s$.]*(?:\\text\{\s*\}|\s)*$/;

/**
 * The last `\boxed{…}` / `\fbox{…}` with brace matching. Boxes right next to
 * it (fewer than 10 characters apart, or fewer than 70 with a `,` `;` `and`
 * `or` between them and different contents) are merged into a list, in order.
 */
export function extractBoxed(text: string): string[] | undefined {
  const boxes = findBoxes(text);
  const last = boxes[boxes.length - 1];
  if (!last) return undefined;
  const merged: Box[] = [last];
  for (let k = boxes.length - 2; k >= 0; k--) {
    const previous = boxes[k] as Box;
    const next = merged[0] as Box;
    const gap = text.slice(previous.end, next.start);
    const close = gap.length < 10 && /^[\s$.,;]*(?:and|or)?[\s$.,;]*$/.test(gap);
    const separated =
      gap.length < 70 && SEPARATOR_BETWEEN_BOXES.test(gap) && previous.content.trim() !== next.content.trim();
    if (!close && !separated) break;
    merged.unshift(previous);
  }
  return merged.map((box) => box.content.trim());
}

/** Trims a phrase-anchored tail down to the answer: the first `$…$` span, else up to the end of the sentence. */
function cleanTail(tail: string): string | undefined {
  let text = tail.replace(/^[\s:*]+/, '');
  const newline = text.indexOf('\n');
  if (newline >= 0) text = text.slice(0, newline);
  text = text.replace(/\s*I hope it is correct\.?\s*$/i, '');
  const math = /^\$\$?([^$]+)\$\$?/.exec(text) ?? /^\\\(([\s\S]+?)\\\)/.exec(text) ?? /^\\\[([\s\S]+?)\\\]/.exec(text);
  if (math) text = math[1] as string;
  else {
    const inner = /\$([^$]+)\$/.exec(text);
    if (inner && text.indexOf('$') < 20) text = inner[1] as string;
    else {
      // Up to the end of the sentence: a period followed by a space or the end, not a decimal point.
      const stop = /\.(?=\s|$)|\s(?:because|since|which|as)\s/.exec(text);
      if (stop) text = text.slice(0, stop.index);
    }
  }
  text = text.replace(/\*\*/g, '').trim().replace(/[.\s]+$/, '');
  return text.length > 0 ? text : undefined;
}

function lastIndexOfInsensitive(text: string, phrase: string): number {
  // Only the last 20,000 characters can hold the final answer phrase we want; search there to stay fast.
  const window = text.length > 20_000 ? text.slice(-20_000) : text;
  const at = window.toLowerCase().lastIndexOf(phrase);
  return at < 0 ? -1 : at + (text.length - window.length);
}

/**
 * Extracts a math answer from a response: the last box (adjacent boxes merged
 * into a list), else the text after the last "final answer is" / "the answer
 * is" / "Answer:", else the last number in the text.
 */
export function extractMathAnswer(text: string): ExtractedAnswer {
  const boxed = extractBoxed(text);
  if (boxed && boxed.length > 0) {
    if (boxed.length === 1) return { answer: boxed[0] as string, rule: 'boxed' };
    return { answer: boxed.join(', '), rule: 'boxed-list' };
  }
  const anchors: Array<[string, ExtractionRule]> = [
    ['final answer is', 'final-answer'],
    ['final answer:', 'final-answer'],
    ['the answer is', 'answer-is'],
    ['answer:', 'answer-colon'],
  ];
  for (const [phrase, rule] of anchors) {
    const at = lastIndexOfInsensitive(text, phrase);
    if (at < 0) continue;
    const answer = cleanTail(text.slice(at + phrase.length, at + phrase.length + 2000));
    if (answer !== undefined) return { answer, rule };
  }
  const tail = text.length > 20_000 ? text.slice(-20_000) : text;
  const numbers = tail.match(/-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*\/\s*\d+)?/g);
  const last = numbers?.[numbers.length - 1];
  if (last !== undefined) return { answer: last.replace(/\s+/g, ''), rule: 'last-number' };
  return { answer: undefined, rule: 'none' };
}

/** Which rule found a choice letter. */
export type ChoiceRule = 'boxed' | 'label-phrase' | 'answer-phrase' | 'whole-text' | 'leading-label' | 'final-line' | 'none';

export interface ExtractedChoice {
  letter: string | undefined;
  rule: ChoiceRule;
}

export interface ExtractChoiceOptions {
  /**
   * Valid option labels, one character each (letters, or digits for ARC's numeric keys).
   * @default 'ABCDEFGH'
   */
  labels?: string;
}

/** Reads a choice letter at the start of `text`: `B`, `(B)`, `[B]`, `\text{B}`, `**B**`, `B)`, `B.`, `B: …`. */
function leadingLetter(text: string, labels: string, sentenceCheck = true): string | undefined {
  // A label lives at the very start; 300 characters are plenty and keep every pattern below cheap.
  let t = text.trim().slice(0, 300);
  // Unwrap common decorations.
  for (let round = 0; round < 4; round++) {
    const before = t;
    t = t
      .replace(/^\$+|\$+$/g, '')
      .replace(/^\\(?:text|textbf|mathrm|mathbf|textit|mbox)\s*\{([\s\S]*)\}$/, '$1')
      .replace(/^\*\*([\s\S]*?)\*\*/, '$1')
      .replace(/^\\boxed\s*\{([\s\S]*)\}$/, '$1')
      .trim();
    if (t === before) break;
  }
  // Bracketed letter: any case.
  const bracketed = /^[([{]\s*([A-Za-z0-9])\s*[)\]}]/.exec(t);
  if (bracketed) {
    const letter = (bracketed[1] as string).toUpperCase();
    return labels.includes(letter) ? letter : undefined;
  }
  // Bare letter: upper case only, followed by the end or a label delimiter (never the article "a").
  const bare = /^([A-Z0-9])(?:$|[).:\s,*$\]}])/.exec(t);
  if (bare) {
    const letter = bare[1] as string;
    if (!labels.includes(letter)) return undefined;
    // "A cat …": an upper-case letter followed by a lower-case word is a sentence, not a label.
    if (sentenceCheck && /^[AI]\s+[a-z]/.test(t)) return undefined;
    return letter;
  }
  return undefined;
}

/**
 * Extracts a multiple-choice letter (correct mode): the last boxed letter,
 * else the letter after the last "the correct option is" / "the answer is" /
 * "Answer:" phrase, else a text that is only a label or starts with one
 * (`(B) …`, `B) …`), else a final line holding only a label. A lone article
 * "a" is never read as option A.
 */
export function extractChoice(text: string, options: ExtractChoiceOptions = {}): ExtractedChoice {
  const labels = (options.labels ?? 'ABCDEFGH').toUpperCase();
  const boxed = extractBoxed(text);
  if (boxed) {
    for (let k = boxed.length - 1; k >= 0; k--) {
      const letter = leadingLetter(boxed[k] as string, labels, false);
      if (letter !== undefined) return { letter, rule: 'boxed' };
    }
  }
  const phrases = [
    'the correct option is',
    'the correct answer is',
    'the final answer is',
    'the answer is',
    'final answer:',
    'answer:',
    'option is',
  ];
  let bestAt = -1;
  let bestLetter: string | undefined;
  for (const phrase of phrases) {
    const at = lastIndexOfInsensitive(text, phrase);
    if (at <= bestAt) continue;
    const letter = leadingLetter(text.slice(at + phrase.length, at + phrase.length + 200).replace(/^[\s:*]+/, ''), labels, false);
    if (letter !== undefined) {
      bestAt = at;
      bestLetter = letter;
    }
  }
  if (bestLetter !== undefined) return { letter: bestLetter, rule: 'answer-phrase' };
  const trimmed = text.trim();
  if (trimmed.length <= 3) {
    const letter = leadingLetter(trimmed, labels);
    if (letter !== undefined) return { letter, rule: 'whole-text' };
  }
  const leading = /^(\(?[A-Za-z][).:])/.exec(trimmed) ?? /^(\([A-Za-z]\))/.exec(trimmed);
  if (leading) {
    const letter = leadingLetter(trimmed, labels);
    if (letter !== undefined) return { letter, rule: 'leading-label' };
  }
  const lines = trimmed.split('\n');
  const lastLine = (lines[lines.length - 1] ?? '').trim();
  if (lastLine.length > 0 && lastLine.length <= 12) {
    const letter = leadingLetter(lastLine.replace(/[.\s]+$/, ''), labels);
    if (letter !== undefined && /^[\s([{*$\\a-z]*[A-Za-z][\s)\]}*$.]*$/.test(lastLine)) return { letter, rule: 'final-line' };
  }
  return { letter: undefined, rule: 'none' };
}

/** The phrase the logic datasets' prompts end their answers with. */
export const LOGIC_LABEL_PHRASE = 'The correct option is:';

/**
 * Choice extraction for the logic sets (AR-LSAT, FOLIO, LogicalDeduction,
 * ProntoQA, ProofWriter): the letter right after the last
 * "The correct option is:", else {@link extractChoice} on the whole text.
 */
export function extractLogicChoice(text: string, options: ExtractChoiceOptions = {}): ExtractedChoice {
  const labels = (options.labels ?? 'ABCDEFGH').toUpperCase();
  const at = text.lastIndexOf(LOGIC_LABEL_PHRASE);
  if (at >= 0) {
    const letter = leadingLetter(text.slice(at + LOGIC_LABEL_PHRASE.length, at + LOGIC_LABEL_PHRASE.length + 200), labels, false);
    if (letter !== undefined) return { letter, rule: 'label-phrase' };
  }
  return extractChoice(text, options);
}

export interface ExtractedCode {
  code: string;
  rule: 'fenced' | 'unclosed-fence' | 'raw';
}

/**
 * The first fenced code block of a response (any language tag), or the raw
 * text when there is none. When the response contains a `</think>` tag, the
 * search starts after it, so code drafted while thinking is skipped.
 */
export function extractCode(text: string): ExtractedCode {
  const thinkEnd = text.lastIndexOf('</think>');
  const body = thinkEnd >= 0 ? text.slice(thinkEnd + '</think>'.length) : text;
  const open = body.indexOf('```');
  if (open < 0) return { code: body, rule: 'raw' };
  const lineEnd = body.indexOf('\n', open + 3);
  const tag = lineEnd < 0 ? '' : body.slice(open + 3, lineEnd).trim();
  const codeStart = lineEnd >= 0 && /^[\w+.-]*$/.test(tag) ? lineEnd + 1 : open + 3;
  const close = body.indexOf('```', codeStart);
  if (close < 0) return { code: body.slice(codeStart), rule: 'unclosed-fence' };
  return { code: body.slice(codeStart, close), rule: 'fenced' };
}
