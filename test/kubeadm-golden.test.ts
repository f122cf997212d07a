/**
 * Golden kubeadm configs of the IPv6-only and dual-stack example profiles
 * (fixtures/golden/kubeadm/<profile>/<node>.yaml), rendered with the fixture secrets and
 * compared byte for byte. They were read against kubeadm's dual-stack page
 * (docs/setup/production-environment/tools/kubeadm/dual-stack-support): `networking` with one
 * CIDR per family in the comma form, `advertiseAddress` of the primary family, kubelet
 * `node-ip` on every node with both addresses (v1beta4 `[{name, value}]`, v1beta3 map).
 * To change them on purpose: `UPDATE_GOLDEN=1 npx ava dist/test/kubeadm-golden.test.js`
 * (fails on purpose), read `git diff fixtures/golden/kubeadm`, run again without it.
 */
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBEADM_CONFIG } from '../src/components/kubeadm.js';
import { loadProfile, parseProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { ROOT } from './helpers/cli.js';
import { checkKubeadmYaml } from './helpers/kubeadm-schema.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

const GOLDEN = join(ROOT, 'fixtures', 'golden', 'kubeadm');

/** Each node's kubeadm.yaml of a profile. */
function configs(profile: string): { version: string; files: [string, string][] } {
  const { plan } = loadProfile(join(ROOT, profile), {});
  const files = renderCluster(plan, FIXTURE_SECRETS).map((r) => [r.node.name, r.payload.files.find((f) => f.path === KUBEADM_CONFIG)!.content] as [string, string]);
  return { version: plan.kubernetes.version, files };
}

for (const [profile, dir] of [['profiles/ipv6.yaml', 'ipv6'], ['profiles/dual-stack.toml', 'dual-stack']] as const) {
  test(`${profile}: kubeadm configs match fixtures/golden/kubeadm/${dir} and pass the strict field check`, (t) => {
    const { version, files } = configs(profile);
    for (const [node, content] of files) {
      // Unknown or misplaced fields for the config's apiVersion (v1beta3 for 1.30, v1beta4 for 1.31) fail here.
      t.deepEqual(checkKubeadmYaml(content, { kubernetesVersion: version }).errors, [], node);
      const golden = join(GOLDEN, dir, `${node}.yaml`);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(join(GOLDEN, dir), { recursive: true });
        writeFileSync(golden, content);
        continue;
      }
      t.is(content, readFileSync(golden, 'utf8'), `${node}: differs from ${golden}`);
    }
    if (process.env.UPDATE_GOLDEN === '1') t.fail(`UPDATE_GOLDEN=1: rewrote ${GOLDEN}/${dir}; read git diff, then run the tests without it`);
  });
}

test('dual stack follows kubeadm\'s documented example: comma pairs, advertiseAddress IPv4, node-ip "IPv4,IPv6" on every node', (t) => {
  const { version, files } = configs('profiles/dual-stack.toml');
  for (const [node, content] of files) {
    const docs = checkKubeadmYaml(content, { kubernetesVersion: version }).documents.map((d) => d.data) as any[];
    const reg = docs[0].nodeRegistration;
    t.is(reg.kubeletExtraArgs.length, 1, node);
    t.is(reg.kubeletExtraArgs[0].name, 'node-ip');
    t.regex(reg.kubeletExtraArgs[0].value, /^10\.30\.0\.\d+,fd00:30::\d+$/);
    const local = docs[0].localAPIEndpoint ?? docs[0].controlPlane?.localAPIEndpoint;
    if (local) t.regex(local.advertiseAddress, /^10\.30\.0\.\d+$/, 'advertiseAddress in the family of the first service CIDR');
    const cluster = docs.find((d) => d.kind === 'ClusterConfiguration');
    if (cluster) {
      t.deepEqual(cluster.networking, { podSubnet: '10.244.0.0/16,fd00:30:244::/56', serviceSubnet: '10.96.0.0/16,fd00:30:96::/112' });
      t.is(cluster.controlPlaneEndpoint, '10.30.0.10:8443');
      t.true(cluster.apiServer.certSANs.includes('fd00:30::10'));
    }
  }
});

test('IPv6 only on v1beta3: node-ip in the map form, IPv6 service subnet, a v1beta4 list there is an error', (t) => {
  const { version, files } = configs('profiles/ipv6.yaml');
  t.is(version, 'v1.30.4');
  const [, init] = files[0]!;
  const docs = checkKubeadmYaml(init, { kubernetesVersion: version }).documents.map((d) => d.data) as any[];
  t.deepEqual(docs[0].nodeRegistration.kubeletExtraArgs, { 'node-ip': 'fd00:10::11' });
  t.deepEqual(docs[1].networking, { podSubnet: 'fd00:10:244::/56', serviceSubnet: 'fd00:10:96::/112' });
  // The check can fail: v1beta4's list form in a v1beta3 document is refused.
  const wrong = init.replace('  kubeletExtraArgs:\n    node-ip: fd00:10::11\n', '  kubeletExtraArgs:\n    - name: node-ip\n      value: fd00:10::11\n');
  t.not(wrong, init);
  t.true(checkKubeadmYaml(wrong, { kubernetesVersion: version }).errors.some((e) => /kubeletExtraArgs/.test(e)));
});

test('no unknown or misplaced field for the chosen apiVersion: IPv6 and dual stack from v1.22 (v1beta3) to v1.34 (v1beta4)', (t) => {
  for (const profile of ['profiles/ipv6.yaml', 'profiles/dual-stack.toml']) {
    const text = readFileSync(join(ROOT, profile), 'utf8');
    for (const version of ['v1.22.17', 'v1.30.5', 'v1.31.2', 'v1.34.1']) {
      const changed = text.replace(/version(:| =) "?v1\.3[01]\.\d+"?/, (_m, sep: string) => `version${sep} "${version}"`);
      const { plan } = parseProfile(profile, changed, {});
      t.is(plan.kubernetes.version, version);
      for (const r of renderCluster(plan, FIXTURE_SECRETS)) {
        const content = r.payload.files.find((f) => f.path === KUBEADM_CONFIG)!.content;
        t.deepEqual(checkKubeadmYaml(content, { kubernetesVersion: version }).errors, [], `${profile} ${version} ${r.node.name}`);
      }
    }
  }
});
