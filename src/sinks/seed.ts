import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { writeStreamAtomic } from './atomic.js';
import { findExecutable } from '../system.js';
import { fail } from '../profile/errors.js';

/** The files of a NoCloud seed (cloud-init docs, "NoCloud"): network-config is optional. */
export interface SeedFiles {
  'user-data': string;
  'meta-data': string;
  'network-config'?: string;
}

/** An ISO 9660 authoring tool found on PATH. */
export interface IsoTool {
  name: 'xorriso' | 'genisoimage';
  path: string;
  /** True for xorriso, which honours SOURCE_DATE_EPOCH (xorrisofs(1)); genisoimage stamps the current time. */
  reproducible: boolean;
}

/** Volume label cloud-init's NoCloud datasource looks for. */
export const SEED_LABEL = 'cidata';

/**
 * Finds xorriso (preferred: byte-reproducible) or genisoimage on `PATH`.
 * @throws ProblemError (E070, about the machine: `k8s-ha`) when neither is installed, with the apt-get command.
 */
export async function findIsoTool(path = process.env.PATH ?? ''): Promise<IsoTool> {
  for (const name of ['xorriso', 'genisoimage'] as const) {
    const found = await findExecutable(name, path);
    if (found !== undefined) return { name, path: found, reproducible: name === 'xorriso' };
  }
  fail('E_TOOL', [], 'neither xorriso nor genisoimage is installed; one is needed to write the ISO', 'apt-get install xorriso', 'k8s-ha', '');
}

/**
 * Writes a NoCloud seed ISO to `out` (mode 0600: user-data carries secrets): an ISO 9660
 * volume labelled `cidata` with Joliet and Rock Ridge names holding `files` at its root.
 * With xorriso the image is byte-reproducible: the files are given mtime 0 and xorriso runs
 * with SOURCE_DATE_EPOCH=0, which fixes the volume dates, the file dates it records and its
 * volume UUID (xorrisofs(1), ENVIRONMENT). The files are staged in a private (0700) temporary
 * directory that is removed afterwards.
 *
 * @returns The tool used (callers warn when it is not reproducible).
 * @throws ProblemError (E070) from {@link findIsoTool}, or with the tool's stderr when it fails.
 */
export async function writeSeedIso(out: string, files: SeedFiles, tool?: IsoTool): Promise<IsoTool> {
  const iso = tool ?? (await findIsoTool());
  const dir = await mkdtemp(join(tmpdir(), 'k8s-ha-seed-'));
  try {
    const names = (Object.keys(files) as (keyof SeedFiles)[]).sort();
    for (const name of names) {
      const path = join(dir, name);
      await writeFile(path, files[name] ?? '', { mode: 0o600 });
      await utimes(path, 0, 0);
    }
    const image = join(dir, 'seed.iso');
    const args = iso.name === 'xorriso'
      ? ['-as', 'mkisofs', '-quiet', '-o', image, '-V', SEED_LABEL, '-J', '-r', ...names]
      : ['-quiet', '-output', image, '-volid', SEED_LABEL, '-joliet', '-rock', ...names];
    try {
      await promisify(execFile)(iso.path, args, { cwd: dir, env: { ...process.env, SOURCE_DATE_EPOCH: '0' }, timeout: 60_000 });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      fail('E_TOOL', [], `${iso.name} failed to write the seed ISO: ${stderr.trim() || (error as Error).message}`, undefined, 'k8s-ha', '');
    }
    await writeStreamAtomic(out, (stream) => pipeline(createReadStream(image), stream));
    return iso;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
