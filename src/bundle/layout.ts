import type { BootSettings } from '../model.js';
import type { RenderedNode } from '../render.js';
import { bootImage, usesIgnition } from './boot.js';
import { dnsmasqExample } from './dnsmasq.js';
import { BundleError } from './errors.js';
import { ipxeChainScript, ipxeNodeScript } from './ipxe.js';
import { matchboxGroup, matchboxIgnition, matchboxProfile } from './matchbox.js';
import { networkConfigV2, staticNetwork, type NetworkNode } from './network.js';
import { pxelinuxConfig } from './pxelinux.js';
import { bundleReadme } from './readme.js';
import type { ArchiveEntry } from './tar.js';
import { macHyphens } from './validate.js';

/** A node's rendered configuration: the texts of src/render.ts `renderNode` the bundle uses. */
export type NodeConfigs = Pick<RenderedNode, 'userData' | 'metaData' | 'ignition'>;

/** A node that gets per-MAC boot files: its network facts with the MAC made mandatory. */
export type BootNode<N extends NetworkNode = NetworkNode> = N & { mac: string };

/** Everything the bundle is made of. */
export interface BundleSource<N extends NetworkNode = NetworkNode> {
  /** Checked `[boot]` settings (./boot.ts checkBootSettings). */
  boot: BootSettings;
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
 * @throws BundleError (field `nodes`) naming every node without a `mac`.
 */
export function requireMacs<N extends NetworkNode>(nodes: N[]): BootNode<N>[] {
  const missing = nodes.filter((node) => node.mac === undefined).map((node) => node.name);
  if (missing.length > 0) {
    throw new BundleError('E_REQUIRED', 'nodes', `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no mac, which per-MAC boot files (iPXE, pxelinux, Matchbox) need`,
      'add mac = "52:54:00:12:34:56" (the NIC it network-boots from) to each of these nodes');
  }
  return nodes as BootNode<N>[];
}

/** An archive member whose content is produced only when it is written. */
interface LazyEntry {
  path: string;
  mode: number;
  content?: () => string;
}

/**
 * The bundle's members in archive order (sorted by path, each directory before its
 * contents), content produced lazily one member at a time:
 * `README.txt`, `dnsmasq.conf.example`, `ipxe/boot.ipxe`, `ipxe/<aa-bb-..>.ipxe`,
 * `matchbox/{groups,profiles}/<name>.json`, `matchbox/ignition/<name>.ign` (Ignition OSes),
 * `nodes/<name>/{config.ign,meta-data,network-config,user-data}` (network-config for static
 * nodes only), `pxelinux.cfg/01-<aa-bb-..>`. user-data, config.ign and Matchbox Ignition files
 * are 0600 (they carry cluster secrets), other files 0644, directories 0755.
 *
 * The list of paths (a few small objects per node) is built up front; node configurations are
 * rendered on demand, with a one-node cache so the four `nodes/<name>/` files share a render.
 *
 * @throws BundleError from {@link requireMacs}, ./network.ts (static settings) or ./matchbox.ts
 *   (Ignition spec too new), before the first member for the first two.
 */
export function* bundleEntries<N extends NetworkNode>(source: BundleSource<N>): Generator<ArchiveEntry> {
  const { boot } = source;
  const nodes = requireMacs(source.nodes);
  let cached: { name: string; rendered: NodeConfigs } | undefined;
  const render = (node: BootNode<N>): NodeConfigs => {
    if (cached?.name !== node.name) cached = { name: node.name, rendered: source.render(node) };
    return cached.rendered;
  };

  const files: LazyEntry[] = [
    { path: 'README.txt', mode: PUBLIC, content: () => bundleReadme(boot) },
    { path: 'dnsmasq.conf.example', mode: PUBLIC, content: () => dnsmasqExample(boot, nodes) },
    { path: 'ipxe/boot.ipxe', mode: PUBLIC, content: () => ipxeChainScript(boot) },
  ];
  for (const node of nodes) {
    const mac = macHyphens(node.mac, `nodes[${node.index}].mac`);
    const image = bootImage(boot, node);
    const net = staticNetwork(node);
    const dir = `nodes/${node.name}/`;
    files.push(
      { path: `ipxe/${mac}.ipxe`, mode: PUBLIC, content: () => ipxeNodeScript(node.name, image) },
      { path: `pxelinux.cfg/01-${mac}`, mode: PUBLIC, content: () => pxelinuxConfig(node.name, image) },
      { path: `matchbox/groups/${node.name}.json`, mode: PUBLIC, content: () => matchboxGroup(node.name, node.mac) },
      { path: `${dir}user-data`, mode: SECRET, content: () => render(node).userData },
      { path: `${dir}meta-data`, mode: PUBLIC, content: () => render(node).metaData },
      { path: `${dir}config.ign`, mode: SECRET, content: () => render(node).ignition },
    );
    if (net !== undefined) files.push({ path: `${dir}network-config`, mode: PUBLIC, content: () => networkConfigV2(net) });
    if (usesIgnition(boot.os)) {
      const matchboxImage = bootImage(boot, node, `${boot.matchboxUrl ?? boot.configUrl}/ignition?mac=${mac}`);
      files.push(
        { path: `matchbox/profiles/${node.name}.json`, mode: PUBLIC, content: () => matchboxProfile(node.name, matchboxImage, `${node.name}.ign`) },
        { path: `matchbox/ignition/${node.name}.ign`, mode: SECRET, content: () => matchboxIgnition(node.name, render(node).ignition) },
      );
    } else {
      files.push({ path: `matchbox/profiles/${node.name}.json`, mode: PUBLIC, content: () => matchboxProfile(node.name, image) });
    }
  }
  checkUnique(files);
  const entries: LazyEntry[] = [...parentDirectories(files), ...files];
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const entry of entries) {
    yield entry.content === undefined ? { path: entry.path, mode: entry.mode } : { path: entry.path, mode: entry.mode, content: entry.content() };
  }
}

/** Two nodes with the same MAC would overwrite each other's boot files. */
function checkUnique(files: LazyEntry[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) {
      throw new BundleError('E_DUPLICATE', 'nodes', `two nodes would both write ${file.path}`, 'every node needs its own name and mac');
    }
    seen.add(file.path);
  }
}

function parentDirectories(files: LazyEntry[]): LazyEntry[] {
  const dirs = new Set<string>();
  for (const file of files) {
    for (let end = file.path.indexOf('/'); end !== -1; end = file.path.indexOf('/', end + 1)) {
      dirs.add(file.path.slice(0, end + 1));
    }
  }
  return [...dirs].map((path) => ({ path, mode: DIRECTORY }));
}
