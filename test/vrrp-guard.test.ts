/**
 * Guarding the VRRP segment (issue #20): the GARP settings that make the single holder
 * re-announce the VIPs after a split brain heals, checked by the real keepalived -t.
 */
import test from 'ava';
import { loadProfile } from '../src/profile/load.js';
import { renderCluster } from '../src/render.js';
import { garpSettings } from '../src/components/keepalived.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import { Netns } from './helpers/tools.js';

const LAB = new URL('../../fixtures/lab/', import.meta.url).pathname;

test('GARP refresh is 5 adverts rounded up to whole seconds (keepalived resolution), at least 1 s', (t) => {
  t.deepEqual(garpSettings(1), { delay: 5, repeat: 5, refresh: 5 });
  t.is(garpSettings(0.2).refresh, 1);
  t.is(garpSettings(0.1).refresh, 1);
  t.is(garpSettings(0.3).refresh, 2);
  t.is(garpSettings(3).refresh, 15);
});

for (const file of ['lab.toml', 'lab-fast.toml']) {
  test(`${file}: keepalived.conf carries the GARP settings and passes keepalived -t`, (t) => {
    const { plan } = loadProfile(`${LAB}${file}`);
    const g = garpSettings(plan.keepalived.advertInterval);
    const ns = new Netns();
    t.teardown(() => ns.close());
    for (const r of renderCluster(plan, FIXTURE_SECRETS).filter((x) => x.node.vrrp)) {
      const get = (name: string) => r.payload.files.find((f) => f.path === `/etc/keepalived/${name}`)!.content;
      const conf = get('keepalived.conf');
      const globals = /global_defs \{\n([^}]*)\}/.exec(conf)?.[1] ?? '';
      for (const line of [`vrrp_garp_master_delay ${g.delay}`, `vrrp_garp_master_repeat ${g.repeat}`, `vrrp_garp_lower_prio_delay ${g.delay}`,
        `vrrp_garp_lower_prio_repeat ${g.repeat}`, `vrrp_garp_master_refresh ${g.refresh}`, 'vrrp_garp_master_refresh_repeat 1', 'vrrp_higher_prio_send_advert true']) {
        t.regex(globals, new RegExp(`^ +${line}$`, 'm'), `${r.node.name}: ${line}`);
      }
      const res = ns.keepalivedCheck(conf, [r.node.interface], get('check_apiserver.sh'));
      t.true(res.ok, `${r.node.name}: ${res.output}`);
      // keepalived -t exits 0 with unknown keywords only warned about in some builds: none here.
      t.notRegex(res.output, /Unknown keyword/);
    }
  });
}
