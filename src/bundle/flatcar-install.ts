import { stableJson } from './json.js';
import { DEFAULT_IGNITION_VERSION } from '../versions.js';

/**
 * The install Ignition config a Flatcar node in install mode PXE-boots with (the pattern of
 * Typhoon's and Matchbox's Flatcar install profiles, poseidon/typhoon bare-metal and
 * poseidon/matchbox examples): one enabled oneshot unit, `k8s-ha-install.service`, that
 * downloads the node's own Ignition config, runs `flatcar-install -d <disk> -i <config>`
 * (Flatcar docs, "Installing to disk": the script ships in the PXE image and installs the
 * release that was PXE-booted), waits for udev and reboots. The node then boots from disk and
 * its own config runs on that first boot. The unit exists only in the RAM-booted installer, so
 * it runs once per PXE boot; put the disk before the network in the boot order (an empty disk
 * falls through to PXE) so that an installed node does not install again.
 *
 * Ignition spec {@link DEFAULT_IGNITION_VERSION} (3.3.0), which Flatcar (Ignition 2.20), Matchbox
 * and Debian's ignition-validate all read. The unit runs its commands directly (no shell): `nodeConfigUrl` and `disk` were
 * validated (profile/values.ts bootUrlProblem, isInstallDisk) and carry no quote, space or `$`;
 * `%`, systemd's specifier character, is doubled (systemd.unit(5), "Specifiers").
 *
 * @param nodeConfigUrl Where the installer fetches the node's Ignition config.
 * @param disk The block device flatcar-install wipes and writes Flatcar to.
 * @returns The config as deterministic JSON text.
 */
export function flatcarInstallIgnition(nodeConfigUrl: string, disk: string): string {
  const unitValue = (value: string) => value.replaceAll('%', '%%');
  const unit = [
    '[Unit]',
    `Description=k8s-ha: install Flatcar to ${unitValue(disk)} with this node's Ignition config, then reboot from disk`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/usr/bin/curl --fail --silent --show-error --location --retry 10 --retry-connrefused --output /run/k8s-ha-node.ign ${unitValue(nodeConfigUrl)}`,
    `ExecStart=/usr/bin/flatcar-install -d ${unitValue(disk)} -i /run/k8s-ha-node.ign`,
    'ExecStart=/usr/bin/udevadm settle',
    'ExecStart=/usr/bin/systemctl reboot',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return stableJson({
    ignition: { version: DEFAULT_IGNITION_VERSION },
    systemd: { units: [{ name: 'k8s-ha-install.service', enabled: true, contents: unit }] },
  });
}
