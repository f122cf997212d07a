/**
 * Hooks limited to roles and add-ons applied from the init node (issue 17, item 2), from the
 * profile through the plan to the scripts and files each node gets, in both formats.
 */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDON_DIR, BOOTSTRAP_SCRIPT } from '../src/components/bootstrap.js';
import { decodeCloudInit, decodeIgnition } from '../src/formats/decode.js';
import { formatProblems, parseProfile, renderNodes } from '../src/index.js';
import { cloudInitCheck, testDir } from './helpers/tools.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';

const BASE = `name = "hooks"
nodes = [{ name = "cp-1", address = "198.18.0.11/24" }, { name = "cp-2", address = "198.18.0.12/24" }, { name = "cp-3", address = "198.18.0.13/24" }]
workers = [{ name = "w-1", address = "198.18.0.21/24" }]
[vip]
addresses = ["198.18.0.10"]
interface = "eth0"
routerId = 77
[kubernetes]
version = "v1.32.0"
preKubeadmCommands = ["echo every-node", { run = "echo only-workers", roles = ["worker"] }]
postKubeadmCommands = [{ run = "kubectl apply -f /root/extra.yaml", roles = ["init"] }, { run = "echo cp", roles = ["init", "control-plane"] }]
`;

function scriptOf(userData: string): string {
  return decodeCloudInit(userData).find((f) => f.path === BOOTSTRAP_SCRIPT)!.content;
}

test('hooks limited to roles reach only the scripts of those roles', (t) => {
  const loaded = parseProfile(BASE, { format: 'toml', env: {} });
  if (!loaded.ok) return t.fail(formatProblems(loaded.source, loaded.problems, loaded.text));
  t.deepEqual(loaded.plan.kubernetes.preKubeadmCommands[1], { run: 'echo only-workers', roles: ['worker'] });
  const scripts = Object.fromEntries(renderNodes(loaded.plan, FIXTURE_SECRETS).map((r) => [r.node.name, scriptOf(r.userData)]));
  const hooks = (s: string) => s.split('\n').filter((l) => l.startsWith('run_hook '));
  t.deepEqual(hooks(scripts['cp-1']!), ["run_hook pre 1 'echo every-node'", "run_hook post 1 'kubectl apply -f /root/extra.yaml'", "run_hook post 2 'echo cp'"]);
  t.deepEqual(hooks(scripts['cp-2']!), ["run_hook pre 1 'echo every-node'", "run_hook post 1 'echo cp'"]);
  t.deepEqual(hooks(scripts['w-1']!), ["run_hook pre 1 'echo every-node'", "run_hook pre 2 'echo only-workers'"]);
  t.regex(scripts['cp-1']!, /^export KUBECONFIG="\$ROOT"'\/etc\/kubernetes\/admin\.conf'$/m);
});

test('a hook table with an unknown role or no run is refused with its path and line', (t) => {
  const bad = BASE.replace('roles = ["worker"]', 'roles = ["workers"]').replace('{ run = "echo cp", roles', '{ command = "echo cp", roles');
  const r = parseProfile(bad, { format: 'toml', source: 'hooks.toml', env: {} });
  t.false(r.ok);
  const text = formatProblems(r.source, r.ok ? [] : r.problems, r.text);
  t.regex(text, /hooks\.toml:10:\d+: error E014 at kubernetes\.preKubeadmCommands\[1\]\.roles\[0\]: expected one of "init", "control-plane", "worker", got "workers"/);
  t.regex(text, /error E011 at kubernetes\.postKubeadmCommands\[1\]\.run: missing required string/);
  // A bad line is still reported as one, in either form.
  const line = parseProfile(BASE.replace('"echo every-node"', '"echo a\\nreboot"'), { format: 'toml', env: {} });
  t.regex(formatProblems('p', line.ok ? [] : line.problems), /E015 at kubernetes\.preKubeadmCommands\[0\]: expected one line of shell/);
});

test('add-ons: a local file lands on the init node only (0600, both formats) and counts against its user-data; a URL is applied as is', async (t) => {
  const dir = testDir(t);
  mkdirSync(join(dir, 'cni'));
  const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni-config\n  namespace: kube-system\ndata:\n  big: "${'x'.repeat(3000)}"\n`;
  writeFileSync(join(dir, 'cni', 'cni.yaml'), manifest);
  const profile = `${BASE}\n[[addons]]\nname = "cni"\nfile = "cni/cni.yaml"\n\n[[addons]]\nname = "metrics"\nurl = "https://example.test/metrics.yaml"\n`;
  const with_ = parseProfile(profile, { format: 'toml', source: join(dir, 'p.toml'), env: {} });
  const without = parseProfile(BASE, { format: 'toml', source: join(dir, 'p.toml'), env: {} });
  if (!with_.ok || !without.ok) return t.fail('profiles should load');
  t.deepEqual(with_.plan.addons?.map((a) => a.name), ['cni', 'metrics']);
  const nodes = renderNodes(with_.plan, FIXTURE_SECRETS);
  const before = renderNodes(without.plan, FIXTURE_SECRETS);
  const init = nodes[0]!;
  const path = `${ADDON_DIR}/cni.yaml`;
  for (const files of [decodeCloudInit(init.userData), decodeIgnition(init.ignition)]) {
    const f = files.find((x) => x.path === path);
    t.is(f?.content, manifest);
    t.is(f?.mode, 0o600);
  }
  const script = scriptOf(init.userData);
  t.regex(script, /^apply_addon 'cni' "\$ROOT"'\/etc\/k8s-ha\/addons\/cni\.yaml'$/m);
  t.regex(script, /^apply_addon 'metrics' 'https:\/\/example\.test\/metrics\.yaml'$/m);
  for (const other of nodes.slice(1)) {
    t.false(decodeCloudInit(other.userData).some((f) => f.path.startsWith(ADDON_DIR)), other.node.name);
    t.false(scriptOf(other.userData).includes('apply_addon'), other.node.name);
  }
  // The embedded manifest is in the init node's user-data, so in its size (what --max-user-data checks).
  t.true(Buffer.byteLength(init.userData) > Buffer.byteLength(before[0]!.userData) + 200);
  t.is(Buffer.byteLength(nodes[1]!.userData), Buffer.byteLength(before[1]!.userData));
  const check = cloudInitCheck(init.userData);
  t.true(check.ok, check.output);
});

test('add-on mistakes: both or neither of url and file, an unreadable or empty file, a repeated name', (t) => {
  const dir = testDir(t);
  writeFileSync(join(dir, 'empty.yaml'), '\n');
  const profile = `${BASE}
[[addons]]
name = "both"
url = "https://example.test/a.yaml"
file = "a.yaml"
[[addons]]
name = "neither"
[[addons]]
name = "missing"
file = "no/such.yaml"
[[addons]]
name = "empty"
file = "empty.yaml"
[[addons]]
name = "both"
url = "https://example.test/b.yaml"
[[addons]]
name = "ftp"
url = "ftp://example.test/c.yaml"
`;
  const r = parseProfile(profile, { format: 'toml', source: join(dir, 'p.toml'), env: {} });
  t.false(r.ok);
  const text = formatProblems('p.toml', r.ok ? [] : r.problems, r.text);
  t.regex(text, /error E013|error E014 at addons\[5\]\.url: expected an http\(s\) URL of a manifest/);
  // The schema error stops the cross-field checks: fix it and see the rest.
  const r2 = parseProfile(profile.replace('ftp://', 'https://'), { format: 'toml', source: join(dir, 'p.toml'), env: {} });
  const text2 = formatProblems('p.toml', r2.ok ? [] : r2.problems, r2.text);
  t.regex(text2, /error E011 at addons\[0\]: add-on "both" needs exactly one of url and file/);
  t.regex(text2, /error E011 at addons\[1\]: add-on "neither" needs exactly one of url and file/);
  t.regex(text2, /error E001 at addons\[2\]\.file: cannot read ".*no\/such\.yaml": ENOENT/);
  t.regex(text2, /error E014 at addons\[3\]\.file: ".*empty\.yaml" is empty/);
  t.regex(text2, /error E020 at addons\[4\]\.name: add-on name "both" repeats addons\[0\]/);
});
