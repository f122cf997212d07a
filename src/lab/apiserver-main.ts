/**
 * Stand-in kube-apiserver for the lab, run inside a node's network namespace:
 * HTTPS on ADDRESS:PORT, `GET /healthz` -> 200 `ok`, anything else -> 200 with the node name
 * (so the client can tell which apiserver answered). Prints `ready` once listening.
 *
 * argv: NODE_NAME ADDRESS PORT CERT_FILE KEY_FILE
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const [name, address, port, certFile, keyFile] = process.argv.slice(2);
if (!name || !address || !port || !certFile || !keyFile) {
  process.stderr.write('usage: apiserver-main NODE_NAME ADDRESS PORT CERT_FILE KEY_FILE\n');
  process.exit(2);
}
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(req.url === '/healthz' ? 'ok' : name);
});
server.listen(Number(port), address, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
