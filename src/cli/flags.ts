/** Flags several commands share: the limits (--timeout, --memory) and where to listen (--port, --host). */
import { Flags } from '@oclif/core';

/** --timeout and --memory, shared by run, dev and serve. */
export const limitFlags = {
  timeout: Flags.integer({ description: 'Wall-clock timeout per request, ms (default: wfn.toml, else 10000).', min: 1 }),
  memory: Flags.integer({ description: 'Memory cap, MiB (default: wfn.toml, else 128).', min: 1, max: 4096 }),
};

export const listenFlags = {
  port: Flags.integer({ char: 'p', description: 'Port to listen on.', default: 8080, min: 0, max: 65535 }),
  host: Flags.string({ description: 'Address to listen on.', default: '127.0.0.1' }),
};
