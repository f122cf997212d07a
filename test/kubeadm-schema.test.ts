import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { KUBEADM_CONFIG } from '../src/components/kubeadm.js';
import { loadProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { ROOT, SCHEMAS } from './helpers/cli.js';
import { checkKubeadmYaml, expectedKubeadmApiVersion } from './helpers/kubeadm-schema.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

const EXAMPLES = join(SCHEMAS, 'kubeadm', 'examples');
const example = (name: string) => readFileSync(`${EXAMPLES}/${name}`, 'utf8');

/** `text` with `value` set at `path` of document `doc` (yaml Document.setIn; missing parents become !!omap). */
function mutate(text: string, doc: number, path: (string | number)[], value: unknown): string {
  const docs = parseAllDocuments(text, { version: '1.1' });
  if (Array.isArray(docs)) {
    docs[doc]!.setIn(path, value);
    return docs.map((d) => d.toString()).join('');
  }
  throw new Error('unparseable example');
}

test('the v1beta4 init and join examples of kubeadm doc.go pass', (t) => {
  const init = checkKubeadmYaml(example('v1beta4-init-example.yaml'), { kubernetesVersion: 'v1.31.0' });
  t.deepEqual(init.errors, []);
  t.deepEqual(
    init.documents.map((d) => [d.kind, d.checked]),
    [['InitConfiguration', true], ['ClusterConfiguration', true], ['KubeletConfiguration', false], ['KubeProxyConfiguration', false]],
  );
  const join = checkKubeadmYaml(example('v1beta4-join-example.yaml'), { kubernetesVersion: 'v1.34.1' });
  t.deepEqual(join.errors, []);
  t.deepEqual(join.documents.map((d) => d.kind), ['JoinConfiguration']);
});

test('the v1beta3 example passes once its YAML-int kubeletExtraArgs value is quoted', (t) => {
  const verbatim = example('v1beta3-init-example.yaml');
  // doc.go's `v: 4` is an int where kubeadm's map[string]string needs a string (NOTES.md;
  // kubernetes/website#46756 quoted it); the checker must say exactly that, nothing else.
  t.deepEqual(checkKubeadmYaml(verbatim, { kubernetesVersion: 'v1.30.4' }).errors, [
    'doc0 InitConfiguration: nodeRegistration.kubeletExtraArgs.v: expected a string, got number 4 (quote it)',
  ]);
  const quoted = verbatim.replace('    v: 4\n', '    v: "4"\n');
  t.not(quoted, verbatim);
  t.deepEqual(checkKubeadmYaml(quoted, { kubernetesVersion: 'v1.30.4' }).errors, []);
});

test('unknown fields fail with their path, at any depth', (t) => {
  const base = example('v1beta4-init-example.yaml');
  const cases: [number, (string | number)[], unknown, string][] = [
    [0, ['certificatekey'], 'x', 'doc0 InitConfiguration: certificatekey: unknown field'],
    [0, ['nodeRegistration', 'nmae'], 'x', 'doc0 InitConfiguration: nodeRegistration.nmae: unknown field'],
    [0, ['bootstrapTokens', 0, 'tokne'], 'x', 'doc0 InitConfiguration: bootstrapTokens[0].tokne: unknown field'],
    [1, ['apiServer', 'timeoutForControlPlane'], '4m0s', 'doc1 ClusterConfiguration: apiServer.timeoutForControlPlane: unknown field'],
    [1, ['etcd', 'local', 'extraEnvs', 0, 'valueFrom'], { fieldRef: { fieldpath: 'x' } }, 'doc1 ClusterConfiguration: etcd.local.extraEnvs[0].valueFrom.fieldRef.fieldpath: unknown field'],
  ];
  for (const [doc, path, value, message] of cases) {
    const errors = checkKubeadmYaml(mutate(base, doc, path, value), { kubernetesVersion: 'v1.31.0' }).errors;
    t.is(errors.length, 1, message);
    t.true(errors[0]?.startsWith(message), `${errors[0]} should start with ${message}`);
  }
});

test('types, patterns, enums, formats and validation rules are enforced', (t) => {
  const init = example('v1beta4-init-example.yaml');
  const join = example('v1beta4-join-example.yaml');
  const cases: [string, string, RegExp][] = [
    [mutate(init, 0, ['bootstrapTokens', 0, 'token'], 'ABCDEF.0123456789abcdef'), 'v1.31.0', /bootstrapTokens\[0\]\.token: "ABCDEF.* does not match/],
    [mutate(init, 0, ['certificateKey'], 'abcd'), 'v1.31.0', /certificateKey: "abcd" does not match/],
    [mutate(init, 0, ['localAPIEndpoint', 'bindPort'], '6443'), 'v1.31.0', /localAPIEndpoint\.bindPort: expected an int32, got string/],
    [mutate(init, 0, ['localAPIEndpoint', 'advertiseAddress'], 'node1'), 'v1.31.0', /advertiseAddress: expected an IP address/],
    [mutate(init, 0, ['nodeRegistration', 'imagePullPolicy'], 'Sometimes'), 'v1.31.0', /imagePullPolicy: "Sometimes" is not one of/],
    [mutate(init, 0, ['nodeRegistration', 'kubeletExtraArgs'], { v: '5' }), 'v1.31.0', /kubeletExtraArgs: expected a list \(\[\]Arg\)/],
    [mutate(init, 0, ['timeouts', 'kubernetesAPICall'], '40 seconds'), 'v1.31.0', /timeouts\.kubernetesAPICall: expected a Go duration/],
    [mutate(init, 0, ['bootstrapTokens', 0, 'expires'], '2030-01-01T00:00:00Z'), 'v1.31.0', /bootstrapTokens\[0\]: ttl and expires are mutually exclusive/],
    [mutate(init, 0, ['bootstrapTokens', 1, 'usages'], ['signing']), 'v1.31.0', /bootstrapTokens\[1\]\.groups: groups need the usage/],
    [mutate(init, 1, ['controlPlaneEndpoint'], 'https://10.0.0.1:6443'), 'v1.31.0', /controlPlaneEndpoint: expected host\[:port\] .*, got "https:\/\/10\.0\.0\.1:6443"/],
    [mutate(init, 1, ['controlPlaneEndpoint'], '10.0.0.1:70000'), 'v1.31.0', /controlPlaneEndpoint: expected host\[:port\] .*port 1-65535\), got "10\.0\.0\.1:70000"/],
    [mutate(init, 1, ['etcd', 'external'], { httpEndpoints: ['http://10.0.0.1:2379'] }), 'v1.34.0', /etcd\.external\.httpEndpoints: needs kubeadm v1\.35/],
    [mutate(init, 1, ['dns', 'disabled'], 'yes'), 'v1.31.0', /dns\.disabled: expected a bool, got string/],
    [mutate(join, 0, ['discovery', 'bootstrapToken', 'unsafeSkipCAVerification'], false), 'v1.31.0', /discovery\.bootstrapToken\.caCertHashes: empty/],
    [mutate(join, 0, ['discovery', 'bootstrapToken', 'apiServerEndpoint'], 'fd00::1'), 'v1.31.0', /apiServerEndpoint: expected host:port/],
    [mutate(join, 0, ['discovery', 'file'], { kubeConfigPath: '/x' }), 'v1.31.0', /discovery: exactly one of bootstrapToken and file/],
    [mutate(join, 0, ['discovery', 'bootstrapToken', 'caCertHashes'], ['md5:00']), 'v1.31.0', /caCertHashes\[0\]: "md5:00" does not match/],
    [mutate(init, 1, ['etcd', 'local', 'extraEnvs', 0, 'valueFrom', 'fieldRef', 'fieldPath'], 'x'), 'v1.31.0', /valueFrom: expected an object \(corev1\.EnvVarSource\), got a Map/],
    [init.replace('kind: InitConfiguration', 'kind: InitConfiguration\nkind: JoinConfiguration'), 'v1.31.0', /\(yaml\): Map keys must be unique/],
  ];
  for (const [text, version, message] of cases) {
    const errors = checkKubeadmYaml(text, { kubernetesVersion: version }).errors;
    t.is(errors.length, 1, `${message}: ${errors.join('\n')}`);
    t.regex(errors[0] ?? '', message);
  }
  // the same httpEndpoints is fine for the release that added it
  t.deepEqual(checkKubeadmYaml(cases[11]![0], { kubernetesVersion: 'v1.35.0' }).errors, []);
});

test('the apiVersion must match the Kubernetes version and the kind must exist in it', (t) => {
  t.is(expectedKubeadmApiVersion('v1.31.0'), 'kubeadm.k8s.io/v1beta4');
  t.is(expectedKubeadmApiVersion('1.30.9'), 'kubeadm.k8s.io/v1beta3');
  t.is(expectedKubeadmApiVersion('v1.22.0'), 'kubeadm.k8s.io/v1beta3');
  t.throws(() => expectedKubeadmApiVersion('v1.21.0'));
  const v4 = checkKubeadmYaml(example('v1beta4-join-example.yaml'), { kubernetesVersion: 'v1.30.0' }).errors;
  t.deepEqual(v4, ['doc0 JoinConfiguration: apiVersion: kubeadm.k8s.io/v1beta4 is wrong for Kubernetes v1.30.0, expected kubeadm.k8s.io/v1beta3']);
  const reset = checkKubeadmYaml('apiVersion: kubeadm.k8s.io/v1beta3\nkind: ResetConfiguration\n').errors;
  t.regex(reset[0] ?? '', /kind: "ResetConfiguration" is not a kind of kubeadm.k8s.io\/v1beta3/);
  t.regex(checkKubeadmYaml('apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n').errors[0] ?? '', /unknown "kubeadm.k8s.io\/v1beta2"/);
});

test('k8s-ha\'s own kubeadm config passes, and fails with exactly the planted unknown field or wrong type', (t) => {
  const { plan } = loadProfile(join(ROOT, 'profiles/dual-stack.toml'), {});
  const init = renderCluster(plan, FIXTURE_SECRETS)[0]!.payload.files.find((f) => f.path === KUBEADM_CONFIG)!.content;
  const version = plan.kubernetes.version;
  t.deepEqual(checkKubeadmYaml(init, { kubernetesVersion: version }).errors, []);
  t.deepEqual(checkKubeadmYaml(mutate(init, 0, ['nodeRegistration', 'kubeletExtraArg'], []), { kubernetesVersion: version }).errors.map((e) => e.replace(/ \(.*/, '')), [
    'doc0 InitConfiguration: nodeRegistration.kubeletExtraArg: unknown field',
  ]);
  t.deepEqual(checkKubeadmYaml(mutate(init, 1, ['apiServer', 'certSANs'], 'fd00:30::10'), { kubernetesVersion: version }).errors, [
    'doc1 ClusterConfiguration: apiServer.certSANs: expected a list ([]string), got string "fd00:30::10"',
  ]);
});
