/**
 * Golden outputs for profiles/seed.toml, compared byte for byte. The files under
 * fixtures/golden/seed/ were read by a person; to change them on purpose run
 * `UPDATE_GOLDEN=1 npm test` (this test then fails on purpose), then read the diff
 * (`git diff fixtures/golden`) before committing and run the tests again.
 */
import test from 'ava';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';

const GOLDEN = join(ROOT, 'fixtures', 'golden', 'seed');

test('render profiles/seed.toml matches fixtures/golden/seed byte for byte', (t) => {
  const dir = testDir(t);
  const r = cli(['render', 'profiles/seed.toml', '--out', dir, '--secrets', FIXTURE_SECRETS_FILE]);
  t.is(r.code, 0, r.stderr);
  const nodes = readdirSync(dir).sort();
  t.deepEqual(nodes, ['k8s-cp-1', 'k8s-cp-2', 'k8s-cp-3']);
  for (const n of nodes) {
    for (const f of readdirSync(join(dir, n)).sort()) {
      const actual = readFileSync(join(dir, n, f), 'utf8');
      const golden = join(GOLDEN, n, f);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(join(GOLDEN, n), { recursive: true });
        writeFileSync(golden, actual);
        continue;
      }
      t.is(actual, readFileSync(golden, 'utf8'), `${n}/${f} differs from the golden file`);
    }
    t.deepEqual(readdirSync(join(dir, n)).sort(), ['config.ign', 'meta-data', 'user-data']);
  }
  // An update run compared nothing: it must not count as a pass.
  if (process.env.UPDATE_GOLDEN === '1') t.fail(`UPDATE_GOLDEN=1: rewrote ${GOLDEN}; read git diff, then run the tests without it`);
});
