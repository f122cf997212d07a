// The first-boot tests (test/boot.test.ts): run last, one file, on their own. The first run on
// a machine builds the Debian 12 root file system with debootstrap (minutes, then cached in
// /var/cache/k8s-ha-test/), during which no test reports: hence the longer timeout.
export default {
  files: ['dist/test/boot.test.js'],
  timeout: '30m',
  concurrency: 1,
  workerThreads: false,
  utilizeParallelBuilds: false,
};
