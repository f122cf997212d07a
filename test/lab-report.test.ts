/**
 * The lab's report reads on its own (issue 17, item 6): every column is defined under the
 * table, a missing VIP holder prints as "-" (never "null"), and converge says why most of its
 * requests fail. Built from a report object: no lab run needed.
 */
import test from 'ava';
import { reportTable } from '../src/lab/report.js';
import type { ScenarioResult } from '../src/lab/scenarios.js';

const row = (over: Partial<ScenarioResult>): ScenarioResult => ({
  name: 'converge', passed: true, outageMs: 0, failed: 0, total: 10, holderBefore: 'cp-1', holderAfter: 'cp-1', dualHolder: false,
  boundMs: 0, settleMs: 0, lateFailures: 0, overlapMs: 0, holderChanges: [], notes: [], ...over,
});

test('the lab table defines every column, prints no null, and says why converge fails requests', (t) => {
  const text = reportTable({
    profile: 'fixtures/lab/lab.toml', advertInterval: 1, vrrpVersion: 2, wallMs: 1000,
    scenarios: [row({ failed: 184, total: 303, holderBefore: null }), row({ name: 'master-crash', holderAfter: 'cp-2', outageMs: 3400, boundMs: 4453 })],
  });
  t.notRegex(text, /null/);
  t.regex(text, /converge\s+ok\s+0 ms\s+0 ms\s+184\/303\s+- -> cp-1/);
  for (const column of ['OUTAGE', 'BOUND', 'FAILED/TOTAL', 'VIP BEFORE -> AFTER', 'SETTLED', 'DUAL']) t.regex(text, new RegExp(`^${column.replace(/[/>-]/g, '\\$&')}: |; ${column.replace(/[/>-]/g, '\\$&')}: `, 'm'), column);
  t.regex(text, /in converge most fail by design/);
});
