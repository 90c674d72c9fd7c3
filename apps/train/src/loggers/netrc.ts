/**
 * Reads the password (the W&B API key) for one host from a `.netrc` file, the
 * file `wandb login` writes (`machine api.wandb.ai login user password KEY`).
 */

/** Tokens of a netrc file: whitespace-separated, `#` comments to the end of the line, `"…"` quoted. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(#[^\n]*)|(\S+)/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[2] !== undefined) continue;
    tokens.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[3] ?? ''));
  }
  return tokens;
}

/**
 * The `password` of the `machine HOST` entry (or of `default` when no machine
 * matches), or `undefined` when there is none or it is empty.
 */
export function findNetrcPassword(text: string, host: string): string | undefined {
  const tokens = tokenize(text);
  let current: string | null | undefined;
  let found: string | undefined;
  let fallback: string | undefined;
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index];
    if (token === 'machine') {
      current = tokens[index + 1];
      index += 1;
    } else if (token === 'default') {
      current = null;
    } else if (token === 'macdef') {
      // A macro runs to the next blank line; its words are not netrc tokens. Rare in practice: stop reading.
      break;
    } else if ((token === 'password' || token === 'login' || token === 'account') && index + 1 < tokens.length) {
      const value = tokens[index + 1];
      index += 1;
      if (token !== 'password' || value === undefined || value === '') continue;
      if (current === host && found === undefined) found = value;
      else if (current === null && fallback === undefined) fallback = value;
    }
  }
  return found ?? fallback;
}
