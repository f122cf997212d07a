/**
 * One node, two formats (issue 17, item 4): for every node of every valid profile shipped in
 * profiles/ and fixtures/, the cloud-init user-data and the Ignition config put the same set of
 * paths on the node, with the same modes and contents. Read back the way each consumer does
 * (src/formats/decode.ts: write_files with gz+b64; Ignition data URLs with gzip).
 *
 * Named exceptions, the only differences allowed:
 * 1. the boot-time mechanism that starts the bootstrap: cloud-init's `runcmd` runs
 *    /etc/k8s-ha/bootstrap.sh, Ignition installs and enables the systemd unit
 *    k8s-ha-bootstrap.service (systemd.units, not a file in storage.files) that runs it;
 * 2. remote downloads (the Flatcar Kubernetes sysext image, `kubernetes.sysext`): only Ignition
 *    can fetch and verify a file at provisioning time; cloud-init nodes install Kubernetes
 *    their own way (preKubeadmCommands).
 */
import test from 'ava';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { BOOTSTRAP_SCRIPT, BOOTSTRAP_UNIT, bootstrapUnit, SYSEXT_IMAGE } from '../src/components/bootstrap.js';
import { decodeCloudInit, decodeIgnition } from '../src/formats/decode.js';
import { loadProfile, renderNodes } from '../src/index.js';
import { ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

/** Every *.toml, *.yaml and *.yml under `dir`, recursively, relative to the repository root. */
function profilesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return profilesUnder(rel);
    return /\.(toml|ya?ml)$/.test(name) ? [rel] : [];
  });
}

/** Profiles only: fixtures/golden holds rendered outputs (kubeadm configs are YAML too). */
const candidates = [...profilesUnder('profiles'), ...profilesUnder('fixtures').filter((p) => !p.startsWith('fixtures/golden/'))].sort();
/** The shipped profiles that load: fixtures/errors/ holds the ones that must not. */
const valid = candidates.filter((p) => loadProfile(join(ROOT, p), { env: {} }).ok);

test('the parity test covers every shipped profile: all of profiles/, every valid one in fixtures/', (t) => {
  for (const p of candidates.filter((c) => !valid.includes(c))) t.true(p.startsWith('fixtures/errors/'), `${p} does not load but is not an error fixture`);
  for (const p of profilesUnder('profiles')) t.true(valid.includes(p), p);
  t.true(valid.length >= 6, valid.join(', '));
});

for (const file of valid) {
  test(`cloud-init and Ignition put the same files on every node: ${file}`, (t) => {
    const loaded = loadProfile(join(ROOT, file), { env: {} });
    if (!loaded.ok) return t.fail();
    const sysext = loaded.plan.kubernetes.sysext !== undefined;
    for (const r of renderNodes(loaded.plan, FIXTURE_SECRETS)) {
      const name = `${relative('.', file)} ${r.node.name}`;
      const byPath = (files: { path: string; mode: number; content: string }[]) => [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const fromCloudInit = byPath(decodeCloudInit(r.userData));
      const fromIgnition = byPath(decodeIgnition(r.ignition));
      t.deepEqual(fromIgnition.map((f) => f.path), fromCloudInit.map((f) => f.path), `${name}: the same paths`);
      t.deepEqual(fromIgnition, fromCloudInit, `${name}: the same modes and contents`);
      // Both set the hostname: cloud-init's hostname key, and /etc/hostname in both file lists.
      const doc = YAML.parse(r.userData, { version: '1.1' }) as { hostname: string; runcmd: string[][] };
      t.is(doc.hostname, r.node.name, name);
      t.deepEqual(fromIgnition.find((f) => f.path === '/etc/hostname'), { path: '/etc/hostname', mode: 0o644, content: `${r.node.name}\n` }, name);

      // Exception 1, the start mechanism: the same script, by runcmd or by the unit.
      const ign = JSON.parse(r.ignition) as { storage: { files: { path: string; contents: { source: string } }[] }; systemd: { units: { name: string; enabled: boolean; contents: string }[] } };
      t.deepEqual(doc.runcmd, [[BOOTSTRAP_SCRIPT]], name);
      t.deepEqual(ign.systemd.units, [{ name: BOOTSTRAP_UNIT, enabled: true, contents: bootstrapUnit() }], name);
      // Exception 2, downloads: only the sysext image, only in Ignition, only when the profile names one.
      const remote = ign.storage.files.filter((f) => !f.contents.source.startsWith('data:')).map((f) => f.path);
      t.deepEqual(remote, sysext ? [SYSEXT_IMAGE] : [], name);
    }
  });
}
