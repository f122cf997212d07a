/**
 * Shared by the day-two tests (diff, rollout): profiles/seed.toml and edits of it, and an
 * earlier render of it to compare against.
 */
import type { ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT } from './cli.js';
import { FIXTURE_SECRETS_FILE } from './secrets.js';
import { testDir } from './tools.js';

/** profiles/seed.toml: three control-plane nodes k8s-cp-1..3 (172.16.217.171-173). */
export const SEED = readFileSync(join(ROOT, 'profiles', 'seed.toml'), 'utf8');
/** The fixture secrets as CLI arguments. */
export const S = ['--secrets', FIXTURE_SECRETS_FILE];
/** A fourth control-plane node to append to {@link SEED}. */
export const CP4 = '\n[[nodes]]\nname = "k8s-cp-4"\naddress = "172.16.217.174/16"\n';
/** A worker to append to {@link SEED}. */
export const WORKER = '\n[[workers]]\nname = "w-1"\naddress = "172.16.218.10/16"\n';
/** {@link SEED} without k8s-cp-3. */
export const WITHOUT_CP3 = SEED.replace(/\n\[\[nodes\]\]\nname = "k8s-cp-3"\naddress = "172.16.217.173\/16"\n/, '\n');

/** A temporary directory with old.toml ({@link SEED}) rendered into out/ with the fixture secrets. */
export function rendered(t: ExecutionContext): string {
  const dir = testDir(t);
  writeFileSync(join(dir, 'old.toml'), SEED);
  const r = cli(['render', 'old.toml', '--out', 'out', ...S], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  return dir;
}
