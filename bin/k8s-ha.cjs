#!/usr/bin/env node
// k8s-ha launcher: the CLI is one esbuild bundle (dist/k8s-ha.cjs, built by `npm run build`);
// v8-compile-cache keeps V8's compiled code between runs, which halves start-up.
require('v8-compile-cache');
require('../dist/k8s-ha.cjs');
