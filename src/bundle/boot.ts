import { BOOT_MODES, BOOT_OSES, DEFAULT_BOOT_MODE, DEFAULT_INSTALL_DISK, type BootMode, type BootOs, type BootSettings } from '../model.js';
import { fail, type FieldPath } from '../profile/errors.js';
import { INSTALL_DISK_RULE, isInstallDisk } from '../profile/values.js';
import { ipKernelArg, staticNetwork, type NetworkNode } from './network.js';
import { checkBaseUrl, checkKernelArg } from './validate.js';


/** An initrd image: `name` is what iPXE's `initrd --name` and the `initrd=` argument use. */
export interface Initrd {
  name: string;
  url: string;
}

/**
 * What a boot loader must load for one node: the kernel, its initrds and the kernel arguments
 * (without the loader-specific `initrd=` argument, which each loader spells differently).
 */
export interface BootImage {
  kernel: string;
  initrds: Initrd[];
  args: string[];
}

/**
 * Asset file names under `assetsUrl`, per OS. Serve (or symlink) the release files under these
 * names; {@link UPSTREAM_FILES} gives the names they are published under.
 * - flatcar: the PXE images of a Flatcar release (flatcar.org docs, "Booting with iPXE").
 * - fcos: the live PXE artifacts of a Fedora CoreOS release, whose published names carry the
 *   version (`fedora-coreos-<V>-live-kernel-x86_64`, ...); here without it.
 * - ubuntu: `vmlinuz` and `initrd` from the live-server ISO's `casper/` directory, and the ISO
 *   itself, which casper downloads and loop-mounts (`url=`; Ubuntu Server docs, "How to netboot
 *   the server installer on amd64").
 */
export const ASSET_FILES = {
  flatcar: { kernel: 'flatcar_production_pxe.vmlinuz', initrd: 'flatcar_production_pxe_image.cpio.gz' },
  fcos: {
    kernel: 'fedora-coreos-live-kernel-x86_64',
    initrd: 'fedora-coreos-live-initramfs.x86_64.img',
    rootfs: 'fedora-coreos-live-rootfs.x86_64.img',
  },
  ubuntu: { kernel: 'vmlinuz', initrd: 'initrd', iso: 'ubuntu-live-server-amd64.iso' },
} as const satisfies Record<BootOs, { kernel: string; initrd: string; rootfs?: string; iso?: string }>;

/**
 * Where each asset of {@link ASSET_FILES} comes from: its upstream file name (`<V>` = the
 * release version), for the bundle README. Sources: Flatcar "Booting with iPXE" (release
 * server `amd64-usr/current/`), Fedora CoreOS download page (live PXE artifacts), Ubuntu
 * Server "How to netboot the server installer on amd64" (ISO and its casper/ files).
 */
export const UPSTREAM_FILES: Record<BootOs, Record<string, string>> = {
  flatcar: {
    [ASSET_FILES.flatcar.kernel]: 'flatcar_production_pxe.vmlinuz (https://stable.release.flatcar-linux.net/amd64-usr/<V>/)',
    [ASSET_FILES.flatcar.initrd]: 'flatcar_production_pxe_image.cpio.gz (same directory)',
  },
  fcos: {
    [ASSET_FILES.fcos.kernel]: 'fedora-coreos-<V>-live-kernel-x86_64',
    [ASSET_FILES.fcos.initrd]: 'fedora-coreos-<V>-live-initramfs.x86_64.img',
    [ASSET_FILES.fcos.rootfs]: 'fedora-coreos-<V>-live-rootfs.x86_64.img',
  },
  ubuntu: {
    [ASSET_FILES.ubuntu.kernel]: 'casper/vmlinuz inside ubuntu-<V>-live-server-amd64.iso',
    [ASSET_FILES.ubuntu.initrd]: 'casper/initrd inside the same ISO',
    [ASSET_FILES.ubuntu.iso]: 'ubuntu-<V>-live-server-amd64.iso itself',
  },
};

/**
 * `[boot]` settings as {@link checkBootSettings} returns them: base URLs without a trailing
 * slash, and `matchboxUrl`, `mode` and `installDisk` always set (defaults filled in).
 */
export type CheckedBootSettings = BootSettings & { matchboxUrl: string; mode: BootMode; installDisk: string };

/** A node's effective boot mode and install disk ({@link nodeBoot}). */
export interface NodeBoot {
  mode: BootMode;
  installDisk: string;
}

/**
 * Validates a `[boot]` section and returns it normalised ({@link CheckedBootSettings}).
 * @throws ProblemError naming `boot.<field>` for a bad URL, OS, mode, install disk or kernel
 *   argument, or for `mode = "live"` with `os = "ubuntu"`.
 */
export function checkBootSettings(boot: BootSettings): CheckedBootSettings {
  if (!BOOT_OSES.includes(boot.os)) {
    fail('E_BOOT', ['boot', 'os'], `${JSON.stringify(boot.os)} is not supported`, `one of ${BOOT_OSES.join(', ')}`);
  }
  const checked = {
    os: boot.os,
    assetsUrl: checkBaseUrl(boot.assetsUrl, ['boot', 'assetsUrl']),
    configUrl: checkBaseUrl(boot.configUrl, ['boot', 'configUrl']),
    kernelArgs: boot.kernelArgs.map((arg, i) => checkKernelArg(arg, ['boot', 'kernelArgs', i])),
    matchboxUrl: checkBaseUrl(boot.matchboxUrl ?? boot.configUrl, ['boot', boot.matchboxUrl === undefined ? 'configUrl' : 'matchboxUrl']),
    mode: checkMode(boot.os, boot.mode ?? DEFAULT_BOOT_MODE, ['boot', 'mode']),
    installDisk: checkInstallDisk(boot.installDisk ?? DEFAULT_INSTALL_DISK, ['boot', 'installDisk']),
  };
  return checked;
}

/**
 * The node's boot mode and install disk: its own `boot` table over `[boot]`'s.
 * @throws ProblemError (field `nodes[i].boot.mode` / `.installDisk`) for a bad override.
 */
export function nodeBoot(boot: CheckedBootSettings, node: NetworkNode): NodeBoot {
  const at = (field: string) => ['nodes', node.index, 'boot', field];
  return {
    mode: node.boot?.mode === undefined ? boot.mode : checkMode(boot.os, node.boot.mode, at('mode')),
    installDisk: node.boot?.installDisk === undefined ? boot.installDisk : checkInstallDisk(node.boot.installDisk, at('installDisk')),
  };
}

function checkMode(os: BootOs, mode: BootMode, field: FieldPath): BootMode {
  if (!BOOT_MODES.includes(mode)) fail('E_BOOT', field, `${JSON.stringify(mode)} is not a boot mode`, `one of ${BOOT_MODES.join(', ')}`);
  if (os === 'ubuntu' && mode === 'live') {
    fail('E_BOOT', field, 'Ubuntu has no live PXE image that runs a node from RAM: its netboot path is the live-server installer',
      'mode = "install" (subiquity autoinstall to installDisk), or os = "flatcar" / "fcos" for live nodes');
  }
  return mode;
}

function checkInstallDisk(disk: string, field: FieldPath): string {
  if (!isInstallDisk(disk)) fail('E_BOOT', field, `${JSON.stringify(disk)} is not a block device path`, INSTALL_DISK_RULE);
  return disk;
}

/** Bundle path of a node's Ignition config. */
export const ignitionPath = (name: string): string => `nodes/${name}/config.ign`;

/** Bundle path of a Flatcar node's install Ignition config (install mode only). */
export const flatcarInstallPath = (name: string): string => `nodes/${name}/install.ign`;

/** NoCloud seed URL of a node inside the served bundle (trailing slash required by cloud-init). */
const nocloudUrl = (boot: BootSettings, name: string): string => `${boot.configUrl}/nodes/${name}/`;

/**
 * The Ignition URLs a node's kernel arguments name: `ignition`, the node's own config, and
 * `flatcarInstall`, the install config a Flatcar node in install mode PXE-boots with.
 */
export interface IgnitionUrls {
  ignition: string;
  flatcarInstall: string;
}

/** The node's configs inside the served bundle (`<configUrl>/nodes/<name>/...`). */
export const bundleIgnitionUrls = (boot: BootSettings, name: string): IgnitionUrls => ({
  ignition: `${boot.configUrl}/${ignitionPath(name)}`,
  flatcarInstall: `${boot.configUrl}/${flatcarInstallPath(name)}`,
});

/**
 * The boot image of one node for `boot.os` and the node's mode (settings already checked by
 * {@link checkBootSettings}):
 * - flatcar live: `flatcar.first_boot=1 ignition.config.url=<config>` (Flatcar PXE docs).
 * - flatcar install: the same PXE boot, but `ignition.config.url` names the install config
 *   ({@link flatcarInstallIgnition}), which runs `flatcar-install` and reboots from disk.
 * - fcos live: `coreos.live.rootfs_url=<rootfs> ignition.firstboot ignition.platform.id=metal
 *   ignition.config.url=<config>` with the initramfs named `main` (Fedora CoreOS docs, "Live
 *   booting via PXE").
 * - fcos install: `coreos.live.rootfs_url=<rootfs> coreos.inst.install_dev=<disk>
 *   coreos.inst.ignition_url=<config>`: the live system runs coreos-installer, which writes the
 *   OS and the node's config to the disk and reboots (Fedora CoreOS docs, "Installing on bare
 *   metal", PXE; coreos-installer "Kernel command line options").
 * - ubuntu install: the live-server installer, `url=<ISO> autoinstall
 *   ds=nocloud-net;s=<configUrl>/nodes/<name>/ cloud-config-url=/dev/null`: casper fetches
 *   and loop-mounts the ISO, subiquity reads the autoinstall document from the NoCloud seed
 *   (./autoinstall.ts). `cloud-config-url=/dev/null` stops cloud-init from fetching `url=`
 *   (the whole ISO) as a legacy cloud-config URL: it takes the first of `cloud-config-url`,
 *   `url` on the command line (cloud-init cloudinit/cmd/main.py parse_cmdline_url). `ip=dhcp`
 *   when the node has no static settings (casper needs a network to fetch the ISO). The `;`
 *   needs no quoting in iPXE (only a lone `;` token ends a command, ipxe src/core/exec.c) nor
 *   in a pxelinux APPEND line; GRUB would need it quoted, and the bundle writes no GRUB config.
 * Then `ip=...` for a statically configured node, then `boot.kernelArgs`.
 *
 * @param urls Where the node fetches its Ignition configs; default the bundle's
 *   `nodes/<name>/` files (Matchbox passes its own `/ignition?mac=` endpoints).
 * @throws ProblemError from {@link staticNetwork} for inconsistent network settings, or from
 *   {@link nodeBoot} for a bad per-node override.
 */
export function bootImage(boot: CheckedBootSettings, node: NetworkNode, urls: IgnitionUrls = bundleIgnitionUrls(boot, node.name)): BootImage {
  const asset = (file: string) => `${boot.assetsUrl}/${file}`;
  const net = staticNetwork(node);
  const ipArgs = net === undefined ? [] : [ipKernelArg(net)];
  const { mode, installDisk } = nodeBoot(boot, node);
  switch (boot.os) {
    case 'flatcar':
      return {
        kernel: asset(ASSET_FILES.flatcar.kernel),
        initrds: [{ name: ASSET_FILES.flatcar.initrd, url: asset(ASSET_FILES.flatcar.initrd) }],
        args: ['flatcar.first_boot=1', `ignition.config.url=${mode === 'install' ? urls.flatcarInstall : urls.ignition}`, ...ipArgs, ...boot.kernelArgs],
      };
    case 'fcos': {
      const rootfs = `coreos.live.rootfs_url=${asset(ASSET_FILES.fcos.rootfs)}`;
      return {
        kernel: asset(ASSET_FILES.fcos.kernel),
        initrds: [{ name: 'main', url: asset(ASSET_FILES.fcos.initrd) }],
        args: mode === 'install'
          ? [rootfs, `coreos.inst.install_dev=${installDisk}`, `coreos.inst.ignition_url=${urls.ignition}`, ...ipArgs, ...boot.kernelArgs]
          : [rootfs, 'ignition.firstboot', 'ignition.platform.id=metal', `ignition.config.url=${urls.ignition}`, ...ipArgs, ...boot.kernelArgs],
      };
    }
    case 'ubuntu':
      return {
        kernel: asset(ASSET_FILES.ubuntu.kernel),
        initrds: [{ name: ASSET_FILES.ubuntu.initrd, url: asset(ASSET_FILES.ubuntu.initrd) }],
        args: [
          `url=${asset(ASSET_FILES.ubuntu.iso)}`, 'autoinstall', `ds=nocloud-net;s=${nocloudUrl(boot, node.name)}`, 'cloud-config-url=/dev/null',
          ...(net === undefined ? ['ip=dhcp'] : ipArgs), ...boot.kernelArgs,
        ],
      };
  }
}

/** True when `os` boots from Ignition (and so needs `config.ign` served), false for cloud-init. */
export const usesIgnition = (os: BootOs): boolean => os !== 'ubuntu';
