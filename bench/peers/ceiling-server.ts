/**
 * Peer: the ceiling. uWebSockets.js reads each body (copying its chunks, as the bidder
 * must) and answers 204 with no work at all: the most any server on this front end can
 * do on this machine, so the bidder's throughput as a fraction of it is the share the
 * bid path's own work costs.
 *
 *   node dist/bench/peers/ceiling-server.js   (BIDDER_PORT, BIDDER_HOST)
 */
import { loadNativeUws } from '../../src/server/uws';

const uws = loadNativeUws();
const port = Number(process.env.BIDDER_PORT ?? 8081);
const host = process.env.BIDDER_HOST ?? '127.0.0.1';
// Bodies land here, as they would in a receive slab; 1 MiB wraps around.
const sink = new Uint8Array(1 << 20);

const app = uws.App();
app.get('/readyz', (res) => {
  res.end('ready');
});
app.post('/openrtb2/bid', (res) => {
  let aborted = false;
  let at = 0;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    const bytes = new Uint8Array(chunk);
    if (at + bytes.length > sink.length) at = 0;
    sink.set(bytes.subarray(0, sink.length), at);
    at += bytes.length;
    if (isLast && !aborted) res.writeStatus('204 No Content').endWithoutBody();
  });
});
app.listen(host, port, (socket) => {
  if (!socket) {
    process.stderr.write(`ceiling peer: cannot listen on ${host}:${port}\n`);
    process.exit(1);
  }
  process.stdout.write(`ceiling peer listening on ${port}\n`);
});
