export { changeLastDigit, rewriteGold } from './gold-rewrites.js';
export { readGolds } from './read-golds.js';
