/**
 * A foreign VRRP router for the lab's `foreign-router` scenario (issue #20): a namespace of its
 * own on the lab's bridge, running a keepalived that is not ours, with our virtual_router_id
 * (multicast, as a firewall pair or another cluster would) and a VIP set of its own. It is what
 * the VRRP preflight (components/vrrp-preflight.ts) must refuse to share a segment with.
 *
 * Its namespace carries the lab's prefix, so the lab's teardown ({@link removeStale}) removes it
 * and every process inside, also when a run is interrupted.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../model.js';
import { ipFamily } from '../profile/values.js';
import { PREFIX, attachToBridge, clientAddress, type Topology } from './netns.js';
import { run, startDaemon, stopDaemon, type Daemon } from './proc.js';

/** The foreign router's namespace. */
export const FOREIGN_NS = `${PREFIX}foreign`;

/** The running foreign router. */
export interface ForeignRouter {
  /** Its own address on the nodes' segment (primary family). */
  address: string;
  /** The VIP it holds (not ours). */
  vip: string;
  routerId: number;
  daemon: Daemon;
  /** Stops its keepalived and deletes its namespace. */
  remove(): Promise<void>;
}

/**
 * Picks two free addresses of the nodes' subnet below the client's (the router's and its VIP),
 * attaches {@link FOREIGN_NS} to the bridge with the first, and starts keepalived there with
 * `plan.vip.routerId`, priority 254, advert_int 1 s (keepalived's default), for the primary
 * family only. `dir` receives its config and pid files.
 * @throws ProblemError (E070) when a namespace or link cannot be made.
 */
export async function startForeignRouter(plan: Plan, topo: Topology, dir: string): Promise<ForeignRouter> {
  const nodes = topo.nodes.map((n) => ({ name: n.name, address: n.address, prefix: n.prefix, iface: n.iface }));
  const taken = [...plan.vip.addresses, topo.client.address];
  const mine = clientAddress({ nodes, vips: taken });
  const vip = clientAddress({ nodes, vips: [...taken, mine.address] }).address;
  const v6 = ipFamily(mine.address) === 6;
  await attachToBridge(FOREIGN_NS, 'f0', 'eth0', mine.address, mine.prefix);
  // A directory per start: keepalived refuses to start beside the pid files a SIGKILLed
  // predecessor left ("daemon is already running").
  const own = await mkdtemp(join(dir, 'foreign-'));
  const conf = join(own, 'keepalived.conf');
  await writeFile(conf, [
    'global_defs {', '    router_id foreign', ...(v6 ? ['    vrrp_version 3'] : []), '}',
    'vrrp_instance foreign {', '    state MASTER', '    interface eth0', `    virtual_router_id ${plan.vip.routerId}`, '    priority 254', '    advert_int 1',
    '    virtual_ipaddress {', `        ${vip}/${v6 ? 128 : 32}`, '    }', '}', '',
  ].join('\n'));
  const daemon = startDaemon('foreign/keepalived', ['ip', 'netns', 'exec', FOREIGN_NS, 'unshare', '--pid', '--fork', '--kill-child',
    'keepalived', '-n', '-l', '-D', '-f', conf, '-p', join(own, 'keepalived.pid'), '-r', join(own, 'vrrp.pid')]);
  return {
    address: mine.address, vip, routerId: plan.vip.routerId, daemon,
    async remove() {
      await stopDaemon(daemon, 'SIGKILL', 0);
      await run(['ip', 'netns', 'del', FOREIGN_NS]).catch(() => {});
    },
  };
}

/** Whether the foreign router holds its VIP now (it is MASTER and advertising). */
export async function foreignAdvertising(r: ForeignRouter): Promise<boolean> {
  const out = await run(['ip', '-n', FOREIGN_NS, 'addr', 'show', 'dev', 'eth0']).catch(() => '');
  return out.includes(` ${r.vip}/`);
}
