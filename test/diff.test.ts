/**
 * `k8s-ha diff PROFILE --against DIR`: per node, the files that change on a running cluster,
 * new and removed nodes, and the static pods kubelet restarts. Golden outputs under
 * fixtures/golden/diff/ were read by a person; to change them on purpose run the test with
 * UPDATE_GOLDEN=1 (it then fails on purpose), read `git diff fixtures/golden/diff`, run again.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../src/day2/diff.js';
import { diffAgainst, parseProfile, type ClusterDiff } from '../src/index.js';
import { cli, ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';
import { CP4, rendered, S, SEED, WITHOUT_CP3, WORKER } from './helpers/day2.js';

const GOLDEN = join(ROOT, 'fixtures', 'golden', 'diff');


/** Compares `actual` with fixtures/golden/diff/NAME, or rewrites it under UPDATE_GOLDEN=1. */
function golden(t: ExecutionContext, name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    t.fail(`UPDATE_GOLDEN=1: rewrote ${file}; read git diff, then run the tests without it`);
    return;
  }
  t.is(actual, readFileSync(file, 'utf8'), `differs from ${file}`);
}

const TIMING = SEED.replace('advertInterval = 1 ', 'advertInterval = 2 ').replace('image = "haproxy:2.8"', 'image = "haproxy:2.8"\ncheckInterval = 500');

test('the profile that made the output: no changes, exit 0', (t) => {
  const dir = rendered(t);
  const r = cli(['diff', 'old.toml', '--against', 'out', ...S], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  golden(t, 'unchanged.txt', r.stdout);
});

for (const [name, profile] of [
  ['add', SEED + CP4 + WORKER],
  ['remove', WITHOUT_CP3],
  ['change', TIMING],
] as const) {
  test(`${name}: golden text output, exit 3`, (t) => {
    t.not(profile, SEED, 'the edit applied');
    const dir = rendered(t);
    writeFileSync(join(dir, 'new.toml'), profile);
    const r = cli(['diff', 'new.toml', '--against', 'out', ...S], { cwd: dir });
    t.is(r.code, 3, r.stderr);
    golden(t, `${name}.txt`, r.stdout);
  });
}

test('change: --json is the library ClusterDiff, golden', async (t) => {
  const dir = rendered(t);
  writeFileSync(join(dir, 'new.toml'), TIMING);
  const r = cli(['diff', 'new.toml', '--against', 'out', '--json', ...S], { cwd: dir });
  t.is(r.code, 3, r.stderr);
  const json = JSON.parse(r.stdout) as ClusterDiff;
  const loaded = parseProfile(TIMING, { format: 'toml', env: {} });
  if (!loaded.ok) return t.fail();
  const lib = JSON.parse(JSON.stringify(await diffAgainst(loaded.plan, FIXTURE_SECRETS, join(dir, 'out')))) as ClusterDiff;
  t.deepEqual({ ...json, against: '' }, { ...lib, against: '' });
  golden(t, 'change.json', r.stdout);
});

test('what each case restarts: exactly the pods whose mounted config changed, on the nodes that stay', async (t) => {
  const dir = rendered(t);
  const run = async (text: string) => {
    const loaded = parseProfile(text, { format: 'toml', env: {} });
    if (!loaded.ok) throw new Error('bad profile');
    return diffAgainst(loaded.plan, FIXTURE_SECRETS, join(dir, 'out'));
  };
  const summary = (d: ClusterDiff) => Object.fromEntries(d.nodes.map((n) => [n.name, `${n.status}:${n.restarts.join('+')}`]));
  t.deepEqual(summary(await run(SEED)), { 'k8s-cp-1': 'unchanged:', 'k8s-cp-2': 'unchanged:', 'k8s-cp-3': 'unchanged:' });
  t.deepEqual(summary(await run(SEED + WORKER)), { 'k8s-cp-1': 'unchanged:', 'k8s-cp-2': 'unchanged:', 'k8s-cp-3': 'unchanged:', 'w-1': 'added:' }, 'a worker changes nothing on the control plane');
  t.deepEqual(summary(await run(SEED + CP4)), { 'k8s-cp-1': 'changed:haproxy+keepalived', 'k8s-cp-2': 'changed:haproxy+keepalived', 'k8s-cp-3': 'changed:haproxy+keepalived', 'k8s-cp-4': 'added:' });
  t.deepEqual(summary(await run(WITHOUT_CP3)), { 'k8s-cp-1': 'changed:haproxy+keepalived', 'k8s-cp-2': 'changed:haproxy+keepalived', 'k8s-cp-3': 'removed:' });
  t.deepEqual(summary(await run(SEED.replace('image = "haproxy:2.8"', 'image = "haproxy:2.8"\ncheckInterval = 500'))), { 'k8s-cp-1': 'changed:haproxy', 'k8s-cp-2': 'changed:haproxy', 'k8s-cp-3': 'changed:haproxy' });
  t.deepEqual(summary(await run(SEED.replace('version = "v1.31.2"', 'version = "v1.31.3"'))), { 'k8s-cp-1': 'changed:', 'k8s-cp-2': 'unchanged:', 'k8s-cp-3': 'unchanged:' }, 'the version is in the init node\'s ClusterConfiguration, read at first boot only');
  const k = (await run(SEED.replace('version = "v1.31.2"', 'version = "v1.31.3"'))).nodes[0]!.files;
  t.deepEqual(k.map((f) => [f.path, f.appliedBy]), [['/etc/k8s-ha/kubeadm.yaml', 'first-boot']]);
});

test('a changed VRRP password shows as a changed line, never its value', (t) => {
  const dir = rendered(t);
  writeFileSync(join(dir, 'new.toml'), SEED.replace('authPass = "pass"', 'authPass = "Zq7xW9vK"'));
  for (const json of [false, true]) {
    const r = cli(['diff', 'new.toml', '--against', 'out', ...S, ...(json ? ['--json'] : [])], { cwd: dir });
    t.is(r.code, 3, r.stderr);
    t.false(r.stdout.includes('Zq7xW9vK'));
    t.false(/auth_pass pass/.test(r.stdout));
    t.false(r.stdout.includes(FIXTURE_SECRETS.bootstrapToken));
    t.false(r.stdout.includes(FIXTURE_SECRETS.certificateKey));
    if (!json) t.regex(r.stdout, /-\s+auth_pass <redacted>\n\s+\+\s+auth_pass <redacted>/);
  }
});

test('redactSecrets: tokens, certificate keys, VRRP passwords and private keys; line count kept; public material kept', (t) => {
  const text = [
    'auth_pass hunter2',
    '    token: abcdef.0123456789abcdef',
    '  certificateKey: 9856b0b773538dba1788d8df833e96eebbed23f28289e96e330de57e01f3e7f8',
    '  caCertHashes:',
    '    - sha256:cd8f6539680f303b7615cf560a95134835a6dc7343f6da7c26706351d4269f38',
    'kubeadm join x --token abcdef.0123456789abcdef --certificate-key=00ff',
    'echo abcdef.0123456789abcdef',
    '-----BEGIN PRIVATE KEY-----',
    'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    'BKcwggSjAgEAAoIBAQC7',
    '-----END PRIVATE KEY-----',
    '-----BEGIN CERTIFICATE-----',
    'MIIBszCCAVmgAwIBAgIU',
    '-----END CERTIFICATE-----',
    '',
  ].join('\n');
  const out = redactSecrets(text);
  t.is(out.split('\n').length, text.split('\n').length);
  for (const secret of ['hunter2', 'abcdef.0123456789abcdef', '9856b0b7', '00ff', 'MIIEvQ', 'BKcwgg']) t.false(out.includes(secret), secret);
  for (const pub of ['sha256:cd8f6539', 'MIIBszCCAVmgAwIBAgIU', '-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----']) t.true(out.includes(pub), pub);
});

test('the bootstrap script (owner-only, holds hook lines) gets hashes but no content diff', (t) => {
  const dir = rendered(t);
  writeFileSync(join(dir, 'new.toml'), SEED.replace('serviceSubnet = "10.96.0.0/12"', 'serviceSubnet = "10.96.0.0/12"\npreKubeadmCommands = ["echo TOPSECRET-HOOK"]'));
  const r = cli(['diff', 'new.toml', '--against', 'out', '--json', ...S], { cwd: dir });
  t.is(r.code, 3, r.stderr);
  t.false(r.stdout.includes('TOPSECRET-HOOK'));
  const f = (JSON.parse(r.stdout) as ClusterDiff).nodes[0]!.files.find((x) => x.path === '/etc/k8s-ha/bootstrap.sh');
  t.truthy(f?.oldSha256);
  t.not(f?.oldSha256, f?.newSha256);
  t.is(f?.diff, undefined);
});

test('a bundle archive and its unpacked directory work as --against', (t) => {
  const dir = testDir(t);
  copyFileSync(join(ROOT, 'test', 'fixtures', 'bundle.toml'), join(dir, 'lab.toml'));
  const b = cli(['bundle', 'lab.toml', '--out', 'lab.tar.gz', ...S], { cwd: dir });
  t.is(b.code, 0, b.stderr);
  const same = cli(['diff', 'lab.toml', '--against', 'lab.tar.gz', ...S], { cwd: dir });
  t.is(same.code, 0, same.stderr + same.stdout);
  t.regex(same.stdout, /node cp-1 \(init, 198\.18\.0\.11\): unchanged/);
  writeFileSync(join(dir, 'lab2.toml'), readFileSync(join(dir, 'lab.toml'), 'utf8').replace('routerId = 77', 'routerId = 78'));
  const changed = cli(['diff', 'lab2.toml', '--against', 'lab.tar.gz', ...S], { cwd: dir });
  t.is(changed.code, 3, changed.stderr);
  t.regex(changed.stdout, /-\s+virtual_router_id 77\n\s+\+\s+virtual_router_id 78/);
  mkdirSync(join(dir, 'unpacked'));
  t.is(spawnSync('tar', ['-xzf', 'lab.tar.gz', '-C', 'unpacked'], { cwd: dir }).status, 0);
  const unpacked = cli(['diff', 'lab2.toml', '--against', 'unpacked', '--json', ...S], { cwd: dir });
  t.is(unpacked.code, 3, unpacked.stderr);
  t.deepEqual((JSON.parse(unpacked.stdout) as ClusterDiff).nodes.map((n) => n.status), (JSON.parse(cli(['diff', 'lab2.toml', '--against', 'lab.tar.gz', '--json', ...S], { cwd: dir }).stdout) as ClusterDiff).nodes.map((n) => n.status));
});

test('errors exit 1 with the path and a hint: no such --against, nothing to compare, missing secrets; --against is required', (t) => {
  const dir = rendered(t);
  const missing = cli(['diff', 'old.toml', '--against', 'nope', ...S], { cwd: dir });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nope: error E072 at --against: cannot read .*\n {2}hint: /);
  mkdirSync(join(dir, 'empty'));
  const empty = cli(['diff', 'old.toml', '--against', 'empty', ...S], { cwd: dir });
  t.is(empty.code, 1);
  t.regex(empty.stderr, /empty: error E072 at --against: holds no node output/);
  const noSecrets = cli(['diff', 'old.toml', '--against', 'out'], { cwd: dir });
  t.is(noSecrets.code, 1);
  t.regex(noSecrets.stderr, /old\.secrets\.json: error E060 at \(file\): cannot read .*\n {2}hint: day-two commands compare with the secrets/);
  t.is(cli(['diff', 'old.toml', ...S], { cwd: dir }).code, 2, '--against missing is a usage error');
});
