import test from 'ava';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BOOTSTRAP_SCRIPT, BOOTSTRAP_UNIT, SYSEXT_IMAGE } from '../src/components/bootstrap.js';
import { CA_CERT, CA_KEY, KUBEADM_CONFIG } from '../src/components/kubeadm.js';
import { decodeCloudInit, decodeIgnition } from '../src/formats/decode.js';
import type { NodeFile } from '../src/model.js';
import { ProblemError } from '../src/profile/errors.js';
import { parseProfile } from '../src/profile/load.js';
import { renderCluster, type RenderedNode } from '../src/render.js';
import { generateSecrets, type ClusterSecrets } from '../src/secrets/store.js';
import { checkKubeadmYaml, type KubeadmDocument } from './helpers/kubeadm-schema.js';
import { cloudInitCheck, ignitionCheck, runOk, requireTool, testDir } from './helpers/tools.js';
import { cli } from './helpers/cli.js';

const SHA512 = 'ab'.repeat(64);

/** A three-control-plane, two-worker profile with hooks and a sysext (TOML). */
function profile(version: string, extra = ''): string {
  return `name = "boot"
[vip]
addresses = ["198.18.0.10"]
port = 7443
interface = "eth0"
routerId = 77
[kubernetes]
version = "${version}"
tokenTTL = "2h"
preKubeadmCommands = ["modprobe br_netfilter", "echo \\"it's\\" >/run/k8s-ha-pre"]
postKubeadmCommands = ["touch /run/k8s-ha-post"]
sysext = { url = "https://extensions.example.test/kubernetes-${version}-x86-64.raw", sha512 = "${SHA512}" }
${extra}
[[nodes]]
name = "cp-1"
address = "198.18.0.11/24"
[[nodes]]
name = "cp-2"
address = "198.18.0.12/24"
[[nodes]]
name = "cp-3"
address = "198.18.0.13/24"
[[workers]]
name = "w-1"
address = "198.18.0.21/24"
mac = "52:54:00:00:00:21"
[[workers]]
name = "w-2"
address = "198.18.0.22/24"
`;
}

let shared: Promise<ClusterSecrets> | undefined;
const secrets = () => (shared ??= generateSecrets());

async function renderProfile(version: string, extra = ''): Promise<{ nodes: RenderedNode[]; codes: string[] }> {
  const loaded = parseProfile('boot.toml', profile(version, extra), {});
  return { nodes: renderCluster(loaded.plan, await secrets()), codes: loaded.warnings.map((w) => w.code) };
}

const byPath = (files: NodeFile[]) => Object.fromEntries(files.map((f) => [f.path, f]));
const kubeadmDocs = (r: RenderedNode, version: string): KubeadmDocument[] => {
  const check = checkKubeadmYaml(byPath(decodeCloudInit(r.userData))[KUBEADM_CONFIG]!.content, { kubernetesVersion: version });
  if (check.errors.length > 0) throw new Error(`${r.node.name}: ${check.errors.join('\n')}`);
  return check.documents;
};

for (const [version, apiVersion] of [
  ['v1.31.2', 'kubeadm.k8s.io/v1beta4'],
  ['v1.30.5', 'kubeadm.k8s.io/v1beta3'],
  ['v1.22.17', 'kubeadm.k8s.io/v1beta3'],
] as const) {
  test(`Kubernetes ${version}: every kubeadm document passes the strict check with the right kinds per role`, async (t) => {
    const { nodes } = await renderProfile(version);
    const s = await secrets();
    t.deepEqual(nodes.map((r) => [r.node.name, r.node.role]), [['cp-1', 'init'], ['cp-2', 'control-plane'], ['cp-3', 'control-plane'], ['w-1', 'worker'], ['w-2', 'worker']]);
    for (const r of nodes) {
      const docs = kubeadmDocs(r, version);
      t.true(docs.every((d) => d.apiVersion === apiVersion && d.checked), r.node.name);
      const data = docs.map((d) => d.data) as any[];
      if (r.node.role === 'init') {
        t.deepEqual(docs.map((d) => d.kind), ['InitConfiguration', 'ClusterConfiguration']);
        t.deepEqual(data[0].bootstrapTokens, [
          { token: s.bootstrapToken, description: 'k8s-ha bootstrap token of cluster boot', ttl: '2h', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] },
        ]);
        t.is(data[0].certificateKey, s.certificateKey);
        t.deepEqual(data[0].localAPIEndpoint, { advertiseAddress: '198.18.0.11', bindPort: 6443 });
        t.is(data[1].controlPlaneEndpoint, '198.18.0.10:7443');
        continue;
      }
      t.deepEqual(docs.map((d) => d.kind), ['JoinConfiguration'], r.node.name);
      t.deepEqual(data[0].discovery, { bootstrapToken: { apiServerEndpoint: '198.18.0.10:7443', token: s.bootstrapToken, caCertHashes: [s.caCertHash] } });
      if (r.node.role === 'control-plane') {
        t.deepEqual(data[0].controlPlane, { localAPIEndpoint: { advertiseAddress: r.node.address, bindPort: 6443 }, certificateKey: s.certificateKey });
        // kubeadm join < v1.23 refuses our non-empty manifests dir (kubernetes/kubeadm#2564)
        t.deepEqual(data[0].nodeRegistration.ignorePreflightErrors, version === 'v1.22.17' ? ['DirAvailable--etc-kubernetes-manifests'] : undefined);
      } else {
        t.false('controlPlane' in data[0], 'workers join without controlPlane');
      }
    }
  });
}

test('both formats carry the same files; CA only on the init node, HAProxy/keepalived not on workers', async (t) => {
  const { nodes } = await renderProfile('v1.31.2');
  const s = await secrets();
  for (const r of nodes) {
    const fromCloudInit = decodeCloudInit(r.userData);
    t.deepEqual(decodeIgnition(r.ignition), fromCloudInit, r.node.name);
    const files = byPath(fromCloudInit);
    t.is(files[KUBEADM_CONFIG]?.mode, 0o600);
    t.is(files[BOOTSTRAP_SCRIPT]?.mode, 0o700);
    if (r.node.role === 'init') {
      t.deepEqual([files[CA_CERT]?.mode, files[CA_KEY]?.mode], [0o644, 0o600]);
      t.is(files[CA_CERT]?.content, s.ca.certPem);
      t.is(files[CA_KEY]?.content, s.ca.keyPem);
    } else {
      t.is(files[CA_KEY], undefined, `${r.node.name} must not get the CA key`);
      t.is(files[CA_CERT], undefined);
    }
    const lb = Object.keys(files).filter((p) => /haproxy|keepalived/.test(p));
    t.is(lb.length > 0, r.node.role !== 'worker', `${r.node.name}: ${lb.join(', ')}`);
  }
});

test('the CA every joiner pins is the one on the init node (openssl pipeline on the rendered ca.crt)', async (t) => {
  if (!requireTool(t, 'openssl')) return; // inside the pipeline a missing openssl would only hash empty input
  const { nodes } = await renderProfile('v1.31.2');
  const caCrt = byPath(decodeIgnition(nodes[0]!.ignition))[CA_CERT]!.content;
  const out = runOk('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum'], { input: caCrt });
  const pinned = (kubeadmDocs(nodes[3]!, 'v1.31.2')[0]!.data as any).discovery.bootstrapToken.caCertHashes;
  t.deepEqual(pinned, [`sha256:${out.split(' ')[0]}`]);
});

test('bootstrap step: runcmd in user-data, enabled oneshot unit and verified sysext in Ignition; real validators accept both', async (t) => {
  const { nodes } = await renderProfile('v1.31.2');
  for (const r of [nodes[0]!, nodes[3]!]) {
    const schema = cloudInitCheck(r.userData);
    t.true(schema.ok, schema.output);
    const validate = ignitionCheck(r.ignition);
    t.true(validate.ok, validate.output);
    t.true(r.userData.includes(`runcmd:\n  - - ${BOOTSTRAP_SCRIPT}\n`));
    const cfg = JSON.parse(r.ignition);
    t.deepEqual(cfg.systemd.units.map((u: any) => [u.name, u.enabled]), [[BOOTSTRAP_UNIT, true]]);
    t.regex(cfg.systemd.units[0].contents, new RegExp(`ExecStart=${BOOTSTRAP_SCRIPT}`));
    const sysext = cfg.storage.files.find((f: any) => f.path === SYSEXT_IMAGE);
    t.deepEqual(sysext.contents, { compression: '', source: 'https://extensions.example.test/kubernetes-v1.31.2-x86-64.raw', verification: { hash: `sha512-${SHA512}` } });
    t.false(r.userData.includes('extensions.example.test'), 'cloud-init has no verified download: no sysext there');
    const script = byPath(decodeCloudInit(r.userData))[BOOTSTRAP_SCRIPT]!.content;
    t.true(script.includes(`run_hook pre 2 'echo "it'\\''s" >/run/k8s-ha-pre'`), 'hooks from the profile, numbered and quoted');
    t.is(script.includes('kubeadm init --config'), r.node.role === 'init');
    t.is(script.includes("prepull 'haproxy:2.8'"), r.node.role !== 'worker');
  }
});

test('unsafeSkipCAVerification = true drops the pin, passes the strict check and warns', async (t) => {
  const { nodes, codes } = await renderProfile('v1.31.2', 'unsafeSkipCAVerification = true');
  t.true(codes.includes('W106'));
  const bt = (kubeadmDocs(nodes[1]!, 'v1.31.2')[0]!.data as any).discovery.bootstrapToken;
  t.is(bt.unsafeSkipCAVerification, true);
  t.false('caCertHashes' in bt);
});

test('profile errors for the bootstrap fields name the field', (t) => {
  const cases: [string, string, RegExp][] = [
    ['tokenTTL = "2h"', 'tokenTTL = "1 day"', /error E014 at kubernetes\.tokenTTL: expected a Go duration/],
    ['"modprobe br_netfilter"', '"echo a\\nreboot"', /error E015 at kubernetes\.preKubeadmCommands\[0\]: expected one line of shell/],
    ['name = "w-2"', 'name = "cp-2"', /error E020 at workers\[1\]\.name: duplicate node name "cp-2" \(also nodes\.1\)/],
    [`sha512 = "${SHA512}"`, 'sha512 = "abc"', /error E014 at kubernetes\.sysext\.sha512: expected the SHA-512/],
    ['https://extensions', 'file:///extensions', /error E014 at kubernetes\.sysext\.url: expected an http\(s\) URL/],
  ];
  for (const [from, to, message] of cases) {
    const text = profile('v1.31.2');
    t.true(text.includes(from), from);
    const err = t.throws(() => parseProfile('boot.toml', text.replace(from, to), {}), { instanceOf: ProblemError });
    t.regex(err!.message, message);
  }
});

test('CLI render: secrets file and secret-bearing outputs 0600, stable, --rotate, --show-secrets, warning', async (t) => {
  const dir = testDir(t, 'k8s-ha-cli-');
  await writeFile(path.join(dir, 'boot.toml'), profile('v1.31.2'));
  const render = (...args: string[]) => cli(['render', 'boot.toml', '--out', 'out', ...args], { cwd: dir });
  const first = render();
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /created cluster secrets boot\.secrets\.json \(0600\)/);
  t.regex(first.stderr, /warning: the outputs hold cluster secrets/);
  const secretsFile = JSON.parse(await readFile(path.join(dir, 'boot.secrets.json'), 'utf8'));
  t.false(first.stdout.includes(secretsFile.bootstrapToken), 'no token without --show-secrets');
  t.false(first.stderr.includes(secretsFile.bootstrapToken));
  t.regex(first.stdout, /CA cert hash sha256:[0-9a-f]{64}/);
  const mode = async (p: string) => (await stat(path.join(dir, p))).mode & 0o777;
  t.is(await mode('boot.secrets.json'), 0o600);
  for (const node of ['cp-1', 'cp-2', 'w-1']) {
    t.is(await mode(`out/${node}/user-data`), 0o600);
    t.is(await mode(`out/${node}/config.ign`), 0o600);
  }
  const ign = () => readFile(path.join(dir, 'out/cp-2/config.ign'), 'utf8');
  const before = await ign();
  const again = render('--show-secrets');
  t.regex(again.stderr, /using cluster secrets from boot\.secrets\.json/);
  t.true(again.stdout.includes(`bootstrap token ${secretsFile.bootstrapToken}\ncertificate key ${secretsFile.certificateKey}\n`));
  t.is(await ign(), before, 'same profile and secrets: byte-identical output');
  const rotated = render('--rotate');
  t.regex(rotated.stderr, /rotated cluster secrets/);
  t.not(await ign(), before);
  t.not(JSON.parse(await readFile(path.join(dir, 'boot.secrets.json'), 'utf8')).bootstrapToken, secretsFile.bootstrapToken);
  const other = render('--secrets', 'elsewhere.json');
  t.is(other.code, 0, other.stderr);
  t.is(await mode('elsewhere.json'), 0o600);
  await writeFile(path.join(dir, 'broken.json'), '{}', { mode: 0o600 });
  const broken = render('--secrets', 'broken.json');
  t.is(broken.code, 1);
  t.regex(broken.stderr, /^broken\.json: error E060 at version: expected 1, got nothing/m);
});

test('two plans rendered in one process each get their own sysext download', async (t) => {
  const [a, b] = [await renderProfile('v1.31.2'), await renderProfile('v1.30.5')];
  for (const [{ nodes }, version] of [[a, 'v1.31.2'], [b, 'v1.30.5']] as const) {
    for (const r of nodes) t.regex(r.payload.downloads![0]!.url, new RegExp(`kubernetes-${version}-x86-64\\.raw$`), r.node.name);
  }
});
