/**
 * Plain-text tables for terminal summaries: render and check (commands/common.ts), the
 * user-data budget (bundle/budget.ts) and the lab's report (lab/report.ts). At the top of src/
 * because the library's modules use it as well as the commands, and the library must not
 * import from the CLI layer (src/commands/).
 */

/** Left-aligned columns two spaces apart; the first row is the header; no trailing spaces. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
