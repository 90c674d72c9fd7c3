export { changeLastDigit, rewriteGold } from './gold-rewrites.js';
