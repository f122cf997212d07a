// Tests that measure time, run after the rest of the suite and one file at a time, so they do
// not share the 2 CPUs with other test files: the HA lab (failover timing of the real
// keepalived and HAProxy), the bundle scale test (1,000 workers in well under 5 s) and the PXE
// boots of the bundle (software-emulated PCs: two or three at a time already fill 2 CPUs).
export default {
  files: ['dist/test/lab.test.js', 'dist/test/bundle-scale.test.js', 'dist/test/bundle-pxe.test.js'],
  timeout: '15m',
  concurrency: 1,
  workerThreads: false,
  // The whole suite on every CI machine: never one shard of it (ava splits the files across
  // CI nodes when CI_NODE_INDEX/CI_NODE_TOTAL and the like are set, and exits 0).
  utilizeParallelBuilds: false,
};
