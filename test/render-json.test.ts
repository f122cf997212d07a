/**
 * `k8s-ha render --json`: one JSON document whose texts are exactly the files written, and the
 * README's Terraform example, parsed with HashiCorp's HCL parser (@cdktf/hcl2json), whose every
 * reference into that document resolves on real output.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { FIXTURE_SECRETS, FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { testDir } from './helpers/tools.js';
import { readmeBlock } from './helpers/readme.js';

/**
 * HashiCorp's HCL parser (Go, compiled to WebAssembly). Loaded untyped: its .d.ts pulls in
 * TypeScript's DOM library, whose WebCrypto types then clash with node's in src/.
 */
const { parse } = createRequire(import.meta.url)('@cdktf/hcl2json') as { parse: (file: string, hcl: string) => Promise<unknown> };

interface RenderJson {
  cluster: Record<string, unknown>;
  nodes: Record<string, { name: string; role: string; address: string; vrrp: { state: string; priority: number } | null; userData?: string; metaData?: string; ignition?: string; sizes: Record<string, number>; paths: Record<string, string> }>;
  secrets?: Record<string, string>;
}

function renderJson(t: Parameters<typeof testDir>[0], extra: string[] = []): { doc: RenderJson; out: string; stdout: string } {
  const out = join(testDir(t), 'out');
  const r = cli(['render', 'profiles/seed.toml', '--out', out, '--secrets', FIXTURE_SECRETS_FILE, '--json', ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return { doc: JSON.parse(r.stdout) as RenderJson, out, stdout: r.stdout };
}

test('render --json: cluster facts, and per node the texts written, their sizes and paths', (t) => {
  const { doc, out, stdout } = renderJson(t);
  t.deepEqual(doc.cluster, {
    name: 'seed', kubernetesVersion: 'v1.31.2', vips: ['172.16.100.100', '172.16.100.101'], port: 7443,
    controlPlaneEndpoint: '172.16.100.100:7443', caCertHash: FIXTURE_SECRETS.caCertHash, ignitionVersion: '3.3.0', format: 'all',
  });
  t.deepEqual(Object.keys(doc.nodes), ['k8s-cp-1', 'k8s-cp-2', 'k8s-cp-3']);
  const cp1 = doc.nodes['k8s-cp-1']!;
  t.like(cp1, { name: 'k8s-cp-1', role: 'init', address: '172.16.217.171', vrrp: { state: 'MASTER', priority: 150 } });
  for (const n of Object.values(doc.nodes)) {
    t.deepEqual(n.paths, { userData: `${out}/${n.name}/user-data`, metaData: `${out}/${n.name}/meta-data`, ignition: `${out}/${n.name}/config.ign` });
    t.is(n.userData, readFileSync(n.paths.userData!, 'utf8'));
    t.is(n.metaData, readFileSync(n.paths.metaData!, 'utf8'));
    t.is(n.ignition, readFileSync(n.paths.ignition!, 'utf8'));
    t.deepEqual(n.sizes, { userData: Buffer.byteLength(n.userData!), ignition: Buffer.byteLength(n.ignition!) });
  }
  // The token and key only inside the node texts (as in the files), not as fields.
  t.is(doc.secrets, undefined);
  const outside = JSON.stringify({ ...doc, nodes: Object.values(doc.nodes).map(({ userData: _u, ignition: _i, ...rest }) => rest) });
  t.false(outside.includes(FIXTURE_SECRETS.bootstrapToken));
  t.false(outside.includes(FIXTURE_SECRETS.certificateKey));
  t.true(stdout.endsWith('}\n'));
});

test('render --json --show-secrets adds the token and key; --format ignition leaves out the cloud-init texts', (t) => {
  t.deepEqual(renderJson(t, ['--show-secrets']).doc.secrets, { bootstrapToken: FIXTURE_SECRETS.bootstrapToken, certificateKey: FIXTURE_SECRETS.certificateKey });
  const { doc } = renderJson(t, ['--format', 'ignition']);
  const n = doc.nodes['k8s-cp-2']!;
  t.is(n.userData, undefined);
  t.is(n.metaData, undefined);
  t.is(typeof n.ignition, 'string');
  t.deepEqual(Object.keys(n.paths), ['ignition']);
  t.is(doc.cluster.format, 'ignition');
});

test('render --json with --stdout is a usage error (exit 2)', (t) => {
  const r = cli(['render', 'profiles/seed.toml', '--json', '--stdout', '--format', 'cloud-init', '--node', 'k8s-cp-1', '--secrets', FIXTURE_SECRETS_FILE]);
  t.is(r.code, 2);
  t.regex(r.stderr, /--stdout and --json/);
});

/** Every `prefix.a.b` reference in the string values of parsed HCL (inside `${...}`). */
function references(value: unknown, prefix: string): string[][] {
  const found: string[][] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(new RegExp(`\\b${prefix.replace(/\./g, '\\.')}((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)`, 'g'))) found.push(m[1]!.slice(1).split('.'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
}

test('the README Terraform example parses as HCL and every reference into the JSON resolves on real output', async (t) => {
  const hcl = readmeBlock('terraform-example', 'hcl');
  const parsed = (await parse('main.tf', hcl)) as { locals: Record<string, string>[]; resource: Record<string, Record<string, Record<string, unknown>[]>> };
  // The local reads the file the comment's command writes.
  const file = /render profiles\/seed\.toml --json > (\S+)/.exec(hcl)?.[1];
  t.truthy(file);
  const local = parsed.locals.find((l) => 'k8s_ha' in l)?.k8s_ha;
  t.regex(local ?? '', new RegExp(`jsondecode\\(file\\("\\$\\{path\\.module\\}/${file!.replace('.', '\\.')}"\\)\\)`));
  const { doc } = renderJson(t);
  const at = (path: string[]): unknown => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
  const refs = references(parsed, 'local.k8s_ha');
  t.true(refs.length >= 2);
  for (const r of refs) t.not(at(r), undefined, `local.k8s_ha.${r.join('.')}`);
  // for_each over the nodes map: each.value.X must be a string on every node.
  const resources = Object.values(parsed.resource).flatMap((byName) => Object.values(byName).flat());
  const perNode = resources.filter((r) => r.for_each === '${local.k8s_ha.nodes}');
  t.is(perNode.length, 1);
  const attrs = references(perNode, 'each.value');
  t.deepEqual(attrs.map((a) => a.join('.')).sort(), ['metaData', 'userData']);
  for (const n of Object.values(doc.nodes)) for (const a of attrs) t.is(typeof at(['nodes', n.name, ...a]), 'string');
});
