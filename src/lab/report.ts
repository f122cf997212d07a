/**
 * The lab's report: a text table for people and the JSON for machines.
 */
import { table } from '../formats/table.js';
import type { LabReport } from './lab.js';


/** Table of the scenarios, one row each, with the notes of failed rows below it. */
export function reportTable(report: LabReport): string {
  const rows = [['SCENARIO', 'RESULT', 'OUTAGE', 'BOUND', 'FAILED/TOTAL', 'VIP BEFORE -> AFTER', 'SETTLED', 'DUAL']];
  for (const s of report.scenarios) {
    rows.push([s.name, s.passed ? 'ok' : 'FAILED', `${s.outageMs} ms`, `${s.boundMs} ms`, `${s.failed}/${s.total}`,
      `${s.holderBefore ?? '-'} -> ${s.holderAfter ?? '-'}`, `${s.settleMs} ms`, s.dualHolder ? `yes (${s.overlapMs} ms)` : 'no']);
  }
  const notes = report.scenarios.filter((s) => s.notes.length).map((s) => `  ${s.name}: ${s.notes.join('; ')}`);
  const head = `lab of ${report.profile}: VRRP v${report.vrrpVersion}, advert_int ${report.advertInterval} s, ${(report.wallMs / 1000).toFixed(1)} s wall time`;
  return [head, table(rows), ...(notes.length ? ['notes:', ...notes] : []), LEGEND].join('\n');
}

/** What each column of {@link reportTable} means, printed under it. */
export const LEGEND = [
  'OUTAGE: longest run of failed requests to a VIP (first failure to the next success); BOUND: the most the profile\'s timing allows (k8s-ha check prints the same failover times)',
  'FAILED/TOTAL: client requests through the VIP in the scenario\'s window; in converge most fail by design: the VIP and the apiservers are still coming up',
  'VIP BEFORE -> AFTER: the VIP holder (- for none); SETTLED: ms from the action to the last VIP change; DUAL: two nodes held a VIP at once for more than one 20 ms sample',
].join('\n');

/** The JSON document, pretty-printed with a trailing newline. */
export function reportJson(report: LabReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
