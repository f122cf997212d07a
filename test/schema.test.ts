import test from 'ava';
import { CLI } from './helpers/cli.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import toml from '@iarna/toml';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import { profileJsonSchema } from '../src/profile/json-schema.js';

const root = new URL('../../', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');

test('profiles/k8s-ha.schema.json is the output of `k8s-ha schema` (regenerate: k8s-ha schema > profiles/k8s-ha.schema.json)', async (t) => {
  t.is(read('profiles/k8s-ha.schema.json'), profileJsonSchema());
  const cli = execFileSync(CLI, ['schema'], { encoding: 'utf8' });
  t.is(cli, profileJsonSchema());
});

test('the example profiles reference the schema and validate against it; mistakes do not', (t) => {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  const validate = ajv.compile(JSON.parse(read('profiles/k8s-ha.schema.json')) as object);
  const example = read('profiles/example.yaml');
  t.true(example.startsWith('# yaml-language-server: $schema=./k8s-ha.schema.json\n'));
  t.true(validate(YAML.parse(example)), ajv.errorsText(validate.errors));
  for (const f of readdirSync(new URL('profiles/', root)).filter((n) => n.endsWith('.toml'))) {
    const text = read(`profiles/${f}`);
    t.true(text.startsWith('#:schema ./k8s-ha.schema.json\n'), `${f}: Taplo directive on the first line`);
    t.true(validate(toml.parse(text)), `${f}: ${ajv.errorsText(validate.errors)}`);
  }
  const bad = { ...(YAML.parse(example) as Record<string, unknown>), vip: { addresses: [], port: 70000, routerID: 5 } };
  t.false(validate(bad));
  t.deepEqual(validate.errors!.map((e) => e.instancePath).sort(), ['/vip', '/vip/addresses', '/vip/port']);
});
