/**
 * `k8s-ha rollout PROFILE --against DIR`: the order of the steps (removed nodes first, the VIP
 * holder last among the updates, new nodes last) and the per-node update scripts: shellcheck
 * clean, run for real (dash and busybox sh) against a temporary root twice (idempotent), with
 * atomic replacement, and refusing to run on a VIP holder unless it is the last step (inside
 * a network namespace that has the VIP).
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeCloudInit } from '../src/formats/decode.js';
import { parseProfile, planRolloutAgainst, ProblemError, renderNodes, type NodeFile, type Plan, type Rollout, type RolloutPlan } from '../src/index.js';
import { cli, ROOT } from './helpers/cli.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import { Netns, requireTool, run, shellcheck, testDir } from './helpers/tools.js';
import { checkScript } from '../src/components/keepalived.js';
import { canSteer, drainSeconds, steerRuleset, updateScript } from '../src/day2/script.js';
import { CP4, rendered, S, SEED, WITHOUT_CP3, WORKER } from './helpers/day2.js';

const TIMING = SEED.replace('image = "haproxy:2.8"', 'image = "haproxy:2.8"\ncheckInterval = 500');


function planOf(text: string): Plan {
  const r = parseProfile(text, { format: 'toml', env: {} });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

const order = (p: RolloutPlan) => p.steps.map((s) => `${s.action} ${s.node}${s.holder ? ' (holder)' : ''}`);

test('order: updates in ascending priority with the assumed holder last, then the new node; --holder moves the holder last', async (t) => {
  const dir = rendered(t);
  const out = join(dir, 'out');
  const grow = await planRolloutAgainst(planOf(SEED + CP4), FIXTURE_SECRETS, out);
  t.deepEqual(order(grow.plan), ['update k8s-cp-3', 'update k8s-cp-2', 'update k8s-cp-1 (holder)', 'provision k8s-cp-4']);
  t.deepEqual(grow.plan.holder, { node: 'k8s-cp-1', source: 'assumed' });
  t.deepEqual(grow.scripts.map((s) => s.name), ['update-k8s-cp-3.sh', 'update-k8s-cp-2.sh', 'update-k8s-cp-1.sh']);
  t.true(grow.scripts.every((s) => s.mode === 0o700));
  // The VRRP preflight lists every control-plane address, so a fourth node changes it on all
  // three; it runs before keepalived's first start only, so nothing copies it to a running node.
  const preflight = '/etc/k8s-ha/vrrp-preflight.sh';
  t.deepEqual(grow.plan.firstBootOnly, [
    { node: 'k8s-cp-1', paths: ['/etc/k8s-ha/kubeadm.yaml', preflight] },
    { node: 'k8s-cp-2', paths: [preflight] },
    { node: 'k8s-cp-3', paths: [preflight] },
  ]);
  // the new node's apiserver is not up during the updates: the scripts must not wait for it
  t.false(grow.scripts.some((s) => s.content.includes('172.16.217.174:6443')));
  t.true(grow.scripts.every((s) => s.content.includes('172.16.217.173:6443')));

  const given = await planRolloutAgainst(planOf(SEED + CP4), FIXTURE_SECRETS, out, { holder: 'k8s-cp-2' });
  t.deepEqual(order(given.plan), ['update k8s-cp-3', 'update k8s-cp-1', 'update k8s-cp-2 (holder)', 'provision k8s-cp-4']);
  t.regex(given.scripts.find((s) => s.name === 'update-k8s-cp-2.sh')!.content, /^last=1$/m);
  t.regex(given.scripts.find((s) => s.name === 'update-k8s-cp-1.sh')!.content, /^last=0$/m);

  const shrink = await planRolloutAgainst(planOf(WITHOUT_CP3), FIXTURE_SECRETS, out);
  t.deepEqual(order(shrink.plan), ['remove k8s-cp-3', 'update k8s-cp-2', 'update k8s-cp-1 (holder)']);
  t.regex(shrink.plan.steps[0]!.notes.join('\n'), /kubeadm reset[\s\S]*etcdctl member remove/);

  const worker = await planRolloutAgainst(planOf(SEED + WORKER), FIXTURE_SECRETS, out);
  t.deepEqual(order(worker.plan), ['provision w-1'], 'a worker changes nothing on the running nodes');
  t.is(worker.plan.holder, null);

  const none = await planRolloutAgainst(planOf(SEED), FIXTURE_SECRETS, out);
  t.deepEqual(none.plan.steps, []);
});

test('--replaced: a dead node under the same name is taken out first and provisioned last, never updated; never the init node', async (t) => {
  const dir = rendered(t);
  const out = join(dir, 'out');
  const same = await planRolloutAgainst(planOf(SEED), FIXTURE_SECRETS, out, { replaced: ['k8s-cp-3'] });
  t.deepEqual(order(same.plan), ['remove k8s-cp-3', 'provision k8s-cp-3']);
  t.regex(same.plan.steps[0]!.notes.join('\n'), /etcdctl member remove[\s\S]*bootstrap\.done/);
  t.deepEqual(same.scripts, []);
  const changed = await planRolloutAgainst(planOf(TIMING), FIXTURE_SECRETS, out, { replaced: ['k8s-cp-3'] });
  t.deepEqual(order(changed.plan), ['remove k8s-cp-3', 'update k8s-cp-2', 'update k8s-cp-1 (holder)', 'provision k8s-cp-3']);
  t.false(changed.scripts.some((s) => s.content.includes('172.16.217.173:6443')), 'the dead apiserver is not waited for');
  await t.throwsAsync(planRolloutAgainst(planOf(SEED), FIXTURE_SECRETS, out, { replaced: ['k8s-cp-1'] }), { instanceOf: ProblemError, message: /init node, whose first boot runs kubeadm init/ });
  await t.throwsAsync(planRolloutAgainst(planOf(SEED), FIXTURE_SECRETS, out, { replaced: ['k8s-cp-9'] }), { instanceOf: ProblemError, message: /not a node of both/ });
});

test('CLI: text plan and scripts written, exit 3; --json is the plan; no change exits 0; a bad --holder exits 1', (t) => {
  const dir = rendered(t);
  writeFileSync(join(dir, 'new.toml'), TIMING);
  const r = cli(['rollout', 'new.toml', '--against', 'out', '--out', 'roll', ...S], { cwd: dir });
  t.is(r.code, 3, r.stderr);
  t.regex(r.stdout, /^step 1: update k8s-cp-3 \(172\.16\.217\.173\)$/m);
  t.regex(r.stdout, /^step 3: update k8s-cp-1 \(172\.16\.217\.171\) \[VIP holder\]$/m);
  t.regex(r.stdout, /run: ssh root@172\.16\.217\.173 sh -s < roll\/update-k8s-cp-3\.sh/);
  t.deepEqual(readdirSync(join(dir, 'roll')).sort(), ['rollout.json', 'update-k8s-cp-1.sh', 'update-k8s-cp-2.sh', 'update-k8s-cp-3.sh']);
  t.is(statSync(join(dir, 'roll', 'update-k8s-cp-1.sh')).mode & 0o777, 0o700);
  const json = cli(['rollout', 'new.toml', '--against', 'out', '--out', 'roll', '--json', ...S], { cwd: dir });
  t.is(json.code, 3, json.stderr);
  t.deepEqual(JSON.parse(json.stdout), JSON.parse(readFileSync(join(dir, 'roll', 'rollout.json'), 'utf8')));
  t.deepEqual((JSON.parse(json.stdout) as RolloutPlan).steps[0]!.restarts, ['haproxy'], 'HAProxy timing restarts HAProxy only');
  const same = cli(['rollout', 'old.toml', '--against', 'out', '--out', 'roll2', ...S], { cwd: dir });
  t.is(same.code, 0, same.stderr);
  t.regex(same.stdout, /nothing to do/);
  const bad = cli(['rollout', 'new.toml', '--against', 'out', '--out', 'roll3', '--holder', 'nope', ...S], { cwd: dir });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /error E073 at --holder: nope is not a running control-plane node.*\n {2}hint: name one of: k8s-cp-1, k8s-cp-2, k8s-cp-3/);
});

/** The files a node got from the old render, and its new files, as the test needs them. */
async function scenario(t: ExecutionContext, profile: string): Promise<{ dir: string; rollout: Rollout; oldFiles: (node: string) => NodeFile[]; newFiles: (node: string) => NodeFile[] }> {
  const dir = rendered(t);
  const plan = planOf(profile);
  const rollout = await planRolloutAgainst(plan, FIXTURE_SECRETS, join(dir, 'out'));
  const fresh = new Map(renderNodes(plan, FIXTURE_SECRETS).map((r) => [r.node.name, r.payload.files]));
  return {
    dir,
    rollout,
    oldFiles: (node) => decodeCloudInit(readFileSync(join(dir, 'out', node, 'user-data'), 'utf8')),
    newFiles: (node) => fresh.get(node)!,
  };
}

/** Writes `files` under `root` as a node has them. */
function install(root: string, files: NodeFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content, { mode: f.mode });
  }
}

const LIVE = /^\/etc\/(haproxy|keepalived|kubernetes\/manifests)\//;

/** Every file under `dir`, relative path -> content. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = join(rel, d.name);
      if (d.isDirectory()) walk(p);
      else out.set(`/${p}`, readFileSync(join(dir, p), 'utf8'));
    }
  };
  walk('');
  return out;
}

test('update scripts are shellcheck-clean', async (t) => {
  if (!requireTool(t, 'shellcheck')) return;
  const { rollout } = await scenario(t, SEED + CP4);
  t.is(rollout.scripts.length, 3);
  for (const s of rollout.scripts) {
    const r = shellcheck(s.content);
    t.true(r.ok, `${s.name}: ${r.output}`);
  }
});

for (const shell of [['sh'], ['busybox', 'sh']]) {
  test(`${shell.join(' ')}: the update script brings a node's files to the new render, atomically, and a second run changes nothing`, async (t) => {
    if (!requireTool(t, shell[0]!)) return;
    const { dir, rollout, oldFiles, newFiles } = await scenario(t, SEED + CP4);
    const ns = new Netns();
    t.teardown(() => ns.close());
    const script = rollout.scripts.find((s) => s.name === 'update-k8s-cp-2.sh')!;
    writeFileSync(join(dir, script.name), script.content, { mode: 0o700 });
    const root = join(dir, 'root');
    install(root, oldFiles('k8s-cp-2'));
    // A second name for the old haproxy.cfg: an atomic replacement leaves it the old file.
    linkSync(join(root, 'etc/haproxy/haproxy.cfg'), join(dir, 'old-haproxy.cfg'));
    const before = readFileSync(join(dir, 'old-haproxy.cfg'), 'utf8');
    const exec = () => run('ip', ['netns', 'exec', ns.name, 'env', `K8S_HA_ROOT=${root}`, 'K8S_HA_WAIT=0', ...shell, join(dir, script.name)]);

    const first = exec();
    t.is(first.code, 0, first.stderr);
    t.regex(first.stderr, /updated \/etc\/haproxy\/haproxy\.cfg/);
    const want = newFiles('k8s-cp-2');
    for (const f of want.filter((x) => LIVE.test(x.path))) {
      t.is(readFileSync(join(root, f.path), 'utf8'), f.content, f.path);
      t.is(statSync(join(root, f.path)).mode & 0o777, f.mode, `${f.path} mode`);
    }
    // first-boot files are left as they were
    for (const f of oldFiles('k8s-cp-2').filter((x) => !LIVE.test(x.path))) t.is(readFileSync(join(root, f.path), 'utf8'), f.content, f.path);
    t.is(readFileSync(join(dir, 'old-haproxy.cfg'), 'utf8'), before, 'the old file was replaced by rename, not rewritten in place');
    t.false([...tree(root).keys()].some((p) => p.includes('.k8s-ha.')), 'no temporary file is left');

    const snapshot = tree(root);
    const mtimes = [...snapshot.keys()].map((p) => statSync(join(root, p)).mtimeMs);
    const second = exec();
    t.is(second.code, 0, second.stderr);
    t.notRegex(second.stderr, /updated/);
    t.is((second.stderr.match(/unchanged /g) ?? []).length, 5, second.stderr);
    t.deepEqual(tree(root), snapshot);
    t.deepEqual([...snapshot.keys()].map((p) => statSync(join(root, p)).mtimeMs), mtimes, 'a second run touches no file');
  });
}

test('on a node holding the VIP, a step that is not the last refuses and writes nothing; the last step drains the VIP (keepalived keeps running) and completes', async (t) => {
  const { dir, rollout, oldFiles, newFiles } = await scenario(t, TIMING);
  const ns = new Netns();
  t.teardown(() => ns.close());
  run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
  const added = run('ip', ['-n', ns.name, 'addr', 'add', '172.16.100.100/32', 'dev', 'lo']);
  t.is(added.code, 0, added.stderr);
  const go = (name: string, root: string) => {
    const s = rollout.scripts.find((x) => x.name === name)!;
    writeFileSync(join(dir, name), s.content, { mode: 0o700 });
    return run('ip', ['netns', 'exec', ns.name, 'env', `K8S_HA_ROOT=${root}`, 'K8S_HA_WAIT=0', 'sh', join(dir, name)]);
  };
  const first = join(dir, 'root-cp3');
  install(first, oldFiles('k8s-cp-3'));
  const snapshot = tree(first);
  const refused = go('update-k8s-cp-3.sh', first);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /holds a VIP: update the other nodes first/);
  t.deepEqual(tree(first), snapshot, 'nothing written');

  const last = join(dir, 'root-cp1');
  install(last, oldFiles('k8s-cp-1'));
  const ok = go('update-k8s-cp-1.sh', last);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /holds a VIP: draining[\s\S]*not waiting for the VIP to move[\s\S]*updated \/etc\/haproxy\/haproxy\.cfg[\s\S]*removed the drain file \/etc\/keepalived\/k8s-ha-drain/);
  t.notRegex(ok.stderr, /removed \/etc\/kubernetes\/manifests\/keepalived\.yaml/, 'keepalived keeps running: the drain moves the VIP');
  for (const f of newFiles('k8s-cp-1').filter((x) => LIVE.test(x.path))) t.is(readFileSync(join(last, f.path), 'utf8'), f.content, f.path);
  t.false(existsSync(join(last, 'etc/keepalived/k8s-ha-drain')), 'undrained at the end');

  // A drain file left by a run that failed is removed by the next run, which changes nothing else.
  writeFileSync(join(last, 'etc/keepalived/k8s-ha-drain'), '');
  const again = go('update-k8s-cp-1.sh', last);
  t.is(again.code, 0, again.stderr);
  t.notRegex(again.stderr, /draining|updated/);
  t.regex(again.stderr, /removed the drain file/);
  t.false(existsSync(join(last, 'etc/keepalived/k8s-ha-drain')));
});

test('the drain bound follows the profile: fall x interval + check timeout + 3 x advert_int + skew, doubled', (t) => {
  const plan = planOf(SEED);
  const k = plan.keepalived;
  t.is(drainSeconds(plan), Math.max(10, Math.ceil(2 * (k.track.fall * k.track.interval + k.track.timeout + 1 + 3 * k.advertInterval + 1))));
  const slow = { ...plan, keepalived: { ...k, advertInterval: 10 } };
  t.true(drainSeconds(slow) >= 2 * (3 * 10 + 1));
});

test('a holder whose check script changes (one rendered before the drain existed) gets the new one before the drain starts', (t) => {
  const plan = planOf(SEED);
  const node = plan.nodes[0]!;
  const check = checkScript(plan);
  const cfg = { path: '/etc/haproxy/haproxy.cfg', mode: 0o644, content: 'global\n' };
  const script = updateScript(plan, node, { step: 1, of: 1, last: true, writes: [cfg, check], deletes: [], restarts: ['haproxy'] });
  const putCheck = script.indexOf("put '/etc/keepalived/check_apiserver.sh'");
  const drain = script.indexOf(': > "$root$drain"');
  t.true(putCheck > 0 && drain > putCheck, script);
  t.true(script.indexOf("put '/etc/haproxy/haproxy.cfg'") > drain, 'other files after the drain');
});

test('check_apiserver.sh fails while the drain file exists, before it asks HAProxy', (t) => {
  const script = checkScript(planOf(SEED));
  const lines = script.content.split('\n');
  const drain = lines.findIndex((l) => l === 'if [ -e /etc/keepalived/k8s-ha-drain ]; then exit 1; fi');
  t.true(drain > 0, script.content);
  t.true(drain < lines.findIndex((l) => l.startsWith('exec curl')));
});

/**
 * Starts `openssl s_server -www` (answers 200 to any HTTPS GET) on each `host:port` inside the
 * namespace, with a throwaway self-signed certificate; every server is stopped at teardown.
 */
async function httpsServers(t: ExecutionContext, ns: Netns, dir: string, endpoints: string[]): Promise<void> {
  const key = join(dir, 'tls.key');
  const cert = join(dir, 'tls.crt');
  const made = run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=k8s-ha-test']);
  t.is(made.code, 0, made.stderr);
  for (const ep of endpoints) {
    const child = spawn('ip', ['netns', 'exec', ns.name, 'openssl', 's_server', '-quiet', '-www', '-accept', ep, '-cert', cert, '-key', key], { stdio: 'ignore' });
    t.teardown(() => {
      child.kill('SIGKILL');
    });
  }
  // until every one accepts connections
  for (let i = 0; i < 50; i++) {
    if (endpoints.every((ep) => run('ip', ['netns', 'exec', ns.name, 'curl', '--silent', '--fail', '--insecure', '--max-time', '2', '--output', '/dev/null', `https://${ep}/`]).code === 0)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.fail(`HTTPS test servers did not start on ${endpoints.join(', ')}`);
}

/**
 * A node of the TIMING rollout with everything its script waits for: a namespace holding the
 * three node addresses, HTTPS servers for the local frontend and the apiservers, a crictl on
 * PATH, the script of `node` written out, `node`'s old files under `root`, and the env for it.
 */
async function waitingNode(t: ExecutionContext, node: string) {
  const { dir, rollout, oldFiles, newFiles } = await scenario(t, TIMING);
  const ns = new Netns();
  t.teardown(() => ns.close());
  run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
  for (const a of ['172.16.217.171', '172.16.217.172', '172.16.217.173']) t.is(run('ip', ['-n', ns.name, 'addr', 'add', `${a}/32`, 'dev', 'lo']).code, 0);
  await httpsServers(t, ns, dir, ['127.0.0.1:7443', '172.16.217.171:6443', '172.16.217.172:6443', '172.16.217.173:6443']);
  // crictl (not installed here) stands in for kubelet + the runtime: a pod sandbox carries its
  // pod's annotations, i.e. those of the manifest in place; this one prints the manifests.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'crictl'), '#!/bin/sh\ncat "$K8S_HA_ROOT"/etc/kubernetes/manifests/*.yaml 2>/dev/null\n', { mode: 0o755 });
  const script = rollout.scripts.find((s) => s.name === `update-${node}.sh`)!;
  writeFileSync(join(dir, script.name), script.content, { mode: 0o700 });
  const root = join(dir, 'root');
  install(root, oldFiles(node));
  const env = ['env', `PATH=${bin}:${process.env.PATH}`, `K8S_HA_ROOT=${root}`, 'K8S_HA_WAIT_SECONDS=6'];
  return { dir, ns, bin, script, root, env, oldFiles, newFiles };
}

test('the script waits for each restarted pod with its new config hash and for /healthz through HAProxy and from every running apiserver', async (t) => {
  if (!requireTool(t, 'openssl') || !requireTool(t, 'curl')) return;
  const { dir, ns, bin, script, root, env, oldFiles } = await waitingNode(t, 'k8s-cp-2');
  const r = run('ip', ['netns', 'exec', ns.name, ...env, 'sh', join(dir, script.name)]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /updated \/etc\/kubernetes\/manifests\/haproxy\.yaml\n.*ok: haproxy pod ready with config sha256:[0-9a-f]{12}\n.*ok: HAProxy answering \/healthz on the local frontend\n.*ok: every running apiserver answering \/healthz\n/);

  // A pod that does not come back with the new hash (kubelet kept the old one) stops the step.
  install(root, oldFiles('k8s-cp-2'));
  writeFileSync(join(bin, 'crictl'), '#!/bin/sh\necho \'{"annotations": {"k8s-ha/config-hash": "sha256:old"}}\'\n', { mode: 0o755 });
  const stuck = run('ip', ['netns', 'exec', ns.name, ...env, 'sh', join(dir, script.name)]);
  t.is(stuck.code, 1);
  t.regex(stuck.stderr, /error: gave up after 6 s waiting for haproxy pod ready with config sha256:/);

  // An apiserver that does not answer stops it too.
  writeFileSync(join(bin, 'crictl'), '#!/bin/sh\ncat "$K8S_HA_ROOT"/etc/kubernetes/manifests/*.yaml 2>/dev/null\n', { mode: 0o755 });
  install(root, oldFiles('k8s-cp-2'));
  run('ip', ['-n', ns.name, 'addr', 'del', '172.16.217.173/32', 'dev', 'lo']);
  const down = run('ip', ['netns', 'exec', ns.name, ...env, 'sh', join(dir, script.name)]);
  t.is(down.code, 1);
  t.regex(down.stderr, /error: gave up after 6 s waiting for every running apiserver answering \/healthz/);
});

test('the drained holder waits until a peer has taken the VIP before it replaces anything; with no taker it gives up, changes nothing and stays drained', async (t) => {
  if (!requireTool(t, 'openssl') || !requireTool(t, 'curl')) return;
  const { dir, ns, script, root, env, oldFiles, newFiles } = await waitingNode(t, 'k8s-cp-1');
  const drainFile = join(root, 'etc/keepalived/k8s-ha-drain');
  const cfg = join(root, 'etc/haproxy/haproxy.cfg');
  t.is(run('ip', ['-n', ns.name, 'addr', 'add', '172.16.100.100/32', 'dev', 'lo']).code, 0);
  // The peer: once the drain file appears (keepalived: the check fails, the priority drops), it
  // takes the VIP a second later; it records whether haproxy.cfg was still the old one then.
  const seen = join(dir, 'seen-at-takeover');
  const peer = spawn('ip', ['netns', 'exec', ns.name, 'sh', '-c', 'while [ ! -e "$1" ]; do sleep 0.1; done; sleep 1; sha256sum < "$2" > "$3"; ip addr del 172.16.100.100/32 dev lo', 'peer', drainFile, cfg, seen], { stdio: 'ignore' });
  t.teardown(() => { peer.kill('SIGKILL'); });
  const ok = run('ip', ['netns', 'exec', ns.name, ...env, 'sh', join(dir, script.name)]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /holds a VIP: draining[\s\S]*ok: the VIP to move to another node[\s\S]*updated \/etc\/haproxy\/haproxy\.cfg[\s\S]*ok: every running apiserver answering \/healthz[\s\S]*removed the drain file/);
  const oldCfg = oldFiles('k8s-cp-1').find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content;
  t.is(readFileSync(seen, 'utf8').split(' ')[0], createHash('sha256').update(oldCfg).digest('hex'), 'nothing replaced before the VIP left');
  t.is(readFileSync(cfg, 'utf8'), newFiles('k8s-cp-1').find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content);
  t.false(existsSync(drainFile));

  // No peer takes the VIP (all down): the bounded wait gives up, nothing is replaced, and the
  // drain file stays so the node does not claim the VIP back with a half-done update.
  install(root, oldFiles('k8s-cp-1'));
  t.is(run('ip', ['-n', ns.name, 'addr', 'add', '172.16.100.100/32', 'dev', 'lo']).code, 0);
  const stuck = run('ip', ['netns', 'exec', ns.name, ...env, 'K8S_HA_DRAIN_SECONDS=2', 'sh', join(dir, script.name)]);
  t.is(stuck.code, 1);
  t.regex(stuck.stderr, /error: gave up after 2 s waiting for the VIP to move to another node/);
  t.is(readFileSync(cfg, 'utf8'), oldCfg);
  t.true(existsSync(drainFile));
});

test('IPv6: scripts bracket the addresses in URLs and stay shellcheck-clean', async (t) => {
  if (!requireTool(t, 'shellcheck')) return;
  const dir = testDir(t);
  const v6 = readFileSync(join(ROOT, 'fixtures', 'profiles', 'ipv6.yaml'), 'utf8');
  writeFileSync(join(dir, 'v6.yaml'), v6);
  const r = cli(['render', 'v6.yaml', '--out', 'out', ...S], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const changed = parseProfile(v6.replace('routerId: 120', 'routerId: 121'), { format: 'yaml', env: {} });
  if (!changed.ok) return t.fail(JSON.stringify(changed.problems));
  const rollout = await planRolloutAgainst(changed.plan, FIXTURE_SECRETS, join(dir, 'out'));
  t.deepEqual(order(rollout.plan), ['update cp3', 'update cp2', 'update cp1 (holder)']);
  for (const s of rollout.scripts) {
    t.regex(s.content, /^apiservers='\[2001:db8:10::11\]:6443,\[2001:db8:10::12\]:6443,\[2001:db8:10::13\]:6443'$/m);
    t.regex(s.content, /^lb_url='https:\/\/\[::1\]:16443\/healthz'$/m);
    const sc = shellcheck(s.content);
    t.true(sc.ok, `${s.name}: ${sc.output}`);
  }
});

test('an advert_int change with VRRPv2 is warned about (RFC 3768 7.1: two MASTERs during the rollout), with a hint; none without one', async (t) => {
  const dir = rendered(t);
  const slower = SEED.replace('advertInterval = 1 ', 'advertInterval = 2 ');
  const warned = await planRolloutAgainst(planOf(slower), FIXTURE_SECRETS, join(dir, 'out'));
  t.is(warned.plan.warnings?.length, 1);
  t.is(warned.plan.warnings![0]!.code, 'W_ADVERT_V2');
  t.regex(warned.plan.warnings![0]!.message, /from 1 s to 2 s with VRRP version 2.*RFC 3768 section 7\.1/);
  t.regex(warned.plan.warnings![0]!.hint, /vrrpVersion = 3/);
  // Sub-second: the new render runs VRRPv3, the running nodes v2 — still both sides MASTER.
  const fast = await planRolloutAgainst(planOf(SEED.replace('advertInterval = 1 ', 'advertInterval = 0.5 ')), FIXTURE_SECRETS, join(dir, 'out'));
  t.is(fast.plan.warnings?.[0]?.code, 'W_ADVERT_V2');
  const none = await planRolloutAgainst(planOf(TIMING), FIXTURE_SECRETS, join(dir, 'out'));
  t.is(none.plan.warnings, undefined);

  writeFileSync(join(dir, 'slower.toml'), slower);
  const r = cli(['rollout', 'slower.toml', '--against', 'out', '--out', 'roll', '--json', ...S], { cwd: dir });
  t.is(r.code, 3, r.stderr);
  t.regex(r.stderr, /warning W_ADVERT_V2: .*\n {2}hint: /);
  t.is((JSON.parse(r.stdout) as RolloutPlan).warnings?.[0]?.code, 'W_ADVERT_V2');
  const text = cli(['rollout', 'slower.toml', '--against', 'out', '--out', 'roll2', ...S], { cwd: dir });
  t.regex(text.stdout, /^warning W_ADVERT_V2: /m);
});

const LAB = (file: string) => readFileSync(join(ROOT, 'fixtures', 'lab', file), 'utf8');

test('steering: only a last step that restarts HAProxy alone, without trackProcess; the nft tables come from validated addresses, per VIP family', (t) => {
  const plan = planOf(LAB('lab-b.toml'));
  const [cp1, cp2] = plan.nodes as [Plan['nodes'][0], Plan['nodes'][0]];
  t.true(canSteer(plan, { last: true, restarts: ['haproxy'], deletes: [] }));
  t.false(canSteer(plan, { last: false, restarts: ['haproxy'], deletes: [] }), 'a step that is not the last never runs on a holder');
  t.false(canSteer(plan, { last: true, restarts: ['haproxy', 'keepalived'], deletes: [] }), 'a keepalived restart must move the VIP: drain');
  t.false(canSteer(plan, { last: true, restarts: ['keepalived'], deletes: [] }));
  t.false(canSteer({ ...plan, keepalived: { ...plan.keepalived, trackProcess: true } }, { last: true, restarts: ['haproxy'], deletes: [] }), 'keepalived tracking the HAProxy process moves the VIP when it exits');

  const v4 = steerRuleset(plan, cp1, cp2);
  t.is(v4, [
    'table ip k8s_ha_steer',
    'flush table ip k8s_ha_steer',
    'table ip k8s_ha_steer {',
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority -100; policy accept;',
    '\t\tip daddr 198.18.0.100 tcp dport 7443 tcp flags & (fin|syn|rst|ack) == syn dnat to 198.18.0.12:7443',
    '\t}',
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tip daddr 198.18.0.100 tcp dport 7443 tcp flags & (fin|syn|rst|ack) == syn dnat to 198.18.0.12:7443',
    '\t\tip daddr 127.0.0.1 tcp dport 7443 tcp flags & (fin|syn|rst|ack) == syn dnat to 198.18.0.11:6443',
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority 100; policy accept;',
    '\t\tct status dnat ip daddr 198.18.0.12 tcp dport 7443 masquerade',
    '\t\tct state new counter comment "k8s-ha: keeps conntrack on for the connections steered before"',
    '\t}',
    '}',
    '',
  ].join('\n'));
  // Ending the steering keeps the tables, their chains (the kernel's NAT hooks) and the rule
  // that keeps conntrack on, so the connections steered so far stay translated.
  t.notRegex(steerRuleset(plan, cp1, undefined), /dnat|masquerade/);
  t.regex(steerRuleset(plan, cp1, undefined), /chain postrouting \{\n\t\ttype nat hook postrouting priority 100; policy accept;\n\t\tct state new counter comment "k8s-ha: keeps conntrack on for the connections steered before"\n\t\}/);

  // Dual stack: one table per family, each to the peer's address of that family; keepalived's
  // loopback probe only in the primary family's.
  const dual = planOf(LAB('lab-dual.toml'));
  const d = steerRuleset(dual, dual.nodes[0]!, dual.nodes[2]!);
  t.regex(d, /^table ip6 k8s_ha_steer \{$/m);
  t.regex(d, /ip6 daddr 2001:2::100 tcp dport 7443 tcp flags & \(fin\|syn\|rst\|ack\) == syn dnat to \[2001:2::13\]:7443/);
  t.regex(d, /ct status dnat ip6 daddr 2001:2::13 tcp dport 7443 masquerade/);
  t.regex(d, /ip daddr 127\.0\.0\.1 tcp dport 7443 .* dnat to 198\.18\.0\.11:6443/);
  t.notRegex(d, /::1 /);

  // Nothing but an address of the right family gets into a rule.
  const evil = { ...cp2, address: '198.18.0.12:7443; flush ruleset' };
  t.throws(() => steerRuleset(plan, cp1, evil), { message: /refusing to put "198\.18\.0\.12:7443; flush ruleset" into an nftables rule/ });
  t.throws(() => steerRuleset({ ...plan, vip: { ...plan.vip, addresses: ['198.18.0.100 } table ip x {'] } }, cp1, cp2), { message: /refusing to put/ });
  t.throws(() => steerRuleset({ ...plan, vip: { ...plan.vip, port: 7443.5 } }, cp1, cp2), { message: /refusing port 7443\.5/ });
});

/** lab.toml rendered into out/ (the running cluster) and the rollout to lab-b.toml (HAProxy's check interval only). */
async function labRollout(t: ExecutionContext) {
  const dir = testDir(t);
  writeFileSync(join(dir, 'lab.toml'), LAB('lab.toml'));
  const r = cli(['render', 'lab.toml', '--out', 'out', ...S], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const rollout = await planRolloutAgainst(planOf(LAB('lab-b.toml')), FIXTURE_SECRETS, join(dir, 'out'), { holder: 'cp-1' });
  return { dir, rollout, oldFiles: (node: string) => decodeCloudInit(readFileSync(join(dir, 'out', node, 'user-data'), 'utf8')) };
}

test('the holder\'s script of a HAProxy-only change steers and is shellcheck-clean; so is an IPv6 one; others have no steering', async (t) => {
  if (!requireTool(t, 'shellcheck')) return;
  const { rollout } = await labRollout(t);
  const holder = rollout.scripts.find((s) => s.name === 'update-cp-1.sh')!;
  t.regex(holder.content, /^try_steer\(\) \{$/m);
  t.regex(holder.content, /^ {2}if ! try_steer; then draining=1; fi$/m);
  t.true(holder.content.indexOf('try_steer; then') < holder.content.indexOf("put '/etc/kubernetes/manifests/haproxy.yaml'"), 'steering starts before the manifest is replaced');
  t.regex(holder.content, /wait_until 'HAProxy answering \/healthz on the local frontend' lb_healthy\nunsteer\n/);
  t.regex(rollout.plan.steps.find((s) => s.node === 'cp-1')!.notes[0]!, /steers new connections to the VIP to an updated peer with nftables/);
  for (const s of rollout.scripts.filter((x) => x !== holder)) t.notRegex(s.content, /try_steer|nft/, s.name);
  for (const s of rollout.scripts) {
    const r = shellcheck(s.content);
    t.true(r.ok, `${s.name}: ${r.output}`);
  }
  const dir = testDir(t);
  const v6 = readFileSync(join(ROOT, 'fixtures', 'profiles', 'ipv6.yaml'), 'utf8');
  writeFileSync(join(dir, 'v6.yaml'), v6);
  t.is(cli(['render', 'v6.yaml', '--out', 'out', ...S], { cwd: dir }).code, 0);
  const changed = parseProfile(`${v6}haproxy:\n  checkInterval: 700\n`, { format: 'yaml', env: {} });
  if (!changed.ok) return t.fail(JSON.stringify(changed.problems));
  const r6 = await planRolloutAgainst(changed.plan, FIXTURE_SECRETS, join(dir, 'out'));
  const h6 = r6.scripts.find((s) => s.name === 'update-cp1.sh')!;
  t.regex(h6.content, /net\.ipv6\.conf\.all\.forwarding is not 1/);
  t.regex(h6.content, /ip6 daddr ::1 tcp dport 16443 .* dnat to \[2001:db8:10::11\]:6443/);
  t.regex(h6.content, /^node_lb_url='https:\/\/\[2001:db8:10::11\]:16443\/healthz'$/m);
  const sc = shellcheck(h6.content);
  t.true(sc.ok, sc.output);
});

test('the steering holder keeps the VIP: new connections go to the first healthy peer while HAProxy restarts, the rules go once it answers (the table stays); with a forward policy of drop or without forwarding it drains', async (t) => {
  if (!requireTool(t, 'openssl') || !requireTool(t, 'curl')) return;
  // nftables' nft, not the unrelated one node_modules/.bin has on PATH here (@vercel/nft).
  const nft = '/usr/sbin/nft';
  if (!existsSync(nft)) return t.fail('nft is not installed: run `apt-get install -y nftables`');
  const { dir, rollout, oldFiles } = await labRollout(t);
  const ns = new Netns();
  t.teardown(() => ns.close());
  run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
  for (const a of ['198.18.0.11', '198.18.0.12', '198.18.0.13', '198.18.0.100']) t.is(run('ip', ['-n', ns.name, 'addr', 'add', `${a}/32`, 'dev', 'lo']).code, 0);
  t.is(run('ip', ['netns', 'exec', ns.name, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']).code, 0);
  // The local frontend (old HAProxy) and on the node's address, the apiservers, and cp-3's
  // HAProxy but not cp-2's: the first healthy peer in plan order is cp-3.
  await httpsServers(t, ns, dir, ['127.0.0.1:7443', '198.18.0.11:7443', '198.18.0.13:7443', '198.18.0.11:6443', '198.18.0.12:6443', '198.18.0.13:6443']);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // crictl stands in for kubelet + runtime; called while the script waits for the new pod, it
  // also records the steering table as it is then.
  writeFileSync(join(bin, 'crictl'), `#!/bin/sh\n[ -e "$DUMP" ] || ${nft} list table ip k8s_ha_steer > "$DUMP" 2>&1\ncat "$K8S_HA_ROOT"/etc/kubernetes/manifests/*.yaml 2>/dev/null\n`, { mode: 0o755 });
  const script = rollout.scripts.find((s) => s.name === 'update-cp-1.sh')!;
  writeFileSync(join(dir, script.name), script.content, { mode: 0o700 });
  const root = join(dir, 'root');
  install(root, oldFiles('cp-1'));
  const dump = join(dir, 'during.nft');
  // The system's programs only: node_modules/.bin holds an unrelated `nft` (@vercel/nft).
  const env = ['env', `PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, `K8S_HA_ROOT=${root}`, 'K8S_HA_WAIT_SECONDS=6', `DUMP=${dump}`];
  const go = (...extra: string[]) => run('ip', ['netns', 'exec', ns.name, ...env, ...extra, 'sh', join(dir, script.name)]);

  const ok = go();
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /steering new connections to the VIPs to cp-3 \(198\.18\.0\.13\) with nftables table ip k8s_ha_steer[\s\S]*updated \/etc\/kubernetes\/manifests\/haproxy\.yaml[\s\S]*ok: HAProxy answering \/healthz on the local frontend\n.*stopped steering[\s\S]*ok: every running apiserver answering \/healthz/);
  t.notRegex(ok.stderr, /draining/);
  t.false(existsSync(join(root, 'etc/keepalived/k8s-ha-drain')), 'no drain');
  const during = readFileSync(dump, 'utf8');
  t.regex(during, /ip daddr 198\.18\.0\.100 tcp dport 7443 tcp flags syn \/ fin,syn,rst,ack dnat to 198\.18\.0\.13:7443/);
  t.regex(during, /ip daddr 127\.0\.0\.1 tcp dport 7443 tcp flags syn \/ fin,syn,rst,ack dnat to 198\.18\.0\.11:6443/);
  t.regex(during, /ct status dnat ip daddr 198\.18\.0\.13 tcp dport 7443 masquerade/);
  const after = run('ip', ['netns', 'exec', ns.name, nft, 'list', 'table', 'ip', 'k8s_ha_steer']);
  t.is(after.code, 0, 'the table stays');
  t.regex(after.stdout, /type nat hook prerouting/);
  t.notRegex(after.stdout, /dnat|masquerade/, 'without the steering rules');
  t.regex(after.stdout, /ct state new counter/, 'conntrack stays on');
  t.regex(run('ip', ['-n', ns.name, 'addr', 'show', 'dev', 'lo']).stdout, /198\.18\.0\.100\/32/, 'the VIP stayed');

  // Rules a failed run left behind: the next run (nothing left to write) ends them once
  // HAProxy answers here.
  t.is(run('ip', ['netns', 'exec', ns.name, nft, '-f', '-'], { input: steerRuleset(planOf(LAB('lab-b.toml')), planOf(LAB('lab-b.toml')).nodes[0]!, planOf(LAB('lab-b.toml')).nodes[1]!) }).code, 0);
  const again = go();
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /found steering rules of an earlier run[\s\S]*stopped steering/);
  t.notRegex(run('ip', ['netns', 'exec', ns.name, nft, 'list', 'table', 'ip', 'k8s_ha_steer']).stdout, /dnat/);

  // A forward chain that drops by default would drop the steered connections: drain.
  install(root, oldFiles('cp-1'));
  t.is(run('ip', ['netns', 'exec', ns.name, nft, '-f', '-'], { input: 'table inet fw {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n\t}\n}\n' }).code, 0);
  const firewalled = go('K8S_HA_WAIT=0');
  t.is(firewalled.code, 0, firewalled.stderr);
  t.regex(firewalled.stderr, /not steering: an nftables forward chain drops by default[\s\S]*holds a VIP: draining/);
  t.is(run('ip', ['netns', 'exec', ns.name, nft, 'delete', 'table', 'inet', 'fw']).code, 0);

  // No forwarding: the holder cannot steer, so it drains (and says why).
  install(root, oldFiles('cp-1'));
  t.is(run('ip', ['netns', 'exec', ns.name, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']).code, 0);
  const drained = go('K8S_HA_WAIT=0');
  t.is(drained.code, 0, drained.stderr);
  t.regex(drained.stderr, /not steering: net\.ipv4\.ip_forward is not 1[\s\S]*holds a VIP: draining/);
  t.notRegex(drained.stderr, /steering new connections/);
});
