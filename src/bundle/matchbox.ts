import type { BootImage } from './boot.js';
import { ignitionSpec, IGNITION_SPECS, MATCHBOX_MAX_IGNITION, type IgnitionVersion } from '../versions.js';
import { fail } from '../profile/errors.js';
import { stableJson } from './json.js';

/**
 * Matchbox (poseidon/matchbox) data-dir files, one group and one profile per node as Typhoon
 * does for its controllers (docs/matchbox.md, "Groups and Profiles"):
 * - `groups/<name>.json`: `{id, name, profile, selector: {mac}}`; Matchbox normalises the
 *   `mac` label of requests to the colon form, as written here. A Flatcar node in install
 *   mode also gets `groups/<name>-installed.json` (`selector: {mac, os: installed}`) and
 *   `profiles/<name>-installed.json`, which serve its own config to the install config's
 *   `/ignition?mac=..&os=installed` request (Typhoon's install/installed pair).
 * - `profiles/<name>.json`: `{id, name, boot: {kernel, initrd[], args[]}, ignition_id?}`;
 *   Matchbox renders `boot` into iPXE as `kernel KERNEL ARGS...` plus `initrd ENTRY` per
 *   initrd entry, so entries carry `--name NAME URL` and the args `initrd=NAME`.
 * - `ignition/<name>.ign`: the node's Ignition config, served by `/ignition?mac=...`;
 *   `ignition/<name>-install.ign` a Flatcar node's install config (./flatcar-install.ts).
 */

/**
 * `matchbox/groups/<id>.json`: selects profile `profile` by `selector` labels (the MAC as
 * `aa:bb:..`, plus `os: installed` for a Flatcar node's installed-system group; Matchbox picks
 * the group with the most matching selectors, docs/matchbox.md).
 */
export function matchboxGroup(id: string, profile: string, selector: Record<string, string>): string {
  return stableJson({ id, name: id, profile, selector });
}

/**
 * `matchbox/profiles/<id>.json` for one node.
 * @param image The PXE boot, absent for a profile that only serves Ignition (an installed
 *   Flatcar system booting from disk).
 * @param ignitionId The file under `ignition/` it serves, absent for cloud-init OSes.
 */
export function matchboxProfile(id: string, image: BootImage | undefined, ignitionId?: string): string {
  return stableJson({
    id,
    name: id,
    ...(image === undefined ? {} : {
      boot: {
        kernel: image.kernel,
        initrd: image.initrds.map((initrd) => `--name ${initrd.name} ${initrd.url}`),
        args: [...image.initrds.map((initrd) => `initrd=${initrd.name}`), ...image.args],
      },
    }),
    ...(ignitionId === undefined ? {} : { ignition_id: ignitionId }),
  });
}

/**
 * Checks that Matchbox can serve Ignition of spec `version` (src/versions.ts `matchbox`:
 * Matchbox vendors Ignition's config/v3_4, so 3.5.0 configs fail there);
 * every node of a bundle is rendered at that one version.
 * @throws ProblemError (field `--ignition-version`) for a newer spec.
 */
export function checkMatchboxIgnition(version: IgnitionVersion): void {
  if (!ignitionSpec(version)?.matchbox) {
    fail('E_BOOT', ['--ignition-version'], `Matchbox parses Ignition spec ${IGNITION_SPECS[0].spec} to ${MATCHBOX_MAX_IGNITION}, not ${version}`,
      `--ignition-version ${MATCHBOX_MAX_IGNITION} (or older) for a bundle of an Ignition OS`);
  }
}
