/** A text that a spreadsheet would run as a formula: OWASP's list of leading characters. */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A plain (negative) number written as text, such as BMW's telematic values: a spreadsheet reads it as a number. */
const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * One CSV cell. A text that starts like a formula gets a leading single quote, so a spreadsheet shows it instead of
 * running it (OWASP, CSV injection); numbers, and texts that are plain numbers, stay as they are.
 */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * RFC 4180 CSV: a header from the union of the rows' keys (in first-seen order, after `header`, the columns a CSV of
 * no rows still has), CRLF line ends.
 */
export function toCsv(rows: readonly Record<string, unknown>[], header: readonly string[] = []): string {
  const columns: string[] = [...header];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const lines = [columns.map(cell).join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
