/**
 * Both formats put the same files on a node; output is deterministic; data URLs and gz+b64
 * encodings round-trip.
 */
import test from 'ava';
import { join } from 'node:path';
import { loadProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { decodeCloudInit, decodeDataUrl, decodeIgnition } from '../src/formats/decode.js';
import { dataUrl, pathEscape, renderIgnition } from '../src/formats/ignition.js';
import { COMPRESS_FROM_BYTES, renderCloudInit } from '../src/formats/cloud-init.js';
import { gunzipSync } from 'node:zlib';
import { ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

const PROFILES = ['profiles/seed.toml', 'profiles/example.yaml', 'profiles/baremetal.toml', 'fixtures/profiles/ipv6.yaml'];

for (const profile of PROFILES) {
  test(`${profile}: cloud-init and Ignition decode to the same files, modes and contents`, (t) => {
    const { plan } = loadProfile(join(ROOT, profile), {});
    for (const r of renderCluster(plan, FIXTURE_SECRETS)) {
      const fromCloudInit = decodeCloudInit(r.userData);
      const fromIgnition = decodeIgnition(r.ignition);
      t.deepEqual(fromCloudInit, fromIgnition, r.node.name);
      t.deepEqual(
        fromCloudInit,
        r.payload.files.map((f) => ({ path: f.path, mode: f.mode, content: f.content })),
      );
    }
  });

  test(`${profile}: rendering twice gives byte-identical outputs`, (t) => {
    const a = renderCluster(loadProfile(join(ROOT, profile), {}).plan, FIXTURE_SECRETS);
    const b = renderCluster(loadProfile(join(ROOT, profile), {}).plan, FIXTURE_SECRETS);
    t.deepEqual(
      a.map((r) => [r.userData, r.metaData, r.ignition]),
      b.map((r) => [r.userData, r.metaData, r.ignition]),
    );
  });
}

test('meta-data instance-id changes when user-data changes', (t) => {
  const { plan } = loadProfile(join(ROOT, 'profiles/seed.toml'), {});
  const before = renderCluster(plan, FIXTURE_SECRETS)[0]!;
  const after = renderCluster({ ...plan, vip: { ...plan.vip, port: 9443 } }, FIXTURE_SECRETS)[0]!;
  t.notDeepEqual(before.userData, after.userData);
  t.notDeepEqual(before.metaData, after.metaData);
  t.regex(before.metaData, /^instance-id: seed-k8s-cp-1-[0-9a-f]{12}\nlocal-hostname: k8s-cp-1\n$/);
});

test('data URLs: the shortest of plain, base64 and gzip is chosen, and each decodes back', (t) => {
  const short = 'ok\n';
  t.deepEqual(dataUrl(short), { compression: '', source: 'data:,ok%0A' });
  const binaryish = Array.from({ length: 40 }, (_, i) => String.fromCharCode(0xe0 + i)).join('');
  const b = dataUrl(binaryish);
  t.is(b.compression, '');
  t.true(b.source.startsWith('data:;base64,'));
  t.is(decodeDataUrl(b.source).toString('utf8'), binaryish);
  const long = 'server x 1.2.3.4:6443 check verify none\n'.repeat(200);
  const g = dataUrl(long);
  t.is(g.compression, 'gzip');
  t.is(gunzipSync(decodeDataUrl(g.source)).toString('utf8'), long);
  t.is(pathEscape('a b/c$&+:=@~'), 'a%20b%2Fc$&+:=@~');
});

test('large files are written gz+b64 in user-data and decode back', (t) => {
  const big = 'x'.repeat(COMPRESS_FROM_BYTES) + '\n';
  const node = { name: 'n1', index: 0, role: 'init' as const, address: '198.18.0.1', interface: 'eth0' };
  const payload = { files: [{ path: '/etc/big', mode: 0o644, content: big }], runcmd: [], units: [] };
  const ud = renderCloudInit(node, payload);
  t.regex(ud, /encoding: gz\+b64/);
  t.deepEqual(decodeCloudInit(ud), [{ path: '/etc/big', mode: 0o644, content: big }]);
  t.deepEqual(decodeIgnition(renderIgnition(payload)), [{ path: '/etc/big', mode: 0o644, content: big }]);
});
