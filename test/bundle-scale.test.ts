import test from 'ava';
import { benchBundle } from '../bench/bundle.js';
import { checkBootSettings } from '../src/bundle/boot.js';
import { bundleEntries } from '../src/bundle/layout.js';
import { testSource } from './helpers/bundle-fixture.js';

test('3 control-plane nodes + 1,000 workers: bundle in well under 5 s, peak RSS nearly flat vs 100 workers', (t) => {
  const small = benchBundle(100);
  const large = benchBundle(1000);
  t.log(`${small.nodes} nodes: ${small.ms} ms, ${small.peakRssMiB} MiB; ${large.nodes} nodes: ${large.ms} ms, ${large.peakRssMiB} MiB`);
  t.is(large.nodes, 1003);
  t.true(large.ms < 5000, `${large.ms} ms`);
  // Ten times the nodes may not cost ten times the memory: rendered nodes are dropped as soon
  // as their members are written, so only V8's heap sizing grows a little.
  t.true(large.peakRssMiB - small.peakRssMiB < 48, `${small.peakRssMiB} -> ${large.peakRssMiB} MiB`);
});

test('nodes are rendered one at a time, while their members are written', (t) => {
  const source = testSource('fcos', 50);
  let renders = 0;
  const entries = bundleEntries({ ...source, boot: checkBootSettings(source.boot), render: (node) => { renders++; return source.render(node); } });
  // A node is rendered just before its matchbox/ignition/<name>.ign and its nodes/<name>/ are
  // yielded: at any point, renders never run ahead of the node members consumed so far.
  let nodeMembers = 0;
  for (const entry of entries) {
    if (/^(matchbox\/ignition\/[^/]+|nodes\/[^/]+\/)$/.test(entry.path)) nodeMembers++;
    t.true(renders <= nodeMembers, `${entry.path}: ${renders} renders for ${nodeMembers} node members`);
  }
  t.is(renders, 100, 'each node twice: matchbox/ignition/ and nodes/<name>/');
});
