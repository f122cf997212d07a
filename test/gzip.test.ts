/**
 * gzip() sizes zlib's window to its input (src/formats/cloud-init.ts gzipWindowBits) and must
 * still give exactly the bytes of zlib's default 32 KiB window: user-data and Ignition data
 * URLs, and so the golden files and every node's instance-id, depend on them.
 */
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { gzip, gzipWindowBits } from '../src/formats/cloud-init.js';

/** What gzip() gave before it sized the window: level 9, zlib's default window (15 bits). */
const reference = (b: Uint8Array) => gzipSync(b, { level: 9 });

/** A marker zlib takes as a match wherever it repeats (a 3-byte one can stay literal). */
const MARK = 'k8s-ha-far-match';

/**
 * `length` bytes that start and end with MARK and repeat nothing else (random hex in between):
 * a match `length - 16` bytes back, about as far as input of that length can reach, so a
 * window even a little too small changes the output.
 */
function farMatch(length: number): Buffer {
  const middle = randomBytes(length).toString('hex').slice(0, length - 2 * MARK.length);
  return Buffer.from(`${MARK}${middle}${MARK}`);
}

test('the window is the smallest whose reach covers the input (zlib MAX_DIST = window - 262)', (t) => {
  const cases: Array<[length: number, bits: number]> = [
    [0, 9], [1, 9], [251, 9], [512 - 261, 9], [512 - 260, 10], [1024 - 261, 10], [1024 - 260, 11],
    [4096, 13], [32768 - 261, 15], [32768, 15], [1 << 20, 15],
  ];
  for (const [length, bits] of cases) t.is(gzipWindowBits(length), bits, `length ${length}`);
});

test('same bytes as the default window at every window boundary, with a match nearly as far back as the input reaches', (t) => {
  for (let bits = 9; bits <= 15; bits++) {
    const edge = (1 << bits) - 261;
    for (const length of [edge - 1, edge, edge + 1, edge + 2, edge + 3, edge + 30, edge + 300]) {
      const input = farMatch(length);
      t.deepEqual(gzip(input), reference(input), `length ${length} (window ${gzipWindowBits(length)} bits)`);
    }
  }
});

test('same bytes as the default window for any text (property, 300 cases)', (t) => {
  // Short alphabets make long, repeated, overlapping matches; the sizes span windows 9 to 15.
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', '\n', ' '), maxLength: 40_000 }),
    fc.string({ unit: 'binary', maxLength: 5_000 }),
    fc.tuple(fc.string({ maxLength: 300 }), fc.nat({ max: 200 })).map(([s, n]) => s.repeat(n)),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(text, (s) => {
        const bytes = Buffer.from(s, 'utf8');
        return gzip(s).equals(reference(bytes)) && gzip(bytes).equals(reference(bytes));
      }),
      { numRuns: 300 },
    ),
  );
});
