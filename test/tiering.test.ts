/**
 * The CLI runs with V8's compiling tiers off and switches them back on for large plans
 * (src/tiering.ts). That may change speed only: a CLI render on each side of the threshold
 * gives the same bytes as the in-process renderer, which runs with V8's defaults. (The 3-node
 * seed profile through the CLI is checked against the golden files in golden.test.ts.)
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { TIERS_FROM_NODES } from '../src/tiering.js';
import { cli, ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS, FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';

/** profiles/seed.toml (3 control-plane nodes) plus `workers` workers on 198.18.0.0/15. */
function seedWith(workers: number): string {
  const seed = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');
  return seed + Array.from({ length: workers }, (_, i) => `\n[[workers]]\nname = "w${i}"\naddress = "198.18.${1 + (i >> 8)}.${i & 255}"\n`).join('');
}

for (const workers of [TIERS_FROM_NODES - 3, TIERS_FROM_NODES + 10]) {
  test(`CLI render of ${workers + 3} nodes (tiers ${workers + 3 > TIERS_FROM_NODES ? 'switched back on' : 'off'}) equals the in-process render`, (t) => {
    const dir = testDir(t);
    const profile = join(dir, 'big.toml');
    writeFileSync(profile, seedWith(workers));
    const out = join(dir, 'out');
    const r = cli(['render', profile, '--out', out, '--secrets', FIXTURE_SECRETS_FILE]);
    t.is(r.code, 0, r.stderr);
    const loaded = parseProfile(profile, readFileSync(profile, 'utf8'), {});
    const rendered = renderCluster(loaded.plan, FIXTURE_SECRETS);
    t.is(rendered.length, workers + 3);
    for (const n of rendered) {
      t.is(readFileSync(join(out, n.node.name, 'user-data'), 'utf8'), n.userData, `${n.node.name}/user-data`);
      t.is(readFileSync(join(out, n.node.name, 'meta-data'), 'utf8'), n.metaData, `${n.node.name}/meta-data`);
      t.is(readFileSync(join(out, n.node.name, 'config.ign'), 'utf8'), n.ignition, `${n.node.name}/config.ign`);
    }
  });
}
