/** The one way a local server (`wfn dev`, every emulator) starts listening and learns the URL it answers on. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on host:port (port 0: the kernel picks one) and resolves with the base URL,
 * "http://127.0.0.1:8080" (an IPv6 address in brackets). Rejects on a listen error
 * (EADDRINUSE, EACCES), so the caller can stop what it started for the server.
 */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
