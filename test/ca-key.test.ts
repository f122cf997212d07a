/**
 * The CA key on the user's terms (issue 17, item 5): with kubernetes.caKey = "deliver" no
 * output carries the CA private key; render writes it once, 0600, beside the outputs; the
 * warning about where an embedded key is readable is given only when it is embedded.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readTree } from './helpers/files.js';
import { join } from 'node:path';
import { decodeCloudInit, decodeIgnition } from '../src/formats/decode.js';
import { cli, ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS, FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';

/** Copies the profile at ROOT/source into dir with caKey = "deliver" and runs `k8s-ha command` on it, writing dir/out. */
function deliver(dir: string, source: string, command: 'render' | 'bundle', out: string) {
  const profile = join(dir, source.split('/').pop()!);
  writeFileSync(profile, readFileSync(join(ROOT, source), 'utf8').replace('[kubernetes]', '[kubernetes]\ncaKey = "deliver"'));
  const r = cli([command, profile, '--out', join(dir, out), '--secrets', FIXTURE_SECRETS_FILE]);
  if (r.code !== 0) throw new Error(`k8s-ha ${command} exited ${r.code}: ${r.stderr}`);
  return { profile, out: join(dir, out), r };
}

test('caKey = "deliver": no output holds the CA key, render writes ca.key 0600 beside them and says where it goes', (t) => {
  const dir = testDir(t);
  const { profile, out, r } = deliver(dir, join('fixtures', 'lab', 'lab.toml'), 'render', 'out');
  // Read back as cloud-init and Ignition would (gz+b64, gzip data URLs): no key file, no key.
  const files = (node: string) => [...decodeCloudInit(readFileSync(join(out, node, 'user-data'), 'utf8')), ...decodeIgnition(readFileSync(join(out, node, 'config.ign'), 'utf8'))];
  for (const node of ['cp-1', 'cp-2', 'cp-3']) {
    t.false(files(node).some((f) => f.path === '/etc/kubernetes/pki/ca.key' || f.content.includes('PRIVATE KEY')), node);
  }
  t.true(files('cp-1').some((f) => f.path === '/etc/kubernetes/pki/ca.crt'), 'the certificate is still there');
  t.is(readFileSync(join(out, 'ca.key'), 'utf8'), FIXTURE_SECRETS.ca.keyPem);
  t.is(statSync(join(out, 'ca.key')).mode & 0o777, 0o600);
  t.regex(r.stdout, /CA key: in no output \(caKey = "deliver"\); copy .*\/out\/ca\.key to \/etc\/kubernetes\/pki\/ca\.key on cp-1 \(mode 0600\): its bootstrap waits for it/);
  t.notRegex(r.stderr, /carry the cluster CA private key/);
  t.regex(files('cp-1').find((f) => f.path === '/etc/k8s-ha/bootstrap.sh')!.content, /waiting for the cluster CA key/);
  // Rendering again replaces the tree, ca.key included (render's own output).
  t.is(cli(['render', profile, '--out', out, '--secrets', FIXTURE_SECRETS_FILE]).code, 0);

  // The default embeds it, and says where it is readable.
  const embedded = cli(['render', 'fixtures/lab/lab.toml', '--out', join(dir, 'e'), '--secrets', FIXTURE_SECRETS_FILE]);
  t.is(embedded.code, 0, embedded.stderr);
  t.regex(embedded.stderr, /carry the cluster CA private key[^]*hint: kubernetes\.caKey = "deliver" keeps it out/);
  t.throws(() => statSync(join(dir, 'e', 'ca.key')));
  t.true(files('cp-1').length > 0 && decodeCloudInit(readFileSync(join(dir, 'e', 'cp-1', 'user-data'), 'utf8')).some((f) => f.path === '/etc/kubernetes/pki/ca.key' && f.content === FIXTURE_SECRETS.ca.keyPem));
});

test('caKey = "deliver" in a bundle: no file of the bundle holds the key, and bundle says how to get it to the init node', async (t) => {
  const dir = testDir(t);
  const { profile, out, r } = deliver(dir, join('test', 'fixtures', 'bundle.toml'), 'bundle', 'b.tar');
  t.regex(r.stdout, /CA key: in no output \(caKey = "deliver"\); k8s-ha render \S+bundle\.toml --secrets \S+ --node cp-1 writes it as ca\.key \(mode 0600\): copy it to \/etc\/kubernetes\/pki\/ca\.key on cp-1/);
  // Every node's user-data and Ignition in the bundle, decoded as the consumers would: no key.
  const unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xf', out, '-C', unpacked]);
  const configs = [...readTree(unpacked).keys()].filter((p) => /(^|\/)user-data$|\.ign$/.test(p));
  t.true(configs.some((p) => p.endsWith('.ign')) && configs.some((p) => p.endsWith('user-data')), configs.join(' '));
  for (const p of configs) {
    const text = readFileSync(join(unpacked, p), 'utf8');
    const decoded = p.endsWith('.ign') ? decodeIgnition(text) : decodeCloudInit(text);
    t.false(decoded.some((f) => f.path === '/etc/kubernetes/pki/ca.key' || f.content.includes('PRIVATE KEY')), p);
  }
  // The hint's command works and writes the key.
  const keyDir = join(dir, 'key');
  t.is(cli(['render', profile, '--secrets', FIXTURE_SECRETS_FILE, '--node', 'cp-1', '--out', keyDir]).code, 0);
  t.is(readFileSync(join(keyDir, 'cp-1', 'ca.key'), 'utf8'), FIXTURE_SECRETS.ca.keyPem);
});
