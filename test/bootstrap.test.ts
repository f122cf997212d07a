import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { symlink } from 'node:fs/promises';
import {
  ADMIN_CONF,
  BOOTSTRAP_MARKER,
  BOOTSTRAP_SCRIPT,
  REFUSED_KEEPALIVED,
  bootstrapScript,
  bootstrapUnit,
  type BootstrapModel,
} from '../src/components/bootstrap.js';
import { ProblemError } from '../src/profile/errors.js';
import type { NodeRole } from '../src/model.js';
import { VRRP_PREFLIGHT } from '../src/components/vrrp-preflight.js';
import { isShellLine } from '../src/profile/values.js';
import { run, shellcheck, testDir, type RunResult } from './helpers/tools.js';

const CONFIG = '/etc/k8s-ha/kubeadm.yaml';
const IMAGES = ['haproxy:2.8', 'osixia/keepalived:2.0.20'];

function model(role: NodeRole, over: Partial<BootstrapModel> = {}): BootstrapModel {
  return {
    role,
    endpoint: '198.18.0.10:7443',
    kubeadmConfig: CONFIG,
    images: IMAGES,
    preKubeadmCommands: [],
    postKubeadmCommands: [],
    wait: { attempts: 5, intervalSeconds: 0 },
    ...over,
  };
}

/**
 * Stubs for the programs the script calls; each appends its argv to $K8S_HA_ROOT/calls.log.
 * kubeadm creates kubelet.conf like the real one (or exits $STUB_KUBEADM_RC); curl succeeds from
 * its $STUB_CURL_OK_AFTER-th call on; crictl exits $STUB_CRICTL_RC; logger stands in for the
 * journal and systemctl for systemd (the real ones would act on this machine).
 */
const STUBS: Record<string, string> = {
  kubeadm: `echo "kubeadm $*" >>"$K8S_HA_ROOT/calls.log"
[ "\${STUB_KUBEADM_RC:-0}" = 0 ] || exit "$STUB_KUBEADM_RC"
mkdir -p "$K8S_HA_ROOT/etc/kubernetes" && : >"$K8S_HA_ROOT/etc/kubernetes/kubelet.conf"`,
  kubelet: 'exit 0',
  curl: `n=$(($(cat "$K8S_HA_ROOT/curl.count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$K8S_HA_ROOT/curl.count"
echo "curl $*" >>"$K8S_HA_ROOT/calls.log"
[ "$n" -ge "\${STUB_CURL_OK_AFTER:-1}" ]`,
  crictl: `echo "crictl $*" >>"$K8S_HA_ROOT/calls.log"
exit "\${STUB_CRICTL_RC:-0}"`,
  logger: 'echo "logger $*" >>"$K8S_HA_ROOT/calls.log"',
  systemctl: 'echo "systemctl $*" >>"$K8S_HA_ROOT/calls.log"',
  kubectl: `n=$(($(cat "$K8S_HA_ROOT/kubectl.count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$K8S_HA_ROOT/kubectl.count"
echo "kubectl $*" >>"$K8S_HA_ROOT/calls.log"
[ "$n" -ge "\${STUB_KUBECTL_OK_AFTER:-1}" ]`,
};

interface Sandbox {
  root: string;
  /** Runs `script` as the node would, with the stubs first on PATH. */
  run(script: string, env?: Record<string, string>): Promise<RunResult>;
  /** Lines of calls.log other than logger's. */
  calls(): Promise<string[]>;
  /** Messages sent to logger. */
  logged(): Promise<string[]>;
}

/** A scratch node root with stubs in ROOT/bin and, unless `cri` is false, a listening containerd socket. */
async function sandbox(t: ExecutionContext, opts: { without?: string[]; cri?: boolean } = {}): Promise<Sandbox> {
  const root = testDir(t, 'k8s-ha-boot-');
  let server: Server | undefined;
  // Registered after testDir's: ava runs teardowns last-in first-out, so the socket closes first.
  t.teardown(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  await mkdir(path.join(root, 'bin'));
  for (const [name, body] of Object.entries(STUBS)) {
    if (opts.without?.includes(name)) continue;
    await writeFile(path.join(root, 'bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  if (opts.cri !== false) {
    await mkdir(path.join(root, 'run/containerd'), { recursive: true });
    const srv = createServer();
    server = srv;
    await new Promise<void>((resolve) => srv.listen(path.join(root, 'run/containerd/containerd.sock'), resolve));
  }
  const lines = async () => (await readFile(path.join(root, 'calls.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return {
    root,
    async run(script, env = {}) {
      const file = path.join(root, 'bootstrap.sh');
      await writeFile(file, script);
      await chmod(file, 0o700);
      return run(file, [], { env: { PATH: `${root}/bin:/usr/bin:/bin`, K8S_HA_ROOT: root, ...env } });
    },
    calls: async () => (await lines()).filter((l) => !l.startsWith('logger ')),
    logged: async () => (await lines()).filter((l) => l.startsWith('logger ')).map((l) => l.slice('logger '.length)),
  };
}

const marker = (s: Sandbox) => existsSync(path.join(s.root, BOOTSTRAP_MARKER));

test('the scripts of all roles pass sh -n and shellcheck', (t) => {
  const variants: [string, BootstrapModel][] = [
    ['init', model('init', { preKubeadmCommands: ['modprobe br_netfilter', `echo "it's" >/run/x`], postKubeadmCommands: ['true'] })],
    ['control-plane', model('control-plane', { endpoint: '[fd00::10]:7443' })],
    ['worker', model('worker', { endpoint: 'api.example.test:6443', images: [] })],
  ];
  for (const [name, m] of variants) {
    const syntax = run('sh', ['-n', '-c', bootstrapScript(m)]);
    t.is(syntax.code, 0, `${name}: ${syntax.stderr}`);
    const lint = shellcheck(bootstrapScript(m));
    t.true(lint.ok, `${name}: ${lint.output}`);
  }
});

test('init node: pre hooks first, pre-pulls, runs kubeadm init with --upload-certs, post hooks, leaves the marker', async (t) => {
  const s = await sandbox(t);
  const r = await s.run(
    bootstrapScript(model('init', { preKubeadmCommands: [`echo "pre it's" >>"$K8S_HA_ROOT/calls.log"`], postKubeadmCommands: ['echo post >>"$K8S_HA_ROOT/calls.log"'] })),
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  const sock = `unix://${s.root}/run/containerd/containerd.sock`;
  t.deepEqual(await s.calls(), [
    "pre it's",
    'systemctl enable kubelet.service',
    `crictl --runtime-endpoint ${sock} pull haproxy:2.8`,
    `crictl --runtime-endpoint ${sock} pull osixia/keepalived:2.0.20`,
    `kubeadm init --config ${s.root}${CONFIG} --upload-certs`,
    'post',
  ]);
  t.true(marker(s));
  t.regex(r.stdout, /k8s-ha: bootstrap done \(init\)/);
  const logged = await s.logged();
  t.true(logged.every((l) => l.startsWith('-t k8s-ha -- ')), 'journal lines carry the k8s-ha tag');
  t.true(logged.some((l) => l.includes('bootstrap done (init)')));
});

test('control-plane joiner: waits for healthz through the VIP, then kubeadm join', async (t) => {
  const s = await sandbox(t);
  const r = await s.run(bootstrapScript(model('control-plane', { endpoint: '[fd00::10]:7443' })), { STUB_CURL_OK_AFTER: '3' });
  t.is(r.code, 0, r.stdout + r.stderr);
  const curl = 'curl -gfsk --max-time 5 -o /dev/null https://[fd00::10]:7443/healthz';
  t.deepEqual((await s.calls()).filter((c) => !c.startsWith('crictl')), ['systemctl enable kubelet.service', curl, curl, curl, `kubeadm join --config ${s.root}${CONFIG}`]);
  t.is((await s.calls()).filter((c) => c.startsWith('crictl')).length, 2);
  t.regex(r.stdout, /waiting for the control plane at https:\/\/\[fd00::10\]:7443\/healthz \(attempt 2\/5\)/);
  t.true(marker(s));
});

test('worker: no image pre-pull, kubeadm join through the VIP', async (t) => {
  const s = await sandbox(t);
  const r = await s.run(bootstrapScript(model('worker')));
  t.is(r.code, 0, r.stdout + r.stderr);
  t.deepEqual(await s.calls(), ['systemctl enable kubelet.service', 'curl -gfsk --max-time 5 -o /dev/null https://198.18.0.10:7443/healthz', `kubeadm join --config ${s.root}${CONFIG}`]);
});

test('idempotent: a bootstrapped or initialised node is left alone', async (t) => {
  const s = await sandbox(t);
  const script = bootstrapScript(model('init'));
  t.is((await s.run(script)).code, 0);
  const before = await s.calls();
  const again = await s.run(script);
  t.is(again.code, 0);
  t.regex(again.stdout, /already bootstrapped .*nothing to do/);
  t.deepEqual(await s.calls(), before, 'second run calls nothing');
  // initialised by hand (kubelet.conf) but no marker: still nothing
  await rm(path.join(s.root, BOOTSTRAP_MARKER));
  const third = await s.run(script);
  t.is(third.code, 0);
  t.regex(third.stdout, /node already initialised .*kubelet\.conf exists\): nothing to do/);
  t.deepEqual(await s.calls(), before);
  t.false(marker(s), 'doing nothing means writing nothing either');
});

test('the wait loop gives up after the configured attempts with a clear message', async (t) => {
  const s = await sandbox(t);
  const r = await s.run(bootstrapScript(model('worker', { wait: { attempts: 3, intervalSeconds: 0 } })), { STUB_CURL_OK_AFTER: '100' });
  t.is(r.code, 1);
  t.regex(r.stdout, /ERROR: gave up waiting for the control plane at https:\/\/198\.18\.0\.10:7443\/healthz after 3 attempts 0s apart: check that the init node booted/);
  t.deepEqual((await s.calls()).filter((c) => !c.startsWith('systemctl')).length, 3, 'three curl calls, no kubeadm');
  t.false(marker(s));
});

test('missing prerequisites are all named and nothing runs', async (t) => {
  const s = await sandbox(t, { without: ['kubelet', 'kubeadm'], cri: false });
  // Only the stubs on PATH: a machine with kubeadm or kubelet in /usr/bin must not find them.
  const r = await s.run(bootstrapScript(model('init')), { PATH: `${s.root}/bin` });
  t.is(r.code, 1);
  t.regex(r.stdout, /ERROR: missing prerequisites: kubeadm kubelet CRI-socket\(\/run\/containerd\/containerd\.sock\|\/var\/run\/crio\/crio\.sock\)/);
  t.deepEqual(await s.calls(), []);
  const noCurl = await sandbox(t, { without: ['curl'] });
  // the real curl in /usr/bin would be found: hide it by running with the stubs only on PATH
  const r2 = await noCurl.run(bootstrapScript(model('worker')), { PATH: `${noCurl.root}/bin` });
  t.is(r2.code, 1);
  t.regex(r2.stdout, /missing prerequisites: curl \(/);
});

test('failures: an offline pre-pull is tolerated; a failing kubeadm or hook stops without marker', async (t) => {
  const offline = await sandbox(t);
  const r = await offline.run(bootstrapScript(model('init')), { STUB_CRICTL_RC: '1' });
  t.is(r.code, 0);
  t.regex(r.stdout, /warning: could not pre-pull haproxy:2\.8 \(offline\?\)/);
  t.true(marker(offline));

  const broken = await sandbox(t);
  const r2 = await broken.run(bootstrapScript(model('init', { postKubeadmCommands: ['echo post >>"$K8S_HA_ROOT/calls.log"'] })), { STUB_KUBEADM_RC: '3' });
  t.is(r2.code, 1);
  t.regex(r2.stdout, /ERROR: kubeadm init failed \(exit 3\).*kubeadm reset -f/);
  t.false((await broken.calls()).includes('post'));
  t.false(marker(broken));

  const hook = await sandbox(t);
  const r3 = await hook.run(bootstrapScript(model('worker', { preKubeadmCommands: ['exit 7'] })));
  t.is(r3.code, 1);
  t.regex(r3.stdout, /ERROR: pre-kubeadm hook 1 failed \(exit 7\)/);
  t.notRegex(r3.stdout, /exit 7\s*$/m, 'the hook text is not logged (it may carry credentials)');
  t.false((await hook.calls()).some((c) => c.startsWith('kubeadm')));
});

test('profile values cannot change the script: unsafe ones are refused, hooks arrive verbatim', (t) => {
  const bad: Partial<BootstrapModel>[] = [
    { endpoint: '198.18.0.10:7443\nreboot' },
    { endpoint: '$(reboot):7443' },
    { endpoint: 'fd00::1:7443' },
    { endpoint: '198.18.0.10:99999' },
    { kubeadmConfig: '/etc/k8s ha.yaml' },
    { images: ["haproxy:2.8' ; reboot '"] },
    { preKubeadmCommands: ['echo a\nreboot'] },
    { preKubeadmCommands: ['echo a\u2028reboot'] },
    { postKubeadmCommands: ['echo \u0085'] },
    { postKubeadmCommands: ['   '] },
    { wait: { attempts: 0, intervalSeconds: 1 } },
    { wait: { attempts: 1, intervalSeconds: 1.5 } },
  ];
  for (const over of bad) t.throws(() => bootstrapScript(model('init', over)), { instanceOf: ProblemError }, JSON.stringify(over));
  // any one-line hook reaches run_hook byte for byte, whatever quotes or $ it holds
  const shellish = fc.string({ unit: fc.constantFrom("'", '"', '$', '`', '\\', ' ', ';', '(', 'a', '\t'), minLength: 1 });
  const hooks = fc
    .oneof(shellish, fc.string({ unit: 'grapheme', minLength: 1 }))
    .filter(isShellLine);
  t.notThrows(() => fc.assert(
    fc.property(hooks, (hook) => {
      const script = bootstrapScript(model('init', { preKubeadmCommands: [hook] }));
      const line = script.split('\n').find((l) => l.startsWith('run_hook pre '))!;
      const out = run('sh', ['-c', `run_hook() { printf '%s' "$3"; }\n${line}`]);
      return out.code === 0 && out.stdout === hook;
    }),
    { numRuns: 150, examples: [["it's $(reboot) `id` \\ \"x\" ; exit 1"]] },
  ));
});

test('the Ignition unit runs the script once, after network and runtime, and systemd accepts it', async (t) => {
  const unit = bootstrapUnit();
  t.regex(unit, /^ConditionPathExists=!\/var\/lib\/k8s-ha\/bootstrap\.done$/m);
  t.regex(unit, /^After=network-online\.target .*containerd\.service/m);
  t.regex(unit, /^Type=oneshot$/m);
  t.regex(unit, new RegExp(`^ExecStart=${BOOTSTRAP_SCRIPT}$`, 'm'));
  t.regex(unit, /^WantedBy=multi-user\.target$/m);
  const dir = testDir(t, 'k8s-ha-unit-');
  // systemd-analyze checks that ExecStart exists: point it at a scratch copy of the script
  const script = path.join(dir, 'bootstrap.sh');
  await writeFile(script, bootstrapScript(model('init')), { mode: 0o700 });
  const file = path.join(dir, 'k8s-ha-bootstrap.service');
  await writeFile(file, unit.replace(`ExecStart=${BOOTSTRAP_SCRIPT}`, `ExecStart=${script}`));
  const r = run('systemd-analyze', ['verify', file]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '', 'no warnings');
});

/** The programs the script itself needs (sh for hooks, mkdir/dirname/date for the marker), on a PATH without any stub. */
async function toolsOnly(root: string): Promise<string> {
  const dir = path.join(root, 'tools');
  await mkdir(dir);
  for (const tool of ['sh', 'cp', 'chmod', 'mkdir', 'dirname', 'date', 'cat', 'sleep']) {
    const found = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((f) => existsSync(f));
    if (found) await symlink(found, path.join(dir, tool));
  }
  return dir;
}

test('pre hooks run before the prerequisite check: a hook that installs kubeadm and kubelet lets a bare node bootstrap', async (t) => {
  // A stock VM: no kubeadm, no kubelet on PATH; the hook installs them (here: the stubs).
  const s = await sandbox(t, { without: ['kubeadm', 'kubelet'] });
  await mkdir(path.join(s.root, 'stash'));
  for (const name of ['kubeadm', 'kubelet']) await writeFile(path.join(s.root, 'stash', name), `#!/bin/sh\n${STUBS[name]}\n`, { mode: 0o755 });
  const install = 'cp "$K8S_HA_ROOT/stash/kubeadm" "$K8S_HA_ROOT/stash/kubelet" "$K8S_HA_ROOT/bin/" && echo installed >>"$K8S_HA_ROOT/calls.log"';
  const tools = await toolsOnly(s.root);
  const r = await s.run(bootstrapScript(model('init', { preKubeadmCommands: [install] })), { PATH: `${s.root}/bin:${tools}` });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /pre-kubeadm hook 1\n(.*\n)*k8s-ha: prerequisites found: kubeadm, kubelet/);
  const calls = await s.calls();
  t.is(calls[0], 'installed', 'the hook ran first');
  t.true(calls.includes(`kubeadm init --config ${s.root}${CONFIG} --upload-certs`));
  t.true(marker(s));
  // Without the hook the same node stops at the check, naming what is missing.
  const bare = await sandbox(t, { without: ['kubeadm', 'kubelet'] });
  const r2 = await bare.run(bootstrapScript(model('init')), { PATH: `${bare.root}/bin:${await toolsOnly(bare.root)}` });
  t.is(r2.code, 1);
  t.regex(r2.stdout, /missing prerequisites: kubeadm kubelet \(install them: a preKubeadmCommands hook runs before this check/);
});

test('post hooks on control-plane nodes run with KUBECONFIG=admin.conf; a worker has none', async (t) => {
  const hook = 'echo "post KUBECONFIG=${KUBECONFIG:-unset}" >>"$K8S_HA_ROOT/calls.log"';
  for (const role of ['init', 'control-plane', 'worker'] as const) {
    const s = await sandbox(t);
    const r = await s.run(bootstrapScript(model(role, { postKubeadmCommands: [hook] })), { STUB_CURL_OK_AFTER: '1' });
    t.is(r.code, 0, r.stdout + r.stderr);
    const expected = role === 'worker' ? 'post KUBECONFIG=unset' : `post KUBECONFIG=${s.root}${ADMIN_CONF}`;
    t.is((await s.calls()).at(-1), expected, role);
  }
});

test('add-ons: applied once from the init node after kubeadm init, before the post hooks, with bounded retries and journal lines', async (t) => {
  const addons = [{ name: 'cni', source: 'https://example.test/cni.yaml' }, { name: 'local', source: '/etc/k8s-ha/addons/local.yaml' }];
  const s = await sandbox(t);
  const r = await s.run(
    bootstrapScript(model('init', { addons, addonRetry: { attempts: 3, intervalSeconds: 0 }, postKubeadmCommands: ['echo post >>"$K8S_HA_ROOT/calls.log"'] })),
    { STUB_KUBECTL_OK_AFTER: '2' },
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  const kubectl = (src: string) => `kubectl --kubeconfig ${s.root}/etc/kubernetes/admin.conf apply -f ${src}`;
  t.deepEqual((await s.calls()).slice(-5), [
    `kubeadm init --config ${s.root}${CONFIG} --upload-certs`,
    kubectl('https://example.test/cni.yaml'),
    kubectl('https://example.test/cni.yaml'),
    kubectl(`${s.root}/etc/k8s-ha/addons/local.yaml`),
    'post',
  ]);
  const logged = await s.logged();
  t.true(logged.some((l) => l.includes('add-on cni: kubectl apply failed (attempt 1/3), retrying in 0s')));
  t.true(logged.some((l) => l.includes('applied add-on cni (https://example.test/cni.yaml)')));
  t.true(marker(s));

  // Never succeeds: gives up after the tries, says exactly what to run, still marks kubeadm done, exits 1.
  const down = await sandbox(t);
  const r2 = await down.run(bootstrapScript(model('init', { addons: addons.slice(0, 1), addonRetry: { attempts: 2, intervalSeconds: 0 } })), { STUB_KUBECTL_OK_AFTER: '100' });
  t.is(r2.code, 1);
  t.regex(r2.stdout, /ERROR: add-on cni not applied after 2 attempts 0s apart; apply it yourself: kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf apply -f https:\/\/example\.test\/cni\.yaml/);
  t.regex(r2.stdout, /ERROR: add-ons not applied: cni/);
  t.is((await down.calls()).filter((c) => c.startsWith('kubectl')).length, 2);
  t.true(marker(down), 'kubeadm init is done: a rerun must not init again');

  // Other roles never apply add-ons, and only an init node with add-ons needs kubectl.
  for (const role of ['control-plane', 'worker'] as const) {
    const script = bootstrapScript(model(role, { addons }));
    t.false(script.includes('kubectl'), role);
  }
  const noKubectl = await sandbox(t, { without: ['kubectl', 'curl'] });
  const r3 = await noKubectl.run(bootstrapScript(model('init', { addons })), { PATH: `${noKubectl.root}/bin:${await toolsOnly(noKubectl.root)}` });
  t.is(r3.code, 1);
  t.regex(r3.stdout, /missing prerequisites: kubectl/);
  t.true(shellcheck(bootstrapScript(model('init', { addons, postKubeadmCommands: ['true'] }))).ok);
  t.throws(() => bootstrapScript(model('init', { addons: [{ name: 'x', source: 'relative/path.yaml' }] })), { instanceOf: ProblemError });
  t.throws(() => bootstrapScript(model('init', { addons: [{ name: 'Bad Name', source: 'https://example.test/a' }] })), { instanceOf: ProblemError });
});

test('caKey "deliver": the init node waits (bounded) for the CA key the user places, naming the file', async (t) => {
  const key = '"$K8S_HA_ROOT/etc/kubernetes/pki/ca.key"';
  const arrives = await sandbox(t);
  // The key arrives while the script runs (here: a pre hook stands in for the user's copy).
  const r = await arrives.run(bootstrapScript(model('init', { awaitCaKey: true, preKubeadmCommands: [`mkdir -p "$K8S_HA_ROOT/etc/kubernetes/pki" && echo KEY >${key}`] })));
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /cluster CA key found at .*\/etc\/kubernetes\/pki\/ca\.key/);
  t.true((await arrives.calls()).some((c) => c.startsWith('kubeadm init')));
  const never = await sandbox(t);
  const r2 = await never.run(bootstrapScript(model('init', { awaitCaKey: true, wait: { attempts: 2, intervalSeconds: 0 } })));
  t.is(r2.code, 1);
  t.regex(r2.stdout, /waiting for the cluster CA key: copy ca\.key \(k8s-ha render writes it beside the outputs\) to \/etc\/kubernetes\/pki\/ca\.key on this node, mode 0600 \(attempt 1\/2\)/);
  t.regex(r2.stdout, /ERROR: gave up waiting for the cluster CA key after 2 attempts 0s apart/);
  t.false((await never.calls()).some((c) => c.startsWith('kubeadm')), 'no kubeadm init without the key');
  t.false(bootstrapScript(model('control-plane', { awaitCaKey: true })).includes('CA_KEY'), 'only the init node waits');
  t.true(shellcheck(bootstrapScript(model('init', { awaitCaKey: true }))).ok);
});

test('VRRP preflight: a refusal moves the keepalived manifest out of kubelet\'s reach and stops before kubeadm; a pass goes on', async (t) => {
  const preflight = (s: Sandbox, body: string) => writeFile(path.join(s.root, VRRP_PREFLIGHT), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const manifest = (s: Sandbox) => path.join(s.root, '/etc/kubernetes/manifests/keepalived.yaml');
  const prepare = async (s: Sandbox) => {
    await mkdir(path.dirname(manifest(s)), { recursive: true });
    await mkdir(path.dirname(path.join(s.root, VRRP_PREFLIGHT)), { recursive: true });
    await writeFile(manifest(s), 'kind: Pod\n');
  };
  const refused = await sandbox(t);
  await prepare(refused);
  await preflight(refused, 'echo "COLLISION on eth0: advert from 198.18.0.250 with virtual_router_id 51" >&2; exit 1');
  const r = await refused.run(bootstrapScript(model('init', { vrrpPreflight: true })));
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stderr, /COLLISION on eth0: advert from 198\.18\.0\.250/);
  t.regex(r.stdout, /ERROR: VRRP preflight failed \(exit 1, .*\): keepalived not started, its manifest moved to \/etc\/k8s-ha\/keepalived\.yaml\.refused/);
  t.false(existsSync(manifest(refused)), 'nothing left under /etc/kubernetes/manifests that would start keepalived');
  t.true(existsSync(path.join(refused.root, REFUSED_KEEPALIVED)));
  t.false((await refused.calls()).some((c) => c.startsWith('kubeadm') || c.startsWith('crictl')), 'stops before the pre-pull and kubeadm');
  t.false(marker(refused));

  const passed = await sandbox(t);
  await prepare(passed);
  await preflight(passed, 'exit 0');
  const p = await passed.run(bootstrapScript(model('control-plane', { vrrpPreflight: true })));
  t.is(p.code, 0, p.stdout + p.stderr);
  t.regex(p.stdout, /VRRP preflight passed/);
  t.true(existsSync(manifest(passed)));
  t.true((await passed.calls()).some((c) => c.startsWith('kubeadm join')));

  // Workers run no keepalived: no preflight even when asked; and the script stays lint-clean.
  t.false(bootstrapScript(model('worker', { vrrpPreflight: true })).includes('PREFLIGHT'));
  t.true(shellcheck(bootstrapScript(model('init', { vrrpPreflight: true }))).ok);
});
