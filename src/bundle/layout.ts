import type { BootSettings } from '../model.js';
import type { RenderedNode } from '../render.js';
import { autoinstallUserData } from './autoinstall.js';
import { bootImage, bundleIgnitionUrls, flatcarInstallPath, ignitionPath, nodeBoot, usesIgnition, type CheckedBootSettings } from './boot.js';
import { dnsmasqExample } from './dnsmasq.js';
import { flatcarInstallIgnition } from './flatcar-install.js';
import { fail } from '../profile/errors.js';
import { ipxeChainScript, ipxeNodeScript } from './ipxe.js';
import { matchboxGroup, matchboxProfile } from './matchbox.js';
import { networkConfigV2, staticNetwork, type NetworkNode } from './network.js';
import { pxelinuxConfig } from './pxelinux.js';
import { bundleReadme } from './readme.js';
import type { ArchiveEntry } from '../sinks/tar.js';
import { macHyphens } from './validate.js';

/** A node's rendered configuration: the texts of src/render.ts `renderNode` the bundle uses. */
export type NodeConfigs = Pick<RenderedNode, 'userData' | 'metaData' | 'ignition'>;

/** A node that gets per-MAC boot files: its network facts with the MAC made mandatory. */
export type BootNode<N extends NetworkNode = NetworkNode> = N & { mac: string };

/** Everything the bundle is made of. */
export interface BundleSource<N extends NetworkNode = NetworkNode> {
  /** Checked `[boot]` settings (./boot.ts checkBootSettings). */
  boot: CheckedBootSettings;
  nodes: N[];
  /**
   * Renders one node. Called lazily while the archive is written: once for the
   * `nodes/<name>/` files and once more for `matchbox/ignition/<name>.ign`, so that no more
   * than one node's configuration is held in memory at a time.
   */
  render(node: N): NodeConfigs;
}

/** Mode of files carrying cluster secrets (tokens, keys, VRRP password): owner-only. */
const SECRET = 0o600;
const PUBLIC = 0o644;
const DIRECTORY = 0o755;

/**
 * Returns the nodes with their MACs, which per-MAC boot files need.
 * @throws ProblemError (field `nodes`) naming every node without a `mac`.
 */
export function requireMacs<N extends NetworkNode>(nodes: N[]): BootNode<N>[] {
  const missing = nodes.filter((node) => node.mac === undefined).map((node) => node.name);
  if (missing.length > 0) {
    fail('E_REQUIRED', ['nodes'], `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no mac, which per-MAC boot files (iPXE, pxelinux, Matchbox) need`,
      'add mac = "52:54:00:12:34:56" (the NIC it network-boots from) to each of these nodes');
  }
  return nodes as BootNode<N>[];
}

/**
 * The bundle's members in archive order (sorted by path, each directory right before its
 * contents), produced one at a time:
 * `README.txt`, `dnsmasq.conf.example`, `ipxe/boot.ipxe`, `ipxe/<aa-bb-..>.ipxe`,
 * `matchbox/{groups,ignition,profiles}/<name>.*` (ignition/ for Ignition OSes only),
 * `nodes/<name>/{config.ign,meta-data,network-config,user-data}` (network-config for static
 * nodes only), `pxelinux.cfg/01-<aa-bb-..>`. user-data, config.ign and Matchbox Ignition files
 * are 0600 (they carry cluster secrets), other files 0644, directories 0755.
 *
 * Memory stays flat in the node count: each directory is walked over a sorted list of node
 * references, and a node is rendered when its members are written (twice for Ignition OSes:
 * once for `matchbox/ignition/`, once for `nodes/<name>/`), never the whole cluster at once.
 *
 * @throws ProblemError before the first member from {@link requireMacs}. The caller checks the
 *   boot inputs and the Ignition version first (build.ts checkBundleInputs).
 */
export function* bundleEntries<N extends NetworkNode>(source: BundleSource<N>): Generator<ArchiveEntry> {
  const { boot } = source;
  const nodes = requireMacs(source.nodes); // the rest was checked by build.ts checkBundleInputs
  const hyphens = (node: BootNode<N>) => macHyphens(node.mac, ['nodes', node.index, 'mac']);
  const dir = (path: string): ArchiveEntry => ({ path, mode: DIRECTORY });

  yield { path: 'README.txt', mode: PUBLIC, content: bundleReadme(boot, nodes.map((node) => ({ name: node.name, ...nodeBoot(boot, node) }))) };
  yield { path: 'dnsmasq.conf.example', mode: PUBLIC, content: dnsmasqExample(boot, nodes) };

  yield dir('ipxe/');
  const chain = { path: 'ipxe/boot.ipxe', mode: PUBLIC, content: () => ipxeChainScript(boot) };
  const scripts = nodes.map((node) => ({ path: `ipxe/${hyphens(node)}.ipxe`, mode: PUBLIC, content: () => ipxeNodeScript(node.name, bootImage(boot, node)) }));
  for (const entry of sortedBy([chain, ...scripts], (e) => e.path)) yield { path: entry.path, mode: entry.mode, content: entry.content() };

  // Matchbox: one group and profile per node; a Flatcar node in install mode gets a second
  // pair, `<name>-installed` selected by {mac, os: installed}, whose Ignition is the node's own
  // config (the install config fetches it with `&os=installed`, as Typhoon does).
  const flatcarInstalls = (node: BootNode<N>) => boot.os === 'flatcar' && nodeBoot(boot, node).mode === 'install';
  const matchboxIgnition = (node: BootNode<N>) => `${boot.matchboxUrl}/ignition?mac=${hyphens(node)}`;
  const matchboxUrls = (node: BootNode<N>) => flatcarInstalls(node)
    ? { ignition: `${matchboxIgnition(node)}&os=installed`, flatcarInstall: matchboxIgnition(node) }
    : { ignition: matchboxIgnition(node), flatcarInstall: matchboxIgnition(node) };
  yield dir('matchbox/');
  yield dir('matchbox/groups/');
  const groups = nodes.flatMap((node) => [
    { path: `matchbox/groups/${node.name}.json`, content: () => matchboxGroup(node.name, node.name, { mac: node.mac }) },
    ...(flatcarInstalls(node)
      ? [{ path: `matchbox/groups/${node.name}-installed.json`, content: () => matchboxGroup(`${node.name}-installed`, `${node.name}-installed`, { mac: node.mac, os: 'installed' }) }]
      : []),
  ]);
  for (const entry of sortedBy(groups, (e) => e.path)) yield { path: entry.path, mode: PUBLIC, content: entry.content() };
  if (usesIgnition(boot.os)) {
    yield dir('matchbox/ignition/');
    const ignitions = nodes.flatMap((node) => [
      { path: `matchbox/ignition/${node.name}.ign`, mode: SECRET, content: () => source.render(node).ignition },
      ...(flatcarInstalls(node)
        ? [{ path: `matchbox/ignition/${node.name}-install.ign`, mode: PUBLIC, content: () => flatcarInstallIgnition(matchboxUrls(node).ignition, nodeBoot(boot, node).installDisk) }]
        : []),
    ]);
    for (const entry of sortedBy(ignitions, (e) => e.path)) yield { path: entry.path, mode: entry.mode, content: entry.content() };
  }
  yield dir('matchbox/profiles/');
  const profiles = nodes.flatMap((node) => {
    const image = bootImage(boot, node, matchboxUrls(node));
    if (!flatcarInstalls(node)) {
      return [{ path: `matchbox/profiles/${node.name}.json`, content: () => matchboxProfile(node.name, image, usesIgnition(boot.os) ? `${node.name}.ign` : undefined) }];
    }
    return [
      { path: `matchbox/profiles/${node.name}.json`, content: () => matchboxProfile(node.name, image, `${node.name}-install.ign`) },
      { path: `matchbox/profiles/${node.name}-installed.json`, content: () => matchboxProfile(`${node.name}-installed`, undefined, `${node.name}.ign`) },
    ];
  });
  for (const entry of sortedBy(profiles, (e) => e.path)) yield { path: entry.path, mode: PUBLIC, content: entry.content() };

  yield dir('nodes/');
  for (const node of sortedBy(nodes, (n) => `${n.name}/`)) {
    const rendered = source.render(node);
    const net = staticNetwork(node);
    const { mode, installDisk } = nodeBoot(boot, node);
    const base = `nodes/${node.name}/`;
    yield dir(base);
    yield { path: ignitionPath(node.name), mode: SECRET, content: rendered.ignition };
    if (flatcarInstalls(node)) yield { path: flatcarInstallPath(node.name), mode: PUBLIC, content: flatcarInstallIgnition(bundleIgnitionUrls(boot, node.name).ignition, installDisk) };
    yield { path: `${base}meta-data`, mode: PUBLIC, content: rendered.metaData };
    if (net !== undefined) yield { path: `${base}network-config`, mode: PUBLIC, content: networkConfigV2(net) };
    const userData = boot.os === 'ubuntu' && mode === 'install' ? autoinstallUserData(rendered.userData, installDisk, net) : rendered.userData;
    yield { path: `${base}user-data`, mode: SECRET, content: userData };
  }

  yield dir('pxelinux.cfg/');
  for (const node of sortedBy(nodes, hyphens)) {
    yield { path: `pxelinux.cfg/01-${hyphens(node)}`, mode: PUBLIC, content: pxelinuxConfig(node.name, bootImage(boot, node)) };
  }
}

/**
 * Validates every node's boot inputs up front, so that bad input fails before any output.
 * (Two nodes with one MAC are refused when the profile is loaded, resolve.ts.)
 */
export function checkNodes(boot: CheckedBootSettings, nodes: BootNode[]): void {
  for (const node of nodes) {
    macHyphens(node.mac, ['nodes', node.index, 'mac']);
    bootImage(boot, node);
  }
}

/** `items` ordered by `key` (JS string order, as the archive is). */
function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return items.map((item) => ({ key: key(item), item })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ item }) => item);
}
