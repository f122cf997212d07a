/**
 * The one problem type (src/profile/errors.ts ProblemError) and its one reporter
 * (formatProblems): problems of a file, of a flag, of the machine; the count line the CLI ends
 * every report with; and that no other Error subclass comes back into src/.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { error, fail, formatProblems, ProblemError, warning } from '../src/profile/errors.js';
import { countLine } from '../src/commands/common.js';
import { ROOT } from './helpers/cli.js';

test('one layout: FILE[:LINE:COL]: severity CODE at PATH: message, then the hint; root "" leaves out an empty path', (t) => {
  t.is(formatProblems('p.toml', [{ ...error('E_FORMAT', ['nodes', 1, 'mac'], 'bad', 'six hex pairs'), line: 3, col: 7 }]), 'p.toml:3:7: error E014 at nodes[1].mac: bad\n  hint: six hex pairs');
  t.is(formatProblems('out', [error('E_OUTPUT', ['--out'], 'holds x')], undefined, ''), 'out: error E071 at --out: holds x');
  t.is(formatProblems('k8s-ha', [error('E_TOOL', [], 'no xorriso', 'apt-get install xorriso')], undefined, ''), 'k8s-ha: error E070: no xorriso\n  hint: apt-get install xorriso');
  t.is(formatProblems('s.json', [error('E_SECRETS', [], 'cannot read')], undefined, '(file)'), 's.json: error E060 at (file): cannot read');
});

test('fail throws a ProblemError; in() places problems raised without a file, and only those', (t) => {
  const loose = t.throws(() => fail('E_BOOT', ['boot', 'os'], 'not supported'), { instanceOf: ProblemError })!;
  t.is(loose.file, undefined);
  t.is(loose.message, 'k8s-ha: error E030 at boot.os: not supported');
  const placed = loose.in('p.toml');
  t.is(placed.message, 'p.toml: error E030 at boot.os: not supported');
  t.deepEqual(placed.problems, loose.problems);
  const machine = t.throws(() => fail('E_TOOL', [], 'no xorriso', undefined, 'k8s-ha', ''), { instanceOf: ProblemError })!;
  t.is(machine.in('p.toml'), machine, 'a problem of the machine stays one');
});

test('the count line says --strict when a warning code is counted as an error', (t) => {
  t.is(countLine([error('E_FORMAT', [], 'x'), warning('W_ROUTER_ID', [], 'y')]), 'k8s-ha: 1 error, 1 warning');
  t.is(countLine([{ ...warning('W_ROUTER_ID', [], 'y'), severity: 'error' }]), 'k8s-ha: 1 error, 0 warnings (--strict)');
});

test('no Error subclass in src/ besides ProblemError and the CLI edge (CliError)', (t) => {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts'))
        for (const m of readFileSync(join(ROOT, rel), 'utf8').matchAll(/class (\w+) extends (\w*Error)\b/g)) found.push(`${rel}: ${m[1]}`);
    }
  };
  walk('src');
  t.deepEqual(found.sort(), ['src/commands/common.ts: CliError', 'src/profile/errors.ts: ProblemError']);
});
