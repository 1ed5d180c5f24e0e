/**
 * Text from the API (client names, e-mails) is untrusted: a name holding terminal escape sequences
 * could rewrite the operator's screen. Control characters are shown as visible `\xNN` escapes.
 */
export function printable(value: unknown): string {
  const text = value === null || value === undefined ? "-" : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => {
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** Columns padded to their widest cell, lines without trailing spaces. */
export function formatTable(headers: string[], rows: unknown[][]): string[] {
  const cells = rows.map((row) => row.map(printable));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => (row[column] ?? "").length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...cells.map(line)];
}

/** `name   value` lines for one record, names aligned. */
export function formatRecord(fields: Array<[string, unknown]>): string[] {
  const width = Math.max(...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${name.padEnd(width)}  ${printable(value)}`);
}
