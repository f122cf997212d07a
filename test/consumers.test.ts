/**
 * Every output checked by the real program that consumes it: cloud-init schema,
 * ignition-validate (3.3.0) and the official Ignition JSON schemas (3.4.0, 3.5.0),
 * haproxy -c, keepalived -t (in a netns with the node's interface), and the Pod JSON schema
 * for the static pods. Runs on every example profile and the IPv6 fixture.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import YAML from 'yaml';
import { Pod } from 'kubernetes-models/v1';
import { loadProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { decodeCloudInit } from '../src/formats/decode.js';
import { Netns, cloudInitCheck, haproxyCheck, ignitionCheck, run, runOk } from './helpers/tools.js';
import { ROOT, SCHEMAS } from './helpers/cli.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

/** Every example profile users copy (all of profiles/), plus the IPv6 fixture. */
const PROFILES = [
  ...readdirSync(join(ROOT, 'profiles')).filter((f) => /\.(toml|ya?ml)$/.test(f)).sort().map((f) => `profiles/${f}`),
  'fixtures/profiles/ipv6.yaml',
];

test('the example profiles include IPv6-only and dual-stack ones', (t) => {
  t.true(PROFILES.includes('profiles/ipv6.yaml') && PROFILES.includes('profiles/dual-stack.toml'), PROFILES.join(' '));
});

for (const profile of PROFILES) {
  const { plan } = loadProfile(join(ROOT, profile), {});
  const rendered = renderCluster(plan, FIXTURE_SECRETS);
  /** Control-plane nodes: the ones that run keepalived and HAProxy. */
  const controlPlane = rendered.filter((r) => r.node.role !== 'worker');

  test(`${profile}: every user-data passes cloud-init schema`, (t) => {
    for (const r of rendered) {
      const res = cloudInitCheck(r.userData);
      t.true(res.ok, `${r.node.name}: ${res.output}`);
    }
  });

  test(`${profile}: every config.ign passes ignition-validate (3.3.0) and the 3.4.0/3.5.0 JSON schemas`, (t) => {
    for (const r of rendered) {
      const res = ignitionCheck(r.ignition);
      t.true(res.ok, `${r.node.name}: ignition-validate must report nothing, not even a warning: ${res.output}`);
    }
    for (const v of ['3.4.0', '3.5.0'] as const) {
      const schema = JSON.parse(readFileSync(join(SCHEMAS, 'ignition', `v${v.slice(0, 3).replace('.', '_')}.json`), 'utf8'));
      const validate = new AjvDraft04.default({ strict: false, allErrors: true }).compile(schema);
      for (const r of renderCluster(plan, FIXTURE_SECRETS, { ignitionVersion: v })) {
        const cfg = JSON.parse(r.ignition);
        t.is(cfg.ignition.version, v);
        t.true(validate(cfg), `${v} ${r.node.name}: ${JSON.stringify(validate.errors)}`);
      }
    }
  });

  test(`${profile}: every haproxy.cfg passes haproxy -c`, (t) => {
    for (const r of controlPlane) {
      // From the decoded user-data: what the node gets, not the payload before encoding.
      const cfg = decodeCloudInit(r.userData).find((f) => f.path === '/etc/haproxy/haproxy.cfg')!;
      const res = haproxyCheck(cfg.content);
      t.true(res.ok, `${r.node.name}: ${res.output}`);
    }
  });

  test(`${profile}: every keepalived.conf passes keepalived -t with its track script in place`, (t) => {
    const netns = new Netns();
    t.teardown(() => netns.close());
    for (const r of controlPlane) {
      const file = (name: string) => r.payload.files.find((f) => f.path === `/etc/keepalived/${name}`)!.content;
      const res = netns.keepalivedCheck(file('keepalived.conf'), [r.node.interface], file('check_apiserver.sh'));
      t.true(res.ok, `${r.node.name}: ${res.output}`);
    }
  });

  test(`${profile}: static pods are valid Pods (Kubernetes JSON schema) in kube-system on the host network`, (t) => {
    for (const r of rendered) {
      for (const f of r.payload.files.filter((x) => x.path.startsWith('/etc/kubernetes/manifests/'))) {
        const obj = YAML.parse(f.content);
        t.notThrows(() => new Pod(obj).validate(), f.path);
        t.is(obj.metadata.namespace, 'kube-system');
        t.true(obj.spec.hostNetwork);
        t.true(Array.isArray(obj.spec.containers[0].command) && obj.spec.containers[0].command.length > 0, 'explicit command');
      }
    }
  });
}

test('a namespace left by a killed test worker is deleted by the next one', (t) => {
  // A pid above Linux's largest pid_max (2^22, kernel/pid.c PID_MAX_LIMIT) never runs.
  const stale = `k8sha-h${2 ** 22 + 1}-0`;
  const names = () => run('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0]);
  // runOk: the namespace exists now (another worker's Netns may reap it any moment after).
  runOk('ip', ['netns', 'add', stale]);
  t.teardown(() => void run('ip', ['netns', 'del', stale]));
  const ns = new Netns();
  t.teardown(() => ns.close());
  t.false(names().includes(stale), `${stale} still exists`);
  t.true(names().includes(ns.name));
});
