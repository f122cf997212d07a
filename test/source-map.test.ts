import test from 'ava';
import { readFileSync } from 'node:fs';
import { error, formatPath as renderPath, formatProblems, warning, type FieldPath } from '../src/profile/errors.js';
import { isSecretPath, showValue, sourceExcerpt } from '../src/profile/report.js';
import { locate } from '../src/profile/source-map.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/errors/${name}`, import.meta.url), 'utf8');

/** [fixture, path, target, expected "line:col" or undefined]; positions checked by hand. */
const cases: [string, FieldPath, 'value' | 'key', string | undefined][] = [
  ['bad-node-address.toml', ['nodes', 1, 'address'], 'value', '22:11'],
  ['bad-node-address.toml', ['keepalived', 'authPass'], 'value', '11:12'],
  ['bad-node-address.toml', ['vip', 'addresses', 1], 'value', '5:32'],
  ['bad-node-address.yaml', ['nodes', 1, 'address'], 'value', '16:14'],
  ['bad-node-address.yaml', ['keepalived', 'authPass'], 'value', '9:13'],
  ['bad-node-address.yaml', ['vip', 'addresses', 1], 'value', '4:31'],
  // TOML: literal strings, dotted and quoted keys, multi-line arrays with comments,
  // multi-line strings holding brackets, inline tables, arrays of tables.
  ['layout.toml', ['name'], 'value', '1:8'],
  ['layout.toml', ['vip', 'port'], 'value', '2:12'],
  ['layout.toml', ['vip', 'port'], 'key', '2:5'],
  ['layout.toml', ['vip', 'addresses'], 'value', '3:19'],
  ['layout.toml', ['vip', 'addresses', 0], 'value', '4:3'],
  ['layout.toml', ['vip', 'addresses', 1], 'value', '5:3'],
  ['layout.toml', ['vip', 'routerId'], 'value', '7:18'],
  ['layout.toml', ['vip', 'routerId'], 'key', '7:7'],
  ['layout.toml', ['keepalived', 'image'], 'value', '10:9'],
  ['layout.toml', ['keepalived', 'advertInterval'], 'value', '13:18'],
  ['layout.toml', ['keepalived', 'authPass'], 'value', '9:1'], // missing: the table header
  ['layout.toml', ['kubernetes', 'apiServerPort'], 'value', '16:17'],
  ['layout.toml', ['nodes', 0, 'address'], 'value', '20:11'],
  ['layout.toml', ['nodes', 1], 'value', '22:1'],
  ['layout.toml', ['nodes', 1, 'address'], 'value', '22:1'], // missing: its [[nodes]] header
  ['layout.toml', ['nodes', 1, 'labels', 'zone'], 'value', '24:19'],
  ['layout.toml', ['nodes', 1, 'labels', 'rack.id'], 'value', '24:37'],
  ['layout.toml', ['nodes', 1, 'labels', 'rack.id'], 'key', '24:25'],
  ['layout.toml', ['nodes', 2, 'address'], 'value', '28:11'],
  ['layout.toml', ['nodes', 7, 'name'], 'value', '18:1'], // no such node: the first [[nodes]]
  ['layout.toml', ['zzz'], 'value', undefined],
  // YAML: block and flow collections, empty values, block scalars.
  ['layout.yaml', ['name'], 'value', '1:7'],
  ['layout.yaml', ['vip', 'port'], 'value', '3:9'],
  ['layout.yaml', ['vip', 'port'], 'key', '3:3'],
  ['layout.yaml', ['vip', 'addresses'], 'value', '5:5'],
  ['layout.yaml', ['vip', 'addresses', 0], 'value', '5:7'],
  ['layout.yaml', ['vip', 'addresses', 1], 'value', '6:7'],
  ['layout.yaml', ['vip', 'routerId'], 'value', '7:13'],
  ['layout.yaml', ['keepalived', 'image'], 'value', '9:10'],
  ['layout.yaml', ['keepalived', 'advertInterval'], 'value', '12:3'], // empty: the key
  ['layout.yaml', ['keepalived', 'authPass'], 'value', '8:1'], // missing: the parent key
  ['layout.yaml', ['kubernetes', 'apiServerPort'], 'value', '13:29'],
  ['layout.yaml', ['nodes', 0, 'name'], 'value', '15:9'],
  ['layout.yaml', ['nodes', 0, 'address'], 'value', '16:12'],
  ['layout.yaml', ['nodes', 1, 'address'], 'value', '17:3'], // missing: the list item
  ['layout.yaml', ['nodes', 1, 'labels', 'zone'], 'value', '18:18'],
  ['layout.yaml', ['nodes', 1, 'labels', 'rack.id'], 'value', '18:31'],
  ['layout.yaml', ['nodes', 1, 'labels', 'rack.id'], 'key', '18:22'],
  ['layout.yaml', ['nodes', 2, 'name'], 'value', '19:10'],
  ['layout.yaml', ['nodes', 2, 'address'], 'value', '19:27'],
  ['layout.yaml', ['zzz'], 'value', undefined],
];

for (const [file, path, target, want] of cases) {
  test(`locate ${file} ${renderPath(path)} (${target})`, (t) => {
    const format = file.endsWith('.toml') ? 'toml' : 'yaml';
    const pos = locate(fixture(file), format, path, target);
    t.is(pos && `${pos.line}:${pos.col}`, want);
  });
}

test('columns count code points, not UTF-16 units', (t) => {
  t.deepEqual(locate('a = { b = "😀", c = 1 }\n', 'toml', ['a', 'c']), { line: 1, col: 20 });
  t.deepEqual(locate('a: {b: "😀", c: 1}\n', 'yaml', ['a', 'c']), { line: 1, col: 16 });
});

test('locate never throws on text it cannot scan', (t) => {
  for (const text of ['[[', 'a = "unterminated\nb = 1', 'a = [1, 2', '{', 'a: [1\nb: 2', '\u0000', 'x = 1\n[t]\ny = {'])
    for (const format of ['toml', 'yaml'] as const) t.notThrows(() => locate(text, format, ['b']));
  // Only text the profile parser accepted is ever located: text that is not TOML locates nothing.
  t.is(locate('a = 1\nb = [1,,]\n', 'toml', ['a']), undefined);
});

const NODES_INLINE = 'nodes = [\n  { name = "a", address = "198.18.0.1" },\n  { name = "b", address = "198.18.0.2/24" },\n]\n';
const STRINGS_FIRST = "note = \"\"\"\n[[nodes]]\nname = \"fake\"\n\"\"\"\nlit = '''\n[vip]'''\n[vip]\nport = 1\n";
const NESTED = '[[nodes]]\nname = "a"\n[[nodes.extra]]\nk = 1\n[[nodes.extra]]\nk = 2\n[[nodes]]\nname = "b"\n';

/** TOML forms the earlier hand-written scanner did not index; positions checked by hand. */
const tomlForms: [string, string, FieldPath, 'value' | 'key', string | undefined][] = [
  // top-level dotted keys define the table (and the key part names it)
  ['dotted keys', 'name = "x"\nvip.port = 7443\nvip."router-id" = 51\n', ['vip', 'port'], 'value', '2:12'],
  ['dotted keys', 'name = "x"\nvip.port = 7443\nvip."router-id" = 51\n', ['vip', 'router-id'], 'key', '3:5'],
  ['dotted keys', 'name = "x"\nvip.port = 7443\n', ['vip'], 'key', '2:1'],
  ['dotted keys', 'name = "x"\nvip.port = 7443\n', ['vip', 'missing'], 'value', '2:1'],
  // inline tables inside an array (nodes written as one array, not [[nodes]])
  ['inline tables in arrays', NODES_INLINE, ['nodes', 1, 'address'], 'value', '3:27'],
  ['inline tables in arrays', NODES_INLINE, ['nodes', 1], 'value', '3:3'],
  ['inline tables in arrays', NODES_INLINE, ['nodes', 0, 'name'], 'key', '2:5'],
  // multi-line strings holding brackets, quotes and "keys" before the field
  ['multi-line strings before', STRINGS_FIRST, ['vip', 'port'], 'value', '8:8'],
  ['multi-line strings before', STRINGS_FIRST, ['nodes'], 'value', undefined],
  // arrays of tables inside an element of an array of tables
  ['nested arrays of tables', NESTED, ['nodes', 0, 'extra', 1, 'k'], 'value', '6:5'],
  ['nested arrays of tables', NESTED, ['nodes', 1, 'name'], 'value', '8:8'],
];

for (const [form, text, path, target, want] of tomlForms) {
  test(`TOML ${form}: ${renderPath(path)} (${target})`, (t) => {
    const pos = locate(text, 'toml', path, target);
    t.is(pos && `${pos.line}:${pos.col}`, want);
  });
}

test('formatPath quotes keys that are not plain identifiers', (t) => {
  t.is(renderPath(['nodes', 1, 'address']), 'nodes[1].address');
  t.is(renderPath(['vip', 'addresses', 0]), 'vip.addresses[0]');
  t.is(renderPath(['labels', 'rack.id']), 'labels["rack.id"]');
  t.is(renderPath(['vip', 'a\nb\u001b']), 'vip["a\\nb\\u001b"]');
  t.is(renderPath([]), '(profile)');
});

test('secret fields', (t) => {
  for (const p of [['keepalived', 'authPass'], ['token'], ['x', 'certificateKey'], ['password'], ['a', 'clientSecret']])
    t.true(isSecretPath(p), renderPath(p));
  for (const p of [['keepalived', 'authPassFile'], ['nodes', 0, 'name'], ['vip', 'port'], ['keys', 0]])
    t.false(isSecretPath(p), renderPath(p));
});

test('showValue escapes, cuts and redacts', (t) => {
  t.is(showValue(['nodes', 1, 'address'], '172.16.217'), '"172.16.217"');
  t.is(showValue(['x'], 'a\nb"\u0000'), '"a\\nb\\"\\u0000"');
  t.is(showValue(['x'], 'nоde'), '"n\\u{43e}de"'); // Cyrillic o
  t.is(showValue(['keepalived', 'authPass'], 'hunter2!!'), '<redacted>');
  t.is(showValue(['x'], 7), '7');
  t.is(showValue(['x'], [1]), 'an array');
  t.is(showValue(['x'], { a: 1 }), 'a table');
  t.is(showValue(['x'], undefined), 'nothing');
  t.is(showValue(['x'], 'y'.repeat(100)), `"${'y'.repeat(60)}"... (100 characters)`);
});

test('formatProblems: Butane-style report with the source line and a caret under the value', (t) => {
  const text = fixture('bad-node-address.toml');
  const path = ['nodes', 1, 'address'];
  const p = { ...error('E_FORMAT', path, `expected an IPv4 address, got ${showValue(path, '172.16.217')}`, 'four dot-separated numbers'), ...locate(text, 'toml', path) };
  t.is(
    formatProblems('p.toml', [p, warning('W_SINGLE_NODE', ['nodes'], 'm')], text),
    [
      'p.toml:22:11: error E014 at nodes[1].address: expected an IPv4 address, got "172.16.217"',
      '  address = "172.16.217"',
      '            ^',
      '  hint: four dot-separated numbers',
      'p.toml: warning W102 at nodes: m',
    ].join('\n'),
  );
});

test('sourceExcerpt never shows a secret value or a control character', (t) => {
  const text = 'keepalived:\n  authPass: "s3cr\\x1b[2Jet"\n  other: {token: abc, image: "x\u001b[31m"}\n\tauthPass = "unterminated\n';
  const p1 = ['keepalived', 'authPass'];
  const r1 = sourceExcerpt(text, locate(text, 'yaml', p1)!, p1)!;
  t.false(r1.includes('s3cr'), r1);
  t.true(r1.includes('authPass: <redacted>'), r1);
  const p2 = ['keepalived', 'other', 'image'];
  const r2 = sourceExcerpt(text, locate(text, 'yaml', p2)!, p2)!;
  t.false(r2.includes('abc'), r2);
  t.false(r2.includes('\u001b'), r2);
  t.is(r2, '    other: {token: <redacted>, image: "x?[31m"}\n                                      ^');
  t.is(sourceExcerpt(text, { line: 4, col: 2 }, [])!, '  \tauthPass = <redacted>\n  \t^');
  t.is(sourceExcerpt(text, { line: 40, col: 1 }, []), undefined);
});

test('sourceExcerpt keeps the caret under its value when a secret before it is masked', (t) => {
  const text = 'keepalived = { authPass = "averylongone", image = 7 }\n';
  const p = ['keepalived', 'image'];
  t.is(sourceExcerpt(text, locate(text, 'toml', p)!, p), '  keepalived = { authPass = <redacted>, image = 7 }\n                                                ^');
});

test('sourceExcerpt: long lines are cut around the caret, in linear time', (t) => {
  const text = (n: number) => `name = "${'x'.repeat(n)}", port = 1`;
  // Linear time, compared with itself rather than a wall-clock limit (the suite shares 2 CPUs):
  // 10x the length may cost ~10x, never the ~100x of quadratic backtracking. Best of 5 each.
  const cost = (n: number) => Math.min(...Array.from({ length: 5 }, () => {
    const started = performance.now();
    sourceExcerpt(text(n), { line: 1, col: n + 19 }, ['port']);
    return performance.now() - started;
  }));
  // A quadratic masking is ~100x slower every time; machine load only makes some attempts slow,
  // so the bound must hold in one of three attempts (each interleaving small and large runs).
  const attempts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const [small, large] = [cost(20_000), cost(200_000)];
    attempts.push(`${small.toFixed(2)} ms -> ${large.toFixed(2)} ms`);
    if (large < Math.max(small, 0.5) * 40) break;
  }
  const last = attempts[attempts.length - 1]!.split(' ms -> ').map((x) => Number.parseFloat(x));
  t.true(last[1]! < Math.max(last[0]!, 0.5) * 40, `masking must not backtrack quadratically (10x the text, 3 attempts): ${attempts.join('; ')}`);
  const long = text(70_000);
  const shown = sourceExcerpt(long, { line: 1, col: 70_019 }, ['port'])!;
  const [line, caret] = shown.split('\n');
  t.is(line, `  …${'x'.repeat(149)}", port = 1`); // the last 160 code points
  t.is(caret!.indexOf('^'), line!.indexOf('1'));
  const head = sourceExcerpt(`token = "${'s'.repeat(300)}"`, { line: 1, col: 1 }, [])!;
  t.false(head.includes('sss'), head);
});

test('sourceExcerpt of a secret path placed on a header or key line masks, does not cut', (t) => {
  t.is(sourceExcerpt('[keepalived]\n', { line: 1, col: 1 }, ['keepalived', 'authPass']), '  [keepalived]\n  ^');
  t.is(sourceExcerpt('  authPass: |\n    s3cret\n', { line: 2, col: 5 }, ['keepalived', 'authPass']), '      <redacted>\n      ^');
});
