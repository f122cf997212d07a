import YAML from 'yaml';
import { toYaml } from '../formats/yaml.js';
import { fail } from '../profile/errors.js';
import { networkV2, type StaticNetwork } from './network.js';

/**
 * Ubuntu's install mode: the NoCloud `user-data` the live-server installer (subiquity) reads
 * is an autoinstall document, a `#cloud-config` whose only key is `autoinstall` (subiquity
 * docs, "Autoinstall configuration reference manual": with cloud-config delivery every
 * autoinstall key sits under `autoinstall`, and other top-level keys are refused). Its keys:
 * - `version: 1`;
 * - `storage.layout`: `{name: direct, match: {path: <disk>}}`: the `direct` layout on the disk
 *   whose path matches (reference manual, "storage": layouts and match specs, `path` supports
 *   globbing);
 * - `network`: Netplan version 2, the node's static settings (./network.ts networkV2), when it
 *   has them; without, subiquity's default is DHCP on `eth*` and `en*` (reference, "network");
 * - `user-data`: the installed system's cloud-config, our rendered user-data as data
 *   (reference, "user-data": passed to cloud-init on the first boot of the installed system;
 *   with it, `identity` may be left out).
 * The document matches test/helpers/autoinstall-schema.ts, which tests check with ajv.
 */

/** The autoinstall document as data ({@link autoinstallUserData} serialises it). */
export interface AutoinstallDocument {
  autoinstall: {
    version: 1;
    storage: { layout: { name: 'direct'; match: { path: string } } };
    network?: ReturnType<typeof networkV2>;
    'user-data': Record<string, unknown>;
  };
}

/**
 * The autoinstall document for one node.
 * @param cloudConfig The node's rendered `#cloud-config` user-data (YAML text).
 * @param disk The install disk (checked: profile/values.ts isInstallDisk).
 * @param net The node's static network settings, if any.
 * @throws ProblemError when `cloudConfig` is not a YAML mapping (a renderer bug).
 */
export function autoinstallDocument(cloudConfig: string, disk: string, net: StaticNetwork | undefined): AutoinstallDocument {
  // YAML 1.1, as cloud-init (PyYAML) reads it and as formats/yaml.ts writes it.
  const userData: unknown = YAML.parse(cloudConfig, { version: '1.1' });
  if (userData === null || typeof userData !== 'object' || Array.isArray(userData)) {
    fail('E_BOOT', ['user-data'], 'the rendered user-data is not a cloud-config mapping', 'report this as a bug');
  }
  return {
    autoinstall: {
      version: 1,
      storage: { layout: { name: 'direct', match: { path: disk } } },
      ...(net === undefined ? {} : { network: networkV2(net) }),
      'user-data': userData as Record<string, unknown>,
    },
  };
}

/** {@link autoinstallDocument} as `#cloud-config` text, the NoCloud `user-data` of the installer. */
export function autoinstallUserData(cloudConfig: string, disk: string, net: StaticNetwork | undefined): string {
  return `#cloud-config\n${toYaml(autoinstallDocument(cloudConfig, disk, net), { sortKeys: false })}`;
}
