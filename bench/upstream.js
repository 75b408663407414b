// A loopback upstream for the outbound benchmark, in its own process (so it does not share an
// event loop with the load generator): answers every request with 64 bytes of text.
import http from 'node:http';

const body = Buffer.from('x'.repeat(63) + '\n');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`Upstream on http://127.0.0.1:${server.address().port}/`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
