/**
 * The config-hash annotation on the keepalived and HAProxy static pods: kubelet restarts a
 * static pod only when its manifest changes, so each manifest carries a hash of the files it
 * mounts. It must change exactly when a mounted file changes (else a config change is never
 * applied, or a pod restarts for nothing), and it must be deterministic.
 */
import test from 'ava';
import { parse } from 'yaml';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CONFIG_HASH_ANNOTATION, configHash, filesUnder } from '../src/components/static-pods.js';
import { parseProfile, renderNodes, type NodeFile, type Plan } from '../src/index.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

/** profiles/seed.toml as a plain object, to mutate. */
function seed(): Record<string, any> {
  return {
    name: 'seed',
    vip: { addresses: ['172.16.100.100', '172.16.100.101'], port: 7443, interface: 'eth0', routerId: 51 },
    keepalived: { authPass: 'pass', advertInterval: 1, image: 'osixia/keepalived:2.0.20' },
    haproxy: { image: 'haproxy:2.8' },
    kubernetes: { version: 'v1.31.2', apiServerPort: 6443, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' },
    nodes: [
      { name: 'k8s-cp-1', address: '172.16.217.171/16' },
      { name: 'k8s-cp-2', address: '172.16.217.172/16' },
      { name: 'k8s-cp-3', address: '172.16.217.173/16' },
    ],
  };
}

function plan(profile: Record<string, any>): Plan {
  const r = parseProfile(profile, { env: {} });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

/** Per node name: its files by path. */
function filesOf(p: Plan): Map<string, Map<string, NodeFile>> {
  return new Map(renderNodes(p, FIXTURE_SECRETS).map((r) => [r.node.name, new Map(r.payload.files.map((f) => [f.path, f]))]));
}

/** The static pods among a node's files, parsed: manifest path -> Pod. */
function pods(files: Map<string, NodeFile>): Map<string, Pod> {
  return new Map([...files.values()].filter((f) => f.path.startsWith('/etc/kubernetes/manifests/')).map((f) => [f.path, parse(f.content) as Pod]));
}

/** The host directories a pod mounts (its hostPath volumes), read from the manifest itself. */
function mountedDirs(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.hostPath ? [v.hostPath.path] : []));
}

/** Whether any file under the pod's mounted directories differs (added, removed, content, mode). */
function mountedChanged(pod: Pod, a: Map<string, NodeFile>, b: Map<string, NodeFile>): boolean {
  const under = (p: string) => mountedDirs(pod).some((d) => p.startsWith(`${d}/`));
  const paths = new Set([...a.keys(), ...b.keys()].filter(under));
  return [...paths].some((p) => a.get(p)?.content !== b.get(p)?.content || a.get(p)?.mode !== b.get(p)?.mode);
}

const hashOf = (pod: Pod) => pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];

test('every control-plane node has both static pods, each annotated with the hash of exactly the files under its hostPath mounts', (t) => {
  const p = plan(seed());
  for (const [name, files] of filesOf(p)) {
    const ps = pods(files);
    t.deepEqual([...ps.keys()].sort(), ['/etc/kubernetes/manifests/haproxy.yaml', '/etc/kubernetes/manifests/keepalived.yaml'], name);
    for (const [path, pod] of ps) {
      const [dir] = mountedDirs(pod);
      const mounted = filesUnder(dir!, [...files.values()]);
      t.true(mounted.length > 0, `${name} ${path}: mounts ${dir}, which holds files`);
      t.regex(hashOf(pod) ?? '', /^sha256:[0-9a-f]{64}$/, `${name} ${path}`);
      t.is(hashOf(pod), configHash(mounted), `${name} ${path}`);
    }
    t.deepEqual(
      filesUnder('/etc/keepalived', [...files.values()]).map((f) => f.path).sort(),
      ['/etc/keepalived/check_apiserver.sh', '/etc/keepalived/keepalived.conf', '/etc/keepalived/vip-watch.sh'],
      'keepalived mounts its config, its check script and the VIP watch script',
    );
  }
});

test('a worker gets no static pod', (t) => {
  const profile = seed();
  profile.workers = [{ name: 'w0', address: '198.18.0.10' }];
  t.is(pods(filesOf(plan(profile)).get('w0')!).size, 0);
});

test('configHash: deterministic, independent of order, sensitive to path, mode and content, and unambiguous', (t) => {
  const a = { path: '/etc/x/a', mode: 0o644, content: 'one\n' };
  const b = { path: '/etc/x/b', mode: 0o755, content: 'two\n' };
  t.is(configHash([a, b]), configHash([b, a]));
  t.is(configHash([a, b]), configHash([{ ...a }, { ...b }]));
  t.not(configHash([a, b]), configHash([a, { ...b, content: 'two \n' }]));
  t.not(configHash([a, b]), configHash([a, { ...b, mode: 0o644 }]));
  t.not(configHash([a, b]), configHash([a, { ...b, path: '/etc/x/c' }]));
  t.not(configHash([a, b]), configHash([a]));
  // Moving bytes between fields or files must not give the same hash.
  t.not(configHash([{ path: '/a', mode: 0o644, content: 'bc' }]), configHash([{ path: '/ab', mode: 0o644, content: 'c' }]));
  t.not(configHash([{ path: '/a', mode: 0o644, content: '' }, { path: '/b', mode: 0o644, content: '' }]), configHash([{ path: '/a', mode: 0o644, content: '4:/b3:644' }]));
  // sha256 of the length-prefixed fields, as documented: pin one value so the scheme cannot drift silently.
  t.is(configHash([]), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('the same profile and secrets give byte-identical manifests', (t) => {
  const one = filesOf(plan(seed()));
  const two = filesOf(plan(seed()));
  for (const [name, files] of one) for (const [path, f] of pods(files)) t.deepEqual(f, pods(two.get(name)!).get(path), `${name} ${path}`);
});

/** Changes to profiles/seed.toml and the pods whose config each must change on every node that has it. */
const CHANGES: { what: string; change: (p: Record<string, any>) => void; restarts: ('haproxy' | 'keepalived')[] }[] = [
  { what: 'HAProxy check interval', change: (p) => (p.haproxy.checkInterval = 500), restarts: ['haproxy'] },
  { what: 'HAProxy idle timeout', change: (p) => (p.haproxy.idleTimeout = 60), restarts: ['haproxy'] },
  { what: 'VRRP advert_int', change: (p) => (p.keepalived.advertInterval = 2), restarts: ['keepalived'] },
  { what: 'VRRP password', change: (p) => (p.keepalived.authPass = 'other'), restarts: ['keepalived'] },
  { what: 'track script timing', change: (p) => (p.keepalived.check = { fall: 3 }), restarts: ['keepalived'] },
  { what: 'check script timeout (curl --max-time)', change: (p) => (p.keepalived.check = { timeout: 3 }), restarts: ['keepalived'] },
  { what: 'LB port', change: (p) => (p.vip.port = 8443), restarts: ['haproxy', 'keepalived'] },
  { what: 'a fourth control-plane node', change: (p) => p.nodes.push({ name: 'k8s-cp-4', address: '172.16.217.174/16' }), restarts: ['haproxy', 'keepalived'] },
  { what: 'a control-plane node replaced under a new name and address', change: (p) => (p.nodes[2] = { name: 'k8s-cp-9', address: '172.16.217.179/16' }), restarts: ['haproxy', 'keepalived'] },
  { what: 'the Kubernetes version', change: (p) => (p.kubernetes.version = 'v1.31.3'), restarts: [] },
  { what: 'a worker added', change: (p) => (p.workers = [{ name: 'w0', address: '198.18.0.10' }]), restarts: [] },
  { what: 'the HAProxy image', change: (p) => (p.haproxy.image = 'haproxy:2.9'), restarts: [] },
];

for (const c of CHANGES) {
  test(`${c.what}: the config hash changes exactly where a mounted file changed`, (t) => {
    const before = filesOf(plan(seed()));
    const profile = seed();
    c.change(profile);
    const after = filesOf(plan(profile));
    let compared = 0;
    for (const [name, b] of before) {
      const a = after.get(name);
      if (a === undefined) continue; // a removed node
      for (const [path, oldPod] of pods(b)) {
        const newPod = pods(a).get(path)!;
        const changed = mountedChanged(oldPod, b, a);
        t.is(hashOf(oldPod) !== hashOf(newPod), changed, `${name} ${path}: mounted files ${changed ? 'changed' : 'unchanged'}`);
        const pod = path.endsWith('/haproxy.yaml') ? 'haproxy' : 'keepalived';
        // Ties the generic check to what an operator expects of this change.
        t.is(changed, c.restarts.includes(pod), `${name} ${pod}: expected ${c.restarts.includes(pod) ? 'a' : 'no'} change of its mounted config`);
        compared++;
      }
    }
    t.true(compared >= 4, 'compared the pods of the nodes present before and after');
  });
}
