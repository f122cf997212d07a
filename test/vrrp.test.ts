/**
 * VRRP timing (src/profile/vrrp.ts) and the W107 check built on it: two backups whose skews
 * are too close may both take the VIP when the master dies.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProfile } from '../src/profile/load.js';
import { masterDownMs, skewMs } from '../src/profile/vrrp.js';
import { ROOT } from './helpers/cli.js';

test('skew and master-down interval follow RFC 3768 / RFC 5798 6.1', (t) => {
  t.is(skewMs(128, 1, 2), 500); // (256 - 128) / 256 s
  t.is(skewMs(255, 3, 2), 1000 / 256, 'VRRPv2 ignores advert_int');
  t.is(skewMs(128, 0.5, 3), 250, 'VRRPv3 scales by advert_int');
  t.is(masterDownMs(128, 1, 2), 3500);
  t.is(masterDownMs(128, 0.5, 3), 1750);
});

const SEED = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');

/** The seed profile with these node priorities and, optionally, another advertInterval. */
function profile(priorities: number[], advertInterval?: number): string {
  let n = 0;
  let text = SEED.replace(/^\[\[nodes\]\]$/gm, () => `[[nodes]]\npriority = ${priorities[n++]}`);
  if (advertInterval !== undefined) text = text.replace(/^advertInterval = .*$/m, `advertInterval = ${advertInterval}`);
  return text;
}

const cases: [string, number[], number | undefined, boolean][] = [
  ['v2, priorities 1 apart: skews 3.9 ms apart', [150, 149, 130], undefined, true],
  ['v2, priorities 10 apart: 39 ms', [150, 140, 130], undefined, false],
  ['v2, the close pair is not the first: 150, 100, 99', [150, 100, 99], undefined, true],
  ['v3 at 0.2 s, priorities 20 apart: 15.6 ms', [250, 230, 210], 0.2, true],
  ['v3 at 0.2 s, priorities 30 apart: 23.4 ms', [250, 220, 190], 0.2, false],
];
for (const [name, priorities, advert, warned] of cases) {
  test(`W107: ${name}`, (t) => {
    const text = profile(priorities, advert);
    t.true(text.includes(`priority = ${priorities[2]}`), 'the priorities are in the profile');
    if (advert !== undefined) t.true(text.includes(`advertInterval = ${advert}`), 'and the advertInterval');
    const { problems } = parseProfile('p.toml', text, {});
    t.deepEqual(problems.filter((p) => p.severity === 'error'), []);
    t.is(problems.some((p) => p.code === 'W_SKEW_GAP'), warned, JSON.stringify(problems.map((p) => p.message)));
  });
}
