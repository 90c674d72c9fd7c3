/** Number formatting shared by the verdicts and the report: anything undefined or infinite reads `n/a`. */
export const pct = (value: number | null | undefined): string => (value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : `${(100 * value).toFixed(1)}%`);
export const fixed = (value: number | null | undefined, digits = 2): string => (value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
