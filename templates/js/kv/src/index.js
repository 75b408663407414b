// {{name}}: a wfn function over the key-value store "default" ([kv] stores in wfn.toml),
// the binding env.default, shaped like Workers KV (this code runs on Workers unchanged):
//
//   GET    /<key>          the value (200), or 404 when absent or expired
//   PUT    /<key>[?ttl=S]  stores the request body (201); ttl: seconds until it expires
//   DELETE /<key>          removes it (204)
//   GET    /?prefix=P      the keys starting with P, as a JSON array in byte order
//
// Values are bytes, up to 25 MiB; keys up to 512 bytes (docs/contract.md).

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

function fail(error) {
  const code = error?.cause?.code;
  const status = error instanceof TypeError || code === 3 ? 400 : code === 4 ? 413 : code === 7 ? 429 : code === 8 ? 503 : 500;
  return new Response(`${error.message}\n`, { status, headers: TEXT });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    // request.cgi.PATH_INFO is the decoded path below the function's route.
    const key = (request.cgi?.PATH_INFO ?? decodeURIComponent(url.pathname)).replace(/^\//, '');
    try {
      if (key === '') {
        if (request.method !== 'GET') return new Response('use GET /?prefix=P to list keys\n', { status: 405, headers: TEXT });
        const prefix = url.searchParams.get('prefix') ?? '';
        const keys = [];
        let cursor;
        do {
          const page = await env.default.list({ prefix, cursor });
          for (const { name } of page.keys) keys.push(name);
          cursor = page.list_complete ? undefined : page.cursor;
        } while (cursor);
        return Response.json(keys);
      }
      switch (request.method) {
        case 'GET':
        case 'HEAD': {
          const value = await env.default.get(key, 'arrayBuffer');
          if (value === null) return new Response('not found\n', { status: 404, headers: TEXT });
          return new Response(value, { headers: { 'content-type': 'application/octet-stream' } });
        }
        case 'PUT': {
          const ttl = url.searchParams.get('ttl');
          if (ttl !== null && !/^\d{1,10}$/.test(ttl)) return new Response('ttl must be a whole number of seconds\n', { status: 400, headers: TEXT });
          await env.default.put(key, await request.arrayBuffer(), ttl ? { expirationTtl: Number(ttl) } : undefined);
          return new Response(null, { status: 201 });
        }
        case 'DELETE':
          await env.default.delete(key);
          return new Response(null, { status: 204 });
        default:
          return new Response('use GET, PUT or DELETE\n', { status: 405, headers: TEXT });
      }
    } catch (error) {
      return fail(error);
    }
  },
};
