/**
 * The library API (src/index.ts, the package's entry point) used as code uses it: problems
 * come back as values (never an exit or a write to stderr), text and objects load alike, and
 * the bundle goes to a stream.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { buildBundle, formatProblems, loadProfile, parseProfile, parseSecrets, renderNodes, serialiseSecrets } from '../src/index.js';
import { ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import { join } from 'node:path';

const SEED = join(ROOT, 'profiles', 'seed.toml');

test('loadProfile: a plan and its warnings with line:col; a missing file is a problem, not a throw', (t) => {
  const ok = loadProfile(SEED, { env: {} });
  if (!ok.ok) return t.fail(formatProblems(ok.source, ok.problems, ok.text));
  t.is(ok.plan.nodes.length, 3);
  t.like(ok.warnings.find((w) => w.path.join('.') === 'vip.routerId'), { severity: 'warning', code: 'W_ROUTER_ID', line: 12, col: 12 });
  const missing = loadProfile(join(ROOT, 'profiles', 'nope.toml'));
  t.false(missing.ok);
  if (!missing.ok) t.like(missing.problems[0], { severity: 'error', code: 'E_READ' });
});

test('parseProfile: TOML text with a named format gives line:col; an object gives the field path; a string without a format is a TypeError', (t) => {
  const text = readFileSync(SEED, 'utf8').replace('port = 7443', 'port = 70000');
  const bad = parseProfile(text, { format: 'toml', source: 'my.toml', env: {} });
  t.false(bad.ok);
  if (bad.ok) return;
  const p = bad.problems.find((x) => x.path.join('.') === 'vip.port');
  t.like(p, { severity: 'error', code: 'E_RANGE' });
  t.is(typeof p?.line, 'number');
  t.regex(formatProblems(bad.source, bad.problems, bad.text), /^my\.toml:\d+:\d+: error E\d+ at vip\.port: /m);
  const fromFile = loadProfile(SEED, { env: {} });
  if (!fromFile.ok) return t.fail();
  const obj = parseProfile(JSON.parse(JSON.stringify({ name: 'x', vip: { addresses: ['198.18.0.10'], routerId: 77, port: 8443, interface: 'eth0' }, kubernetes: { version: 'v1.31.2' }, nodes: [{ name: 'a', address: '198.18.0.1/24' }, { name: 'b', address: '198.18.0.2/24' }, { name: 'c', address: '198.18.0.3/24' }] })) as Record<string, unknown>, { env: {} });
  if (!obj.ok) return t.fail(formatProblems(obj.source, obj.problems));
  t.deepEqual(obj.plan.nodes.map((n) => n.vrrp?.state), ['MASTER', 'BACKUP', 'BACKUP']);
  const objBad = parseProfile({ name: 'x', nodes: 'no' }, { env: {} });
  t.false(objBad.ok);
  if (!objBad.ok) t.true(objBad.problems.every((x) => x.line === undefined));
  t.throws(() => parseProfile('name = "x"'), { instanceOf: TypeError });
});

test('renderNodes: every format of every node; secrets round-trip through their text form', (t) => {
  const loaded = loadProfile(SEED, { env: {} });
  if (!loaded.ok) return t.fail();
  const secrets = parseSecrets(serialiseSecrets(FIXTURE_SECRETS), 'mem');
  const nodes = renderNodes(loaded.plan, secrets, { ignitionVersion: '3.4.0' });
  t.deepEqual(nodes.map((n) => n.node.name), ['k8s-cp-1', 'k8s-cp-2', 'k8s-cp-3']);
  for (const n of nodes) {
    t.regex(n.userData, /^#cloud-config\n/);
    t.is((JSON.parse(n.ignition) as { ignition: { version: string } }).ignition.version, '3.4.0');
    t.true(n.payload.files.some((f) => f.path === '/etc/haproxy/haproxy.cfg'));
    t.regex(n.metaData, /local-hostname: /);
  }
});

test('buildBundle writes a gzip tar to any writable stream', async (t) => {
  const loaded = loadProfile(join(ROOT, 'profiles', 'baremetal.toml'), { env: {} });
  if (!loaded.ok) return t.fail(formatProblems(loaded.source, loaded.problems, loaded.text));
  const chunks: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, done) => { chunks.push(c); done(); } });
  const sizes = await buildBundle(loaded.plan, { out: sink, secrets: FIXTURE_SECRETS });
  t.is(sizes.length, loaded.plan.nodes.length);
  const tar = gunzipSync(Buffer.concat(chunks));
  t.true(tar.includes(Buffer.from('ustar')));
  t.true(tar.includes(Buffer.from(loaded.plan.nodes[0]!.name)));
});
