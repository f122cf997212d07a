import { readFileSync } from 'node:fs';
import type { Plan } from '../src/model.js';
import { parseProfile } from '../src/profile/load.js';

/**
 * The plan of the TOML profile `file` with `workers` `[[workers]]` entries appended to its
 * text (a MAC each, DHCP), loaded through the real parser, schema and resolver: a fleet as a
 * user would write it. Addresses are in 198.18.0.0/15 (benchmarking range, RFC 2544), from
 * 198.18.1.0 on; the profile's nodes must use a /15 prefix or none.
 */
export function fleetPlan(file: string, workers: number): Plan {
  const entries = Array.from({ length: workers }, (_, i) => {
    const n = i + 256;
    const hex = (b: number) => b.toString(16).padStart(2, '0');
    return [
      '[[workers]]',
      `name = "worker-${String(i + 1).padStart(4, '0')}"`,
      `address = "198.18.${n >> 8}.${n & 0xff}"`,
      `mac = "52:54:01:00:${hex((n >> 8) & 0xff)}:${hex(n & 0xff)}"`,
      '',
    ].join('\n');
  });
  return parseProfile(file, `${readFileSync(file, 'utf8')}\n${entries.join('\n')}`, {}).plan;
}
