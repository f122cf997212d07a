import { BOOT_OSES, type BootOs, type BootSettings } from '../model.js';
import { BundleError } from './errors.js';
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
 * Default asset file names under `assetsUrl`, per OS. Serve (or symlink) the release files
 * under these names.
 * - flatcar: the PXE images of a Flatcar release (flatcar-linux.org docs, "Booting with iPXE").
 * - fcos: the live PXE artifacts of a Fedora CoreOS release, whose published names carry the
 *   version (`fedora-coreos-<V>-live-kernel-x86_64`, ...); here without it.
 * - ubuntu: `vmlinuz` and `initrd` from the live-server ISO's `casper/` directory; the root
 *   (e.g. `url=<...>.iso` for casper) must come from `kernelArgs`.
 */
export const ASSET_FILES = {
  flatcar: { kernel: 'flatcar_production_pxe.vmlinuz', initrd: 'flatcar_production_pxe_image.cpio.gz' },
  fcos: {
    kernel: 'fedora-coreos-live-kernel-x86_64',
    initrd: 'fedora-coreos-live-initramfs.x86_64.img',
    rootfs: 'fedora-coreos-live-rootfs.x86_64.img',
  },
  ubuntu: { kernel: 'vmlinuz', initrd: 'initrd' },
} as const satisfies Record<BootOs, { kernel: string; initrd: string; rootfs?: string }>;

/**
 * `[boot]` settings as {@link checkBootSettings} returns them: base URLs without a trailing
 * slash, and `matchboxUrl` always set (`configUrl` when the profile leaves it out).
 */
export type CheckedBootSettings = BootSettings & { matchboxUrl: string };

/**
 * Validates a `[boot]` section and returns it normalised ({@link CheckedBootSettings}).
 * @throws BundleError naming `boot.<field>` for a bad URL, OS or kernel argument.
 */
export function checkBootSettings(boot: BootSettings): CheckedBootSettings {
  if (!BOOT_OSES.includes(boot.os)) {
    throw new BundleError('E_BOOT', ['boot', 'os'], `${JSON.stringify(boot.os)} is not supported`, `one of ${BOOT_OSES.join(', ')}`);
  }
  return {
    os: boot.os,
    assetsUrl: checkBaseUrl(boot.assetsUrl, ['boot', 'assetsUrl']),
    configUrl: checkBaseUrl(boot.configUrl, ['boot', 'configUrl']),
    kernelArgs: boot.kernelArgs.map((arg, i) => checkKernelArg(arg, ['boot', 'kernelArgs', i])),
    matchboxUrl: checkBaseUrl(boot.matchboxUrl ?? boot.configUrl, ['boot', boot.matchboxUrl === undefined ? 'configUrl' : 'matchboxUrl']),
  };
}

/** URL of a node's Ignition config inside the served bundle. */
const ignitionUrl = (boot: BootSettings, name: string): string => `${boot.configUrl}/nodes/${name}/config.ign`;

/** NoCloud seed URL of a node inside the served bundle (trailing slash required by cloud-init). */
const nocloudUrl = (boot: BootSettings, name: string): string => `${boot.configUrl}/nodes/${name}/`;

/**
 * The boot image of one node for `boot.os` (settings already checked by
 * {@link checkBootSettings}):
 * - flatcar: `flatcar.first_boot=1 ignition.config.url=<config>` (Flatcar PXE docs).
 * - fcos: live PXE, `coreos.live.rootfs_url=<rootfs> ignition.firstboot
 *   ignition.platform.id=metal ignition.config.url=<config>` with the initramfs named `main`
 *   (Fedora CoreOS docs, "Live booting via PXE").
 * - ubuntu: NoCloud over HTTP, `ds=nocloud;s=<configUrl>/nodes/<name>/`, plus `ip=dhcp` when
 *   the node has no static settings (casper fetches its root over the network). The `;` needs
 *   no quoting in iPXE (only a lone `;` token ends a command, ipxe src/core/exec.c) nor in a
 *   pxelinux APPEND line; GRUB would need it quoted, and the bundle writes no GRUB config.
 * Then `ip=...` for a statically configured node, then `boot.kernelArgs`.
 *
 * @param ignitionConfigUrl Where the node fetches its Ignition config; defaults to the
 *   bundle's `nodes/<name>/config.ign` (Matchbox passes its own `/ignition?mac=` endpoint).
 * @throws BundleError from {@link staticNetwork} for inconsistent network settings.
 */
export function bootImage(boot: BootSettings, node: NetworkNode, ignitionConfigUrl = ignitionUrl(boot, node.name)): BootImage {
  const asset = (file: string) => `${boot.assetsUrl}/${file}`;
  const net = staticNetwork(node);
  const ipArgs = net === undefined ? [] : [ipKernelArg(net)];
  switch (boot.os) {
    case 'flatcar':
      return {
        kernel: asset(ASSET_FILES.flatcar.kernel),
        initrds: [{ name: ASSET_FILES.flatcar.initrd, url: asset(ASSET_FILES.flatcar.initrd) }],
        args: ['flatcar.first_boot=1', `ignition.config.url=${ignitionConfigUrl}`, ...ipArgs, ...boot.kernelArgs],
      };
    case 'fcos':
      return {
        kernel: asset(ASSET_FILES.fcos.kernel),
        initrds: [{ name: 'main', url: asset(ASSET_FILES.fcos.initrd) }],
        args: [
          `coreos.live.rootfs_url=${asset(ASSET_FILES.fcos.rootfs)}`, 'ignition.firstboot', 'ignition.platform.id=metal',
          `ignition.config.url=${ignitionConfigUrl}`, ...ipArgs, ...boot.kernelArgs,
        ],
      };
    case 'ubuntu':
      return {
        kernel: asset(ASSET_FILES.ubuntu.kernel),
        initrds: [{ name: ASSET_FILES.ubuntu.initrd, url: asset(ASSET_FILES.ubuntu.initrd) }],
        args: [`ds=nocloud;s=${nocloudUrl(boot, node.name)}`, ...(net === undefined ? ['ip=dhcp'] : ipArgs), ...boot.kernelArgs],
      };
  }
}

/** True when `os` boots from Ignition (and so needs `config.ign` served), false for cloud-init. */
export const usesIgnition = (os: BootOs): boolean => os !== 'ubuntu';
