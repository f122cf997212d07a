/**
 * The CLI runs with V8's compiling tiers off and switches them back on for large plans
 * (src/tiering.ts). Checked two ways: V8's own optimisation status of a hot function in a
 * child node shows the switches take effect (and that flags the user gave win), and a CLI
 * render on each side of the threshold gives the same bytes as the in-process renderer, which
 * runs with V8's defaults. (The 3-node seed profile through the CLI is checked against the
 * golden files in golden.test.ts.)
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { parseProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { TIERS_FROM_NODES } from '../src/tiering.js';
import { CLI_JS, cli, ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS, FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { seedWithWorkers } from './helpers/profiles.js';
import { testDir } from './helpers/tools.js';

for (const workers of [TIERS_FROM_NODES - 3, TIERS_FROM_NODES + 10]) {
  test(`CLI render of ${workers + 3} nodes (tiers ${workers + 3 > TIERS_FROM_NODES ? 'switched back on' : 'off'}) equals the in-process render`, (t) => {
    const dir = testDir(t);
    const profile = join(dir, 'big.toml');
    writeFileSync(profile, seedWithWorkers(workers));
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

/**
 * Runs `body` in a child `node --allow-natives-syntax` (plus `flags`) after importing
 * src/tiering.js as `tiering`, with `hot` (a small loop) and `status()` giving V8's
 * %GetOptimizationStatus bits of it (V8 runtime-test.cc: 16 optimised, 128 interpreted,
 * 32768 baseline/Sparkplug); returns what the body prints as JSON.
 */
function inChild(flags: string[], body: string): Record<string, number> {
  const tiering = pathToFileURL(join(ROOT, 'dist', 'src', 'tiering.js')).href;
  const script = `import * as tiering from ${JSON.stringify(tiering)};
const hot = (n) => { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; };
const status = () => %GetOptimizationStatus(hot);
const run = (times) => { for (let i = 0; i < times; i++) hot(500); };
const compiledUp = () => (status() & (16 | 32768)) !== 0;
${body}`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', ...flags, '--input-type=module', '-e', script], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`child node exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

test('startInterpreted keeps a hot function interpreted; tiersForPlan above the threshold compiles it up', (t) => {
  const r = inChild([], `
tiering.startInterpreted();
run(5000);
const off = status();
tiering.tiersForPlan(tiering.TIERS_FROM_NODES); // at the threshold: still off
run(5000);
const atThreshold = status();
tiering.tiersForPlan(tiering.TIERS_FROM_NODES + 1);
for (let i = 0; i < 200 && !compiledUp(); i++) run(500);
console.log(JSON.stringify({ off, atThreshold, on: status() }));`);
  t.is(r.off! & (16 | 32768), 0, `interpreted only, status ${r.off}`);
  t.truthy(r.off! & 128);
  t.is(r.atThreshold! & (16 | 32768), 0, `still interpreted at ${TIERS_FROM_NODES} nodes, status ${r.atThreshold}`);
  t.not(r.on! & (16 | 32768), 0, `baseline or optimised above the threshold, status ${r.on}`);
});

test('V8 defaults without startInterpreted, and tier flags given to node are never overridden', (t) => {
  const defaults = inChild([], `for (let i = 0; i < 200 && !compiledUp(); i++) run(500);
console.log(JSON.stringify({ status: status() }));`);
  t.not(defaults.status! & (16 | 32768), 0, `V8 compiles a hot function up by default, status ${defaults.status}`);
  const user = inChild(['--no-sparkplug', '--no-turbofan'], `tiering.startInterpreted();
tiering.enableTiers();
run(20000);
console.log(JSON.stringify({ status: status() }));`);
  t.is(user.status! & (16 | 32768), 0, `the user's --no-sparkplug --no-turbofan stay, status ${user.status}`);
});

test('the CLI switches the tiers back on only for a plan above the threshold (loadOrExit)', (t) => {
  // Through the plain bundle, so that node can take --trace-opt (the snapshot refuses other
  // V8 flags); it is no tier flag, so the CLI still starts interpreted. TurboFan then compiles
  // hot functions of a render above the threshold, and none at it.
  const dir = testDir(t);
  const compiled = (workers: number): number => {
    const profile = join(dir, `p${workers}.toml`);
    writeFileSync(profile, seedWithWorkers(workers));
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.K8S_HA_AUTH_PASS;
    const r = spawnSync(process.execPath, ['--trace-opt', CLI_JS, 'render', profile, '--out', join(dir, `o${workers}`), '--secrets', FIXTURE_SECRETS_FILE], { encoding: 'utf8', env });
    t.is(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l.includes('compiling method')).length;
  };
  t.is(compiled(TIERS_FROM_NODES - 3), 0, `${TIERS_FROM_NODES} nodes: interpreted only`);
  t.true(compiled(TIERS_FROM_NODES + 10) > 0, `${TIERS_FROM_NODES + 13} nodes: TurboFan at work`);
});
