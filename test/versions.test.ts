import test from 'ava';
import { parseProfile } from '../src/index.js';
import { expectedKubeadmApiVersion } from './helpers/kubeadm-schema.js';
import {
  IGNITION_SPECS,
  IGNITION_VERSIONS,
  isNewerIgnition,
  isSupportedKubernetes,
  KUBERNETES_VERSIONS,
  kubernetesFacts,
  MATCHBOX_MAX_IGNITION,
  specsNewerThanRelease,
} from '../src/versions.js';

test('the Kubernetes table is ordered, and each minor gets the kubeadm API that NOTES.md says it reads', (t) => {
  const minors = KUBERNETES_VERSIONS.map((r) => Number(r.since.split('.')[1]));
  t.deepEqual(minors, [...minors].sort((a, b) => a - b));
  for (let minor = 22; minor <= 36; minor++) {
    const version = `v1.${minor}.0`;
    const facts = kubernetesFacts(version);
    t.is(facts.kubeadmApi as string, expectedKubeadmApiVersion(version), version);
    t.is(facts.kubeletExtraArgs, facts.kubeadmApi.endsWith('v1beta4') ? 'list' : 'map', version);
  }
});

test('row boundaries: the preflight skip ends at 1.23, v1beta4 starts at 1.31, pre-releases count as their minor', (t) => {
  t.true(kubernetesFacts('v1.22.17').joinSkipsManifestsPreflight);
  t.false(kubernetesFacts('1.23.0').joinSkipsManifestsPreflight);
  t.is(kubernetesFacts('v1.30.14').kubeadmApi, 'kubeadm.k8s.io/v1beta3');
  t.is(kubernetesFacts('v1.31.0-rc.1').kubeadmApi, 'kubeadm.k8s.io/v1beta4');
  t.is(kubernetesFacts('v1.34.0').pause, '3.10.1');
  t.false(isSupportedKubernetes('v1.21.14'));
  t.true(isSupportedKubernetes('v1.22.0'));
});

test('the Ignition table: rendered specs, Matchbox limit, order and what Debian 12 cannot validate', (t) => {
  t.deepEqual(IGNITION_VERSIONS, ['3.3.0', '3.4.0', '3.5.0']);
  t.is(MATCHBOX_MAX_IGNITION, '3.4.0');
  t.deepEqual(IGNITION_SPECS.map((s) => s.spec), ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0', '3.5.0']);
  t.true(isNewerIgnition('3.5.0', '3.4.0'));
  t.false(isNewerIgnition('3.3.0', '3.3.0'));
  t.false(isNewerIgnition('3.0.0', '3.3.0'));
  t.deepEqual(specsNewerThanRelease('2.14.0').map((s) => s.spec), ['3.4.0', '3.5.0']);
  t.deepEqual(specsNewerThanRelease('2.20.0'), []);
});

test('a profile naming a release older than the table\'s first row is refused, with that row in the message', (t) => {
  const profile = (version: string) => ({ name: 'x', vip: { addresses: ['198.18.0.10'], routerId: 77, port: 8443, interface: 'eth0' }, kubernetes: { version }, nodes: [{ name: 'a', address: '198.18.0.1/24' }, { name: 'b', address: '198.18.0.2/24' }, { name: 'c', address: '198.18.0.3/24' }] });
  t.true(parseProfile(profile('v1.22.0'), { env: {} }).ok);
  const old = parseProfile(profile('v1.21.14'), { env: {} });
  t.false(old.ok);
  if (!old.ok) t.deepEqual(old.problems.map((p) => [p.path.join('.'), p.message]), [['kubernetes.version', 'expected a Kubernetes version 1.22 or newer, such as v1.31.2, got "v1.21.14"']]);
});
