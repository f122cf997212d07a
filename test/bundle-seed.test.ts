import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { sha256File } from './helpers/files.js';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { networkConfigV2, staticNetwork } from '../src/bundle/network.js';
import { findIsoTool, writeSeedIso } from '../src/sinks/seed.js';
import { ProblemError } from '../src/profile/errors.js';
import { renderNode } from '../src/render.js';
import { fixture, labPlan } from './helpers/bundle-run.js';
import { CLI, cli as runCli } from './helpers/cli.js';
import { requireTool, testDir } from './helpers/tools.js';
import { FIXTURE_SECRETS, FIXTURE_SECRETS_FILE } from './helpers/secrets.js';

/** `k8s-ha seed` of cp-1 into `out`; its stdout, or an error with its stderr. */
const seed = (out: string): string => {
  const r = runCli(['seed', fixture('bundle.toml'), '--node', 'cp-1', '--out', out, '--secrets', FIXTURE_SECRETS_FILE]);
  if (r.code !== 0) throw new Error(`k8s-ha seed exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};

test('k8s-ha seed: cidata ISO with the rendered files, byte-identical a second later, mode 0600', async (t) => {
  if (!requireTool(t, 'xorriso') || !requireTool(t, 'isoinfo')) return;
  const dir = testDir(t);
  const a = join(dir, 'a.iso');
  t.regex(seed(a), /wrote .*a\.iso \(NoCloud seed of cp-1, volume cidata, xorriso, mode 0600\)/);
  await sleep(1100);
  seed(join(dir, 'b.iso'));
  t.is(sha256File(a), sha256File(join(dir, 'b.iso')));
  t.is(statSync(a).mode & 0o777, 0o600);

  t.regex(execFileSync('isoinfo', ['-d', '-i', a], { encoding: 'utf8' }), /^Volume id: cidata$/m);
  const plan = labPlan();
  const node = plan.nodes[0]!;
  const rendered = renderNode(plan, node, FIXTURE_SECRETS);
  const expected: Record<string, string> = {
    'user-data': rendered.userData,
    'meta-data': rendered.metaData,
    'network-config': networkConfigV2(staticNetwork(node)!),
  };
  t.deepEqual(execFileSync('isoinfo', ['-f', '-R', '-i', a], { encoding: 'utf8' }).trim().split('\n').sort(), ['/meta-data', '/network-config', '/user-data']);
  // Read back with xorriso itself, then with isoinfo (Rock Ridge names).
  const out = join(dir, 'x');
  execFileSync('xorriso', ['-osirrox', 'on', '-indev', a, '-extract', '/', out], { stdio: 'ignore' });
  for (const [name, content] of Object.entries(expected)) {
    t.is(readFileSync(join(out, name), 'utf8'), content, name);
    t.is(execFileSync('isoinfo', ['-R', '-i', a, '-x', `/${name}`], { encoding: 'utf8' }), content, name);
  }
});

test('genisoimage works as the fallback (not byte-reproducible)', async (t) => {
  if (!requireTool(t, 'isoinfo') || !requireTool(t, 'genisoimage')) return;
  const dir = testDir(t);
  const iso = join(dir, 'g.iso');
  const tool = await writeSeedIso(iso, { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: g\n' }, { name: 'genisoimage', path: execFileSync('sh', ['-c', 'command -v genisoimage'], { encoding: 'utf8' }).trim(), reproducible: false });
  t.false(tool.reproducible);
  t.regex(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' }), /^Volume id: cidata$/m);
  t.is(execFileSync('isoinfo', ['-R', '-i', iso, '-x', '/user-data'], { encoding: 'utf8' }), '#cloud-config\n');
});

test('no ISO tool on PATH: a clear error with the apt-get command', async (t) => {
  await t.throwsAsync(findIsoTool(''), { instanceOf: ProblemError, message: /^k8s-ha: error E070: neither xorriso nor genisoimage is installed.*\n  hint: apt-get install xorriso$/ });
  const dir = testDir(t);
  // PATH empty: node runs the bin itself, as `node bin/k8s-ha` does.
  const secrets = join(dir, 'new.secrets.json');
  const r = spawnSync(process.execPath, [CLI, 'seed', fixture('bundle.toml'), '--node', 'cp-1', '--out', join(dir, 's.iso'), '--secrets', secrets], { encoding: 'utf8', env: { ...process.env, PATH: '' } });
  t.is(r.status, 1);
  // About this machine, not the profile: no file name, field or error code.
  t.regex(r.stderr, /^k8s-ha: error E070: neither xorriso nor genisoimage is installed; one is needed to write the ISO\n  hint: apt-get install xorriso$/m);
  t.notRegex(r.stderr, /bundle\.toml|E030/);
  t.false(existsSync(secrets), 'it fails before making cluster secrets');
});

test('k8s-ha seed: an ISO tool that fails is a clear error with its stderr, exit 1, no ISO', (t) => {
  const dir = testDir(t);
  // A stand-in xorriso first on PATH (the real one is found the same way).
  writeFileSync(join(dir, 'xorriso'), '#!/bin/sh\necho "xorriso : FAILURE : no space left (stand-in)" >&2\nexit 5\n', { mode: 0o755 });
  const out = join(dir, 'seed.iso');
  const r = runCli(['seed', fixture('bundle.toml'), '--node', 'cp-1', '--out', out, '--secrets', FIXTURE_SECRETS_FILE], { env: { PATH: `${dir}:${process.env.PATH ?? ''}` } });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /^k8s-ha: error E070: xorriso failed to write the seed ISO: xorriso : FAILURE : no space left \(stand-in\)$/m);
  t.notRegex(r.stderr, /internal error|at .*\.js:\d+/);
  t.false(existsSync(out));
});
