/**
 * The lab's process logs without root: a daemon's transcript keeps every line of stdout and
 * stderr with its time, the unterminated last line too, and `writeLabLogs` files them per node
 * on the lab's clock (`lab --logs DIR`).
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeLabLogs } from '../src/lab/lab.js';
import { startDaemon, takeStartedDaemons, type Daemon } from '../src/lab/proc.js';
import { testDir } from './helpers/tools.js';

test.serial('a daemon transcript holds stdout and stderr lines, an unterminated last line and the exit', async (t) => {
  const d = startDaemon('n1/sh', ['sh', '-c', 'echo out-1; echo err-1 >&2; printf out-2']);
  t.is(await d.exited, 0);
  const lines = d.transcript.map((l) => l.line);
  t.deepEqual(lines.filter((l) => !l.startsWith('[')).sort(), ['err-1', 'out-1', 'out-2']);
  t.is(lines.at(-1), '[k8s-ha lab: exited, 0]');
  t.true(d.transcript.every((l, i) => l.t >= d.startedAt && (i === 0 || l.t >= d.transcript[i - 1]!.t)));
  t.true(takeStartedDaemons().includes(d));
  t.deepEqual(takeStartedDaemons(), []);
});

test.serial('stdout handed to onLine is data, not log; the last line still reaches onLine', async (t) => {
  const seen: string[] = [];
  const d = startDaemon('client/probe', ['sh', '-c', 'echo a; printf b'], (l) => seen.push(l));
  await d.exited;
  t.deepEqual(seen, ['a', 'b']);
  t.deepEqual(d.transcript.map((l) => l.line), ['[k8s-ha lab: exited, 0]']);
  takeStartedDaemons();
});

test('writeLabLogs: one file per node and container, seconds since the lab started', async (t) => {
  const dir = testDir(t);
  const t0 = 1_000_000;
  const fake = (label: string, startedAt: number, lines: [number, string][]) =>
    ({ label, startedAt, transcript: lines.map(([t, line]) => ({ t, line })) }) as unknown as Daemon;
  await writeLabLogs(dir, t0, [
    fake('cp-1/keepalived/keepalived', t0 + 1500, [[t0 + 1501.25, 'Entering MASTER STATE']]),
    fake('cp-1/apiserver', t0 + 1000, [[t0 + 1100, 'ready']]),
    fake('cp-1/keepalived/keepalived', t0 + 9000, []), // restarted: appended to the same file
  ], [{ t: t0 + 12, line: 'scenario converge' }]);
  t.deepEqual(readdirSync(dir).sort(), ['cp-1', 'lab.log']);
  t.is(readFileSync(join(dir, 'lab.log'), 'utf8'), '+0.012s scenario converge\n');
  t.is(readFileSync(join(dir, 'cp-1', 'apiserver.log'), 'utf8'), '+1.000s [k8s-ha lab: started cp-1/apiserver]\n+1.100s ready\n');
  t.is(readFileSync(join(dir, 'cp-1', 'keepalived.log'), 'utf8'),
    '+1.500s [k8s-ha lab: started cp-1/keepalived/keepalived]\n+1.501s Entering MASTER STATE\n+9.000s [k8s-ha lab: started cp-1/keepalived/keepalived]\n');
});
