/**
 * Profiles made for a test from the bundled ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/**
 * profiles/seed.toml (3 control-plane nodes) plus `n` workers on 198.18.0.0/15 (the suite's
 * test range), named by `name` (default `w0`, `w1`...), as TOML text.
 */
export function seedWithWorkers(n: number, name: (i: number) => string = (i) => `w${i}`): string {
  const seed = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');
  return seed + Array.from({ length: n }, (_, i) => `\n[[workers]]\nname = "${name(i)}"\naddress = "198.18.${1 + (i >> 8)}.${i & 255}"\n`).join('');
}
