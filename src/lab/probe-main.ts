/**
 * The lab's client, run inside the client network namespace: every INTERVAL_MS it starts one
 * HTTPS `GET /` on a fresh connection to each TARGET (host:port, IPv6 bracketed) and, when the
 * request ends, prints one JSON line {t, target, ok, by, err}: t = start time in ms since the
 * epoch, by = the body (the answering apiserver's node name). A request counts as failed when
 * it does not complete within TIMEOUT_MS. Runs until SIGTERM.
 *
 * argv: INTERVAL_MS TIMEOUT_MS TARGET...
 */
import { request } from 'node:https';

const [intervalMs, timeoutMs, ...targets] = process.argv.slice(2);
if (!intervalMs || !timeoutMs || targets.length === 0) {
  process.stderr.write('usage: probe-main INTERVAL_MS TIMEOUT_MS HOST:PORT...\n');
  process.exit(2);
}

function probe(target: string): void {
  const t = performance.timeOrigin + performance.now();
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target)!;
  const report = (ok: boolean, by: string | null, err: string | null) =>
    process.stdout.write(JSON.stringify({ t, target, ok, by, err }) + '\n');
  const req = request({ host: m[1], port: Number(m[2]), path: '/', agent: false, rejectUnauthorized: false,
    signal: AbortSignal.timeout(Number(timeoutMs)) }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (d: string) => (body += d));
    res.on('end', () => report(res.statusCode === 200, body, res.statusCode === 200 ? null : `HTTP ${res.statusCode}`));
    res.on('error', (e) => report(false, null, e.message));
  });
  req.on('error', (e) => report(false, null, e.name === 'AbortError' ? 'timeout' : e.message));
  req.end();
}

setInterval(() => targets.forEach(probe), Number(intervalMs));
process.on('SIGTERM', () => process.exit(0));
