/**
 * Injection corpus (fixtures/injection/*.json): hand-written attack strings per profile field,
 * each with its expected verdict, run through the CLI (`k8s-ha render`) on the seed profile
 * with that one field replaced, written as TOML and as YAML.
 * - `reject`: exit 1, an error naming the field, no stack trace, the value (if secret) never
 *   shown, nothing written.
 * - `accept`: exit 0; TOML and YAML give byte-identical outputs; the outputs pass haproxy -c,
 *   keepalived -t (in a throwaway netns), cloud-init schema and ignition-validate.
 */
import test from 'ava';
import { cliAsync } from './helpers/cli.js';
import { FIXTURE_SECRETS_FILE } from './helpers/secrets.js';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import toml from '@iarna/toml';
import YAML from 'yaml';
import { formatPath, type FieldPath } from '../src/profile/errors.js';
import { isSecretPath } from '../src/profile/report.js';
import { decodeIgnition } from '../src/formats/decode.js';
import { readTree } from './helpers/files.js';
import { Netns, cloudInitCheck, haproxyCheck, ignitionCheck, testDir, type ToolResult } from './helpers/tools.js';

const root = new URL('../../', import.meta.url);
const corpusDir = new URL('fixtures/injection/', root);

interface Corpus {
  field: FieldPath;
  cases: { value: unknown; verdict: 'accept' | 'reject'; why: string }[];
}

const seed = toml.parse(readFileSync(new URL('profiles/seed.toml', root), 'utf8')) as Record<string, unknown>;

function withValue(field: FieldPath, value: unknown): Record<string, unknown> {
  const p = structuredClone(seed);
  const parent = field.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, p);
  parent[field.at(-1)!] = value;
  return p;
}


const files = readdirSync(corpusDir).filter((f) => f.endsWith('.json')).sort();

test('the corpus covers the fields that reach configs and scripts', (t) => {
  t.true(files.length >= 10);
  const total = files.reduce((n, f) => n + (JSON.parse(readFileSync(new URL(f, corpusDir), 'utf8')) as Corpus).cases.length, 0);
  t.true(total >= 80, `${total} cases`);
});

for (const file of files) {
  const corpus = JSON.parse(readFileSync(new URL(file, corpusDir), 'utf8')) as Corpus;
  test(`injection corpus: ${file}`, async (t) => {
    const dir = testDir(t, 'k8s-ha-inj-');
    const netns = new Netns();
    t.teardown(() => netns.close());
    const at = `at ${formatPath(corpus.field as (string | number)[])}:`;
    for (const [n, c] of corpus.cases.entries()) {
      const label = `${formatPath(corpus.field as (string | number)[])} = ${JSON.stringify(c.value)} (${c.why})`;
      const profile = withValue(corpus.field, c.value);
      const runs = await Promise.all(
        (['toml', 'yaml'] as const).map(async (format) => {
          const path = join(dir, `${n}.${format}`);
          writeFileSync(path, format === 'toml' ? toml.stringify(profile as toml.JsonMap) : YAML.stringify(profile));
          const out = join(dir, `out-${n}-${format}`);
          return { format, out, ...(await cliAsync(['render', path, '--out', out, '--secrets', FIXTURE_SECRETS_FILE], { t })) };
        }),
      );
      for (const r of runs) {
        t.notRegex(r.stderr, /\n\s+at |internal error/, `${label} [${r.format}]`);
        if (c.verdict === 'reject') {
          t.is(r.code, 1, `${label} [${r.format}] should be rejected:\n${r.stdout}${r.stderr}`);
          // Or an error of a cross-field rule (E020 duplicate, E022 VIP equal to a node
          // address, E024 port clash) at any field: such a rule may name the other field of
          // the pair. This accepts more than it needs to; the corpus does not record partners.
          t.true(r.stderr.includes(at) || /error E0(20|22|24) at /.test(r.stderr), `${label} [${r.format}] error must name the field:\n${r.stderr}`);
          t.false(existsSync(r.out), `${label} [${r.format}] wrote output`);
          if (isSecretPath(corpus.field) && typeof c.value === 'string' && c.value.length >= 3)
            t.false(r.stderr.includes(c.value), `${label} [${r.format}] shows the secret`);
        } else t.is(r.code, 0, `${label} [${r.format}] should render:\n${r.stderr}`);
      }
      if (c.verdict !== 'accept' || runs.some((r) => r.code !== 0)) continue;
      const [fromToml, fromYaml] = runs.map((r) => readTree(r.out));
      t.deepEqual(fromToml, fromYaml, `${label}: TOML and YAML outputs differ`);
      const bad: string[] = [];
      const check = (what: string, r: ToolResult) => r.ok || bad.push(`${what}: ${r.output}`);
      const configs = [...fromYaml!].filter(([rel]) => rel.endsWith('/config.ign'));
      t.true(configs.length > 0, `${label}: no config.ign rendered`);
      for (const [rel, { content }] of configs) {
        const node = decodeIgnition(content);
        const get = (suffix: string) => node.find((f) => f.path.endsWith(suffix))!.content;
        const iface = /^\s*interface (\S+)$/m.exec(get('keepalived.conf'))![1]!;
        check(`${rel} haproxy`, haproxyCheck(get('haproxy.cfg')));
        check(`${rel} keepalived`, netns.keepalivedCheck(get('keepalived.conf'), [iface], get('check_apiserver.sh')));
        check(`${rel} ignition-validate`, ignitionCheck(content));
      }
      check('user-data', cloudInitCheck(fromYaml!.get([...fromYaml!.keys()].find((k) => k.endsWith('/user-data'))!)!.content));
      t.deepEqual(bad, [], label);
    }
  });
}
