/** The one way a local server (`wfn dev`, `wfn serve`, every emulator) starts listening and learns the URL it answers on. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../util/errors.js';

/**
 * Listens on host:port (port 0: the kernel picks one) and resolves with the base URL,
 * "http://127.0.0.1:8080" (an IPv6 address in brackets). Rejects on a listen error, so the
 * caller can stop what it started for the server; a busy port, a privileged port or an
 * address this machine does not have is the user's to fix, so it is a UserError that says how.
 */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/**
 * Fails fast, before a long build, when host:port cannot be listened on (port 0 always can).
 * The real listen() still reports a port taken in between.
 */
export async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, port, host);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** The listen error in the user's terms: what happened and which flag changes it. */
export function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new UserError(`port ${port} is in use; pass --port`, `Another program listens on ${host}:${port}. Pick a free port (e.g. --port ${port === 65535 ? 8081 : port + 1}), or --port 0 to let the system choose.`);
    case 'EACCES':
      return new UserError(`not allowed to listen on port ${port}; pass --port`, 'Ports below 1024 need privileges: use one above 1024, e.g. --port 8080.');
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new UserError(`cannot listen on ${host}: no such address on this machine; pass --host`, 'Use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).');
    default:
      return error;
  }
}
