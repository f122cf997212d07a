import test from 'ava';
import { execFileSync } from 'node:child_process';
import { sha256File } from './helpers/files.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture } from './helpers/bundle-run.js';
import { cli as runCli } from './helpers/cli.js';
import { testDir } from './helpers/tools.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';

const k8sHa = (...args: string[]) => runCli([...args, '--secrets', FIXTURE_SECRETS_FILE]);

test('k8s-ha bundle twice, a second apart: the same sha256; the budget is reported', async (t) => {
  const dir = testDir(t);
  const first = k8sHa('bundle', fixture('bundle.toml'), '--out', join(dir, 'a.tar.gz'));
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /^cp-1 {2}\d+ +ok +ok +ok$/m);
  await sleep(1100);
  t.is(k8sHa('bundle', fixture('bundle.toml'), '--out', join(dir, 'b.tar.gz')).code, 0);
  t.is(sha256File(join(dir, 'a.tar.gz')), sha256File(join(dir, 'b.tar.gz')));
  execFileSync('gzip', ['-t', join(dir, 'a.tar.gz')]);
});

test('bad input: nodes without mac are all named; unsafe URLs name the field; --max-user-data fails', (t) => {
  const dir = testDir(t);
  const text = readFileSync(fixture('bundle.toml'), 'utf8');
  const noMacs = join(dir, 'nomac.toml');
  writeFileSync(noMacs, text.replace(/^mac = "52:54:00:00:00:0[23]"\n/gm, ''));
  const r = k8sHa('bundle', noMacs, '--out', join(dir, 'x.tar.gz'));
  t.is(r.code, 1);
  t.regex(r.stderr, /nomac\.toml: error E011 at nodes: cp-2, cp-3 have no mac, which per-MAC boot files \(iPXE, pxelinux, Matchbox\) need\n {2}hint: add mac = /);
  const badUrl = join(dir, 'badurl.toml');
  writeFileSync(badUrl, text.replace('configUrl = "http://198.18.0.1:8080/k8s"', 'configUrl = "http://198.18.0.1:8080/k8s dhcp"'));
  // Caught when the profile loads (so `check` reports it too), with line:col and a hint.
  t.regex(k8sHa('bundle', badUrl, '--out', join(dir, 'y.tar.gz')).stderr, /badurl\.toml:\d+:\d+: error E014 at boot\.configUrl: expected an absolute http:\/\/ or https:\/\/ URL without spaces[^]*got "http:\/\/198\.18\.0\.1:8080\/k8s dhcp"[^]*hint: where the bundle's nodes\/ directory is served/);
  t.is(runCli(['check', badUrl]).code, 1);
  const big = k8sHa('bundle', fixture('bundle.toml'), '--out', join(dir, 'z.tar.gz'), '--max-user-data', '1024');
  t.is(big.code, 1);
  t.regex(big.stderr, /error E032 at --max-user-data: user-data of node cp-1 is \d+ bytes, over the limit of 1024/);
  t.deepEqual(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim().split('\n').sort(), ['badurl.toml', 'nomac.toml'], 'no partial bundle left behind');
  t.is(k8sHa('render', fixture('bundle.toml'), '--out', join(dir, 'r'), '--max-user-data', '1024').code, 1);
  // --stdout of user-data is held to the limit too; Ignition alone writes no user-data to limit.
  const printed = k8sHa('render', fixture('bundle.toml'), '--node', 'cp-1', '--format', 'cloud-init', '--stdout', '--max-user-data', '1024');
  t.is(printed.code, 1, printed.stderr);
  t.is(printed.stdout, '');
  t.regex(printed.stderr, /error E032 at --max-user-data: user-data of node cp-1/);
  const ign = k8sHa('render', fixture('bundle.toml'), '--format', 'ignition', '--out', join(dir, 'ign'), '--max-user-data', '1024');
  t.is(ign.code, 0, ign.stderr);
  t.deepEqual(execFileSync('ls', ['-A', join(dir, 'ign', 'cp-1')], { encoding: 'utf8' }).trim(), 'config.ign');
  rmSync(join(dir, 'ign'), { recursive: true });
  // Matchbox cannot serve Ignition 3.5.0: refused before any secret or file is made.
  const fresh = join(dir, 'fresh.secrets.json');
  const v35 = runCli(['bundle', fixture('bundle.toml'), '--out', join(dir, 'v.tar.gz'), '--ignition-version', '3.5.0', '--secrets', fresh]);
  t.is(v35.code, 1, v35.stderr);
  t.regex(v35.stderr, /error E030 at --ignition-version: Matchbox parses Ignition spec 3\.0\.0 to 3\.4\.0, not 3\.5\.0/);
  t.false(existsSync(fresh));
  t.false(existsSync(join(dir, 'v.tar.gz')));
});
