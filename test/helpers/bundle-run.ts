import { execFileSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../../src/bundle/build.js';
import { loadProfile } from '../../src/profile/load.js';
import type { BootOs, Plan } from '../../src/model.js';
import { testDir } from './tools.js';
import { FIXTURE_SECRETS } from './secrets.js';

/** Absolute path of a file under test/fixtures (tests run from dist/test/). */
export const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

/** The bundle test profile's plan, optionally booting another OS. */
export function labPlan(os?: BootOs): Plan {
  const { plan } = loadProfile(fixture('bundle.toml'), {});
  return os === undefined ? plan : { ...plan, boot: { ...plan.boot!, os } };
}

/** Builds the bundle of `plan` into a fresh directory and unpacks it; returns both paths. */
export async function unpackedBundle(t: ExecutionContext, plan: Plan): Promise<{ archive: string; dir: string }> {
  const work = testDir(t);
  const archive = join(work, 'bundle.tar.gz');
  await buildBundle(plan, { out: archive, secrets: FIXTURE_SECRETS });
  const dir = join(work, 'x');
  execFileSync('mkdir', [dir]);
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  return { archive, dir };
}
