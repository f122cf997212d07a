// The HA lab test alone, after the rest of the suite: it measures failover timing with real
// keepalived and HAProxy, so it must not share the 2 CPUs with other test files.
export default {
  files: ['dist/test/lab.test.js'],
  timeout: '5m',
  concurrency: 1,
  workerThreads: false,
};
