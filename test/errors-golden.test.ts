/**
 * Golden stderr of `k8s-ha check` on broken profiles (fixtures/errors/*.toml|yaml with a
 * `.stderr` sibling; `strict-*` run with --strict): exit code 1, every problem at once at its
 * line:col with the source line and caret, no stack trace, no secret. Read by a person once;
 * regenerate after an intended change by running `bin/k8s-ha check FILE 2> FILE.stderr` for
 * each FILE (with --strict for the strict-* ones), then read the diff.
 */
import test from 'ava';
import { cli, ROOT } from './helpers/cli.js';
import { pathToFileURL } from 'node:url';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const root = pathToFileURL(`${ROOT}/`);
const dir = 'fixtures/errors';
/** layout.* are source-map fixtures (test/source-map.test.ts), not broken profiles. */
const all = readdirSync(new URL(dir, root)).filter((f) => /\.(toml|yaml)$/.test(f) && !f.startsWith('layout.'));
const profiles = all.filter((f) => existsSync(new URL(`${dir}/${f}.stderr`, root)));

test('a dozen broken profiles in both formats, each with its golden stderr', (t) => {
  t.deepEqual(all.filter((f) => !profiles.includes(f)), [], 'a broken profile without its .stderr is never checked');
  t.true(profiles.length >= 12, profiles.join(' '));
  t.true(profiles.some((f) => f.endsWith('.toml')) && profiles.some((f) => f.endsWith('.yaml')));
});

for (const f of profiles) {
  test(`check ${f}`, (t) => {
    const args = ['check', ...(f.startsWith('strict-') ? ['--strict'] : []), `${dir}/${f}`];
    const r = cli(args, { cwd: ROOT, env: { K8S_HA_AUTH_PASS: '' } });
    t.is(r.code, 1, r.stderr);
    t.is(r.stdout, '');
    t.is(r.stderr, readFileSync(new URL(`${dir}/${f}.stderr`, root), 'utf8'));
    t.notRegex(r.stderr, /\n\s+at |supersecret|internal error/);
    // Every problem line names the file and a line:col, except problems about a missing key at the root.
    for (const line of r.stderr.split('\n').filter((l) => / (error|warning) [EW]\d{3} at /.test(l)))
      t.regex(line, new RegExp(`^${dir}/${f.replace('.', '\\.')}(:\\d+:\\d+)?: `), line);
  });
}
