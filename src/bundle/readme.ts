import type { BootSettings } from '../model.js';
import { ASSET_FILES, usesIgnition } from './boot.js';

/**
 * `README.txt` at the top of the bundle: what each directory is and where to serve it, with
 * the profile's own URLs and asset names filled in.
 */
export function bundleReadme(boot: BootSettings): string {
  const assets = ASSET_FILES[boot.os];
  const assetNames = [assets.kernel, assets.initrd, ...('rootfs' in assets ? [assets.rootfs] : [])];
  return [
    `k8s-ha network-boot bundle (os: ${boot.os})`,
    '',
    `Serve this directory, unpacked, at ${boot.configUrl}/ (any static HTTP server).`,
    `Serve the OS boot files at ${boot.assetsUrl}/ under these names:`,
    ...assetNames.map((name) => `  ${name}`),
    '',
    'nodes/<name>/      per node: user-data, meta-data, network-config (static nodes only)',
    '                   = a NoCloud seed, fetched with ds=nocloud;s=<url>/nodes/<name>/;',
    usesIgnition(boot.os)
      ? '                   config.ign = the node\'s Ignition config (ignition.config.url).'
      : '                   config.ign = the same configuration as Ignition, for reference.',
    'ipxe/boot.ipxe     give this to iPXE (see dnsmasq.conf.example); it chains to',
    'ipxe/<mac>.ipxe    the booting NIC\'s own script, MAC written aa-bb-cc-dd-ee-ff.',
    'pxelinux.cfg/      01-<mac> per node, for lpxelinux.0 (http URLs need lpxelinux.0).',
    'matchbox/          groups/, profiles/, ignition/: copy into Matchbox\'s data dir',
    '                   (/var/lib/matchbox); profiles point Ignition at Matchbox\'s',
    '                   /ignition?mac=... endpoint.',
    'dnsmasq.conf.example  DHCP/TFTP settings for chain-loading iPXE.',
    '',
    'user-data, config.ign and matchbox/ignition/* carry cluster secrets (mode 0600):',
    'serve them only to the machines they are for, on a trusted network.',
    '',
  ].join('\n');
}
