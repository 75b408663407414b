// Bench function (issue 16): streams + crypto.subtle + compression, and the timed work
// /sha256 (SHA-256 of 1 MiB) and /ed25519 (one Ed25519 signature), timed inside the function.
let key;

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/sha256') {
      const data = new Uint8Array(1 << 20).fill(7);
      const t0 = performance.now();
      const digest = await crypto.subtle.digest('SHA-256', data);
      return Response.json({ ms: performance.now() - t0, bytes: digest.byteLength });
    }
    if (path === '/ed25519') {
      key ??= await crypto.subtle.importKey('pkcs8', new Uint8Array([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32, ...new Array(32).fill(9)]), 'Ed25519', false, ['sign']);
      const t0 = performance.now();
      const signature = await crypto.subtle.sign('Ed25519', key, new TextEncoder().encode('bench message'));
      return Response.json({ ms: performance.now() - t0, bytes: signature.byteLength });
    }
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('streamed, compressed '.repeat(50))), c.close()) });
    return new Response(body.pipeThrough(new CompressionStream('gzip')), { headers: { 'content-encoding': 'gzip' } });
  },
};
