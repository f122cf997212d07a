/**
 * Install mode of the network-boot bundle: the default for every node of the shipped bare-metal
 * profile; Flatcar's install Ignition (ignition-validate), Ubuntu's autoinstall documents (our
 * schema of subiquity's keys, with the installed system's cloud-config checked by cloud-init's
 * own schema), Matchbox's install/installed pair, and the warning for a live control-plane node.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import Ajv from 'ajv';
import { AUTOINSTALL_SCHEMA } from './helpers/autoinstall-schema.js';
import { autoinstallDocument } from '../src/bundle/autoinstall.js';
import { flatcarInstallIgnition } from '../src/bundle/flatcar-install.js';
import { loadProfile, parseProfile } from '../src/profile/load.js';
import { renderNode } from '../src/render.js';
import { fixture, labPlan, unpackedBundle } from './helpers/bundle-run.js';
import { FIXTURE_SECRETS } from './helpers/secrets.js';
import { cloudInitCheck, ignitionCheck, requireTool } from './helpers/tools.js';
import type { Plan } from '../src/model.js';

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');
const ajv = new Ajv.default({ allErrors: true, strict: true });
const validAutoinstall = ajv.compile(AUTOINSTALL_SCHEMA);
const withBoot = (plan: Plan, boot: Partial<NonNullable<Plan['boot']>>): Plan => ({ ...plan, boot: { ...plan.boot!, ...boot } });

test('the shipped bare-metal profile installs every node to disk: flatcar install.ign runs flatcar-install on the node\'s disk', async (t) => {
  if (!requireTool(t, 'ignition-validate')) return;
  const { plan, warnings } = loadProfile(fixture('../../profiles/baremetal.toml'), {});
  t.deepEqual(warnings, []);
  const { dir } = await unpackedBundle(t, plan);
  for (const node of plan.nodes) {
    const disk = node.name === 'cp-3' ? '/dev/nvme0n1' : '/dev/sda';
    const script = read(dir, `ipxe/${node.mac!.replaceAll(':', '-')}.ipxe`);
    t.regex(script, new RegExp(` ignition\\.config\\.url=http://10\\.40\\.0\\.2:8080/k8s/nodes/${node.name}/install\\.ign `));
    const install = read(dir, `nodes/${node.name}/install.ign`);
    const check = ignitionCheck(install);
    t.true(check.ok, check.output);
    t.is(install, flatcarInstallIgnition(`http://10.40.0.2:8080/k8s/nodes/${node.name}/config.ign`, disk));
    const unit = JSON.parse(install).systemd.units[0];
    t.like(unit, { name: 'k8s-ha-install.service', enabled: true });
    t.true(unit.contents.includes(`\nExecStart=/usr/bin/flatcar-install -d ${disk} -i /run/k8s-ha-node.ign\n`), unit.contents);
    t.true(unit.contents.includes(`--output /run/k8s-ha-node.ign http://10.40.0.2:8080/k8s/nodes/${node.name}/config.ign\n`));
    // Matchbox: the install profile serves install.ign, whose curl asks for os=installed,
    // which the <name>-installed group (more matching selectors) answers with the node config.
    const hyphens = node.mac!.replaceAll(':', '-');
    t.deepEqual(JSON.parse(read(dir, `matchbox/groups/${node.name}-installed.json`)), { id: `${node.name}-installed`, name: `${node.name}-installed`, profile: `${node.name}-installed`, selector: { mac: node.mac, os: 'installed' } });
    t.deepEqual(JSON.parse(read(dir, `matchbox/profiles/${node.name}-installed.json`)), { id: `${node.name}-installed`, name: `${node.name}-installed`, ignition_id: `${node.name}.ign` });
    const profile = JSON.parse(read(dir, `matchbox/profiles/${node.name}.json`));
    t.is(profile.ignition_id, `${node.name}-install.ign`);
    t.true(profile.boot.args.includes(`ignition.config.url=http://10.40.0.2:8080/k8s/ignition?mac=${hyphens}`));
    t.true(JSON.parse(read(dir, `matchbox/ignition/${node.name}-install.ign`)).systemd.units[0].contents.includes(` http://10.40.0.2:8080/k8s/ignition?mac=${hyphens}&os=installed\n`));
    t.is(read(dir, `matchbox/ignition/${node.name}.ign`), read(dir, `nodes/${node.name}/config.ign`));
  }
  t.regex(read(dir, 'README.txt'), /Install mode \(cp-1 -> \/dev\/sda, cp-2 -> \/dev\/sda, cp-3 -> \/dev\/nvme0n1, worker-1 -> \/dev\/sda, worker-2 -> \/dev\/sda\):\n {2}the PXE boot WIPES that disk/);
});

test('the install config doubles % for systemd', (t) => {
  const ign = flatcarInstallIgnition('http://198.18.0.1/k%20s/nodes/a/config.ign', '/dev/sda');
  t.true(JSON.parse(ign).systemd.units[0].contents.includes(' http://198.18.0.1/k%%20s/nodes/a/config.ign\n'));
});

test('ubuntu install: each user-data is an autoinstall document (our schema) carrying the node\'s cloud-config (cloud-init schema)', async (t) => {
  if (!requireTool(t, 'cloud-init')) return;
  const plan = labPlan('ubuntu');
  const { dir } = await unpackedBundle(t, plan);
  for (const node of plan.nodes) {
    const text = read(dir, `nodes/${node.name}/user-data`);
    t.true(text.startsWith('#cloud-config\n'));
    const doc = YAML.parse(text, { version: '1.1' });
    t.true(validAutoinstall(doc), ajv.errorsText(validAutoinstall.errors));
    t.deepEqual(doc.autoinstall.storage, { layout: { name: 'direct', match: { path: '/dev/sda' } } });
    // The installed system's cloud-config is the rendered user-data, value for value.
    const rendered = renderNode(plan, node, FIXTURE_SECRETS).userData;
    t.deepEqual(doc.autoinstall['user-data'], YAML.parse(rendered, { version: '1.1' }));
    const inner = cloudInitCheck(`#cloud-config\n${YAML.stringify(doc.autoinstall['user-data'], { version: '1.1', lineWidth: 0 })}`);
    t.true(inner.ok, inner.output);
    // The whole document is cloud-config too (the installer's cloud-init reads it).
    const outer = cloudInitCheck(text);
    t.true(outer.ok, outer.output);
    if (node.gateway !== undefined) {
      t.deepEqual(doc.autoinstall.network, YAML.parse(read(dir, `nodes/${node.name}/network-config`)));
    } else {
      t.false('network' in doc.autoinstall);
    }
  }
  t.deepEqual(readdirSync(join(dir, 'nodes', 'cp-1')).sort(), ['config.ign', 'meta-data', 'network-config', 'user-data']);
});

test('our autoinstall schema refuses what subiquity would refuse or we never emit', (t) => {
  const good = autoinstallDocument('#cloud-config\nruncmd: [[echo, hi]]\n', '/dev/sda', undefined);
  t.true(validAutoinstall(good), ajv.errorsText(validAutoinstall.errors));
  const bad = (doc: unknown, why: string) => t.false(validAutoinstall(doc), why);
  bad({ ...good, runcmd: [] }, 'a cloud-config key beside autoinstall');
  bad({ autoinstall: { ...good.autoinstall, version: 2 } }, 'version 2');
  bad({ autoinstall: { ...good.autoinstall, storage: { layout: { name: 'lvm', match: { path: '/dev/sda' } } } } }, 'another layout');
  bad({ autoinstall: { ...good.autoinstall, storage: { layout: { name: 'direct', match: { path: 'sda' } } } } }, 'a path outside /dev');
  bad({ autoinstall: { ...good.autoinstall, 'user-data': 'runcmd: []' } }, 'user-data as text');
  bad({ autoinstall: { ...good.autoinstall, identity: { username: 'x' } } }, 'a key we do not emit');
  bad({ autoinstall: { version: 1, storage: good.autoinstall.storage } }, 'no user-data');
});

test('a live control-plane node is a warning naming the field; install (the default) is not', (t) => {
  const text = readFileSync(fixture('bundle.toml'), 'utf8');
  const live = parseProfile('bundle.toml', text.replace('[boot]\n', '[boot]\nmode = "live"\n'), {});
  t.deepEqual(live.warnings.filter((w) => w.code === 'W111').map((w) => w.path), ['boot.mode', 'boot.mode', 'boot.mode']);
  t.regex(live.warnings[0]!.message, /control-plane node cp-1 boots live from RAM: its etcd data/);
  const one = parseProfile('bundle.toml', text.replace('name = "cp-2"\n', 'name = "cp-2"\nboot = { mode = "live" }\n'), {});
  t.deepEqual(one.warnings.filter((w) => w.code === 'W111').map((w) => w.path), ['nodes.1.boot.mode']);
  t.deepEqual(parseProfile('bundle.toml', text, {}).warnings.filter((w) => w.code === 'W111'), []);
});

test('a live node names its config; the live bundle has no install.ign', async (t) => {
  const { dir } = await unpackedBundle(t, withBoot(labPlan('fcos'), { mode: 'live' }));
  t.regex(read(dir, 'ipxe/52-54-00-00-00-01.ipxe'), / ignition\.firstboot ignition\.platform\.id=metal ignition\.config\.url=http:\/\/198\.18\.0\.1:8080\/k8s\/nodes\/cp-1\/config\.ign /);
  t.deepEqual(readdirSync(join(dir, 'nodes', 'cp-1')).sort(), ['config.ign', 'meta-data', 'network-config', 'user-data']);
  t.regex(read(dir, 'README.txt'), /Live mode \(cp-1, cp-2, cp-3\)/);
});
