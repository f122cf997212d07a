import type { BootMode, BootOs } from '../model.js';
import { ASSET_FILES, UPSTREAM_FILES, type CheckedBootSettings } from './boot.js';

/**
 * `README.txt` at the top of the bundle: what each directory is and where to serve it, with
 * the profile's own URLs, the asset names (and their upstream names) and the boot mode of
 * each node filled in.
 * @param nodes The nodes with their effective boot mode and install disk (./boot.ts nodeBoot).
 */
export function bundleReadme(boot: CheckedBootSettings, nodes: { name: string; mode: BootMode; installDisk: string }[] = []): string {
  const assets = ASSET_FILES[boot.os];
  const assetNames = [assets.kernel, assets.initrd, ...('rootfs' in assets ? [assets.rootfs] : []), ...('iso' in assets ? [assets.iso] : [])];
  const upstream = UPSTREAM_FILES[boot.os];
  const width = Math.max(...assetNames.map((name) => name.length));
  const installs = nodes.filter((node) => node.mode === 'install');
  const lives = nodes.filter((node) => node.mode === 'live');
  return [
    `k8s-ha network-boot bundle (os: ${boot.os})`,
    '',
    `Serve this directory, unpacked, at ${boot.configUrl}/ (any static HTTP server).`,
    `Serve the OS boot files at ${boot.assetsUrl}/ under these names (upstream name after):`,
    ...assetNames.map((name) => `  ${name.padEnd(width)}  ${upstream[name] ?? ''}`),
    '',
    ...(installs.length === 0 ? [] : [
      `Install mode (${installs.map((node) => `${node.name} -> ${node.installDisk}`).join(', ')}):`,
      `  the PXE boot WIPES that disk and installs ${INSTALLERS[boot.os]};`,
      '  the node then reboots from disk and its own config runs on that first boot. Put the',
      '  disk before the network in the boot order (an empty disk falls through to PXE), or',
      '  it installs again.',
      ...(boot.os === 'ubuntu' ? [] : ['  The installer downloads the OS image from the vendor: it needs internet access.']),
      '',
    ]),
    ...(lives.length === 0 ? [] : [
      `Live mode (${lives.map((node) => node.name).join(', ')}): the OS runs from RAM on every boot;`,
      '  nothing written on the node survives a reboot (etcd data on control-plane nodes!).',
      '',
    ]),
    'nodes/<name>/      per node: user-data, meta-data, network-config (static nodes only)',
    '                   = a NoCloud seed, fetched with ds=nocloud-net;s=<url>/nodes/<name>/;',
    ...(boot.os === 'ubuntu'
      ? ['                   user-data is an autoinstall document (install mode) carrying the',
        '                   node\'s cloud-config under autoinstall.user-data; config.ign = the',
        '                   same configuration as Ignition, for reference.']
      : ['                   config.ign = the node\'s Ignition config.',
        ...(boot.os === 'flatcar' ? ['                   install.ign = the install config (install mode): it runs',
          '                   flatcar-install -d <disk> -i <config.ign> once and reboots.'] : [])]),
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

/** What install mode runs, per OS, for the README. */
const INSTALLERS: Record<BootOs, string> = {
  flatcar: 'Flatcar (flatcar-install, run by nodes/<name>/install.ign)',
  fcos: 'Fedora CoreOS (coreos-installer: coreos.inst.install_dev)',
  ubuntu: 'Ubuntu (subiquity autoinstall, storage layout "direct")',
};
