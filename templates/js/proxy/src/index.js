// {{name}}: proxies every request to the origin in the variable UPSTREAM: it requests
// UPSTREAM + the incoming path and query (same method, body and headers), then answers with
// the upstream's status, content type and body, plus x-upstream-status. When the call fails
// (denied, unreachable, timeout) it answers 502 with the error's message.
//
// The origin must be allowed in wfn.toml: [outbound] allow = ["https://api.example.com"].

/** Request headers that describe this hop, not the request: the host sets its own. */
const NOT_FORWARDED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export default {
  async fetch(request, env) {
    if (!env.UPSTREAM) {
      return new Response('UPSTREAM is not set: add it to [env] in wfn.toml\n', { status: 500 });
    }
    const incoming = new URL(request.url);
    // request.cgi holds the CGI variables: X_RAW_PATH_INFO is the path below the function's route, as sent.
    const path = request.cgi?.X_RAW_PATH_INFO ?? incoming.pathname;
    const query = request.cgi?.QUERY_STRING ?? incoming.search.slice(1);
    const target = env.UPSTREAM.replace(/\/+$/, '') + path + (query ? `?${query}` : '');

    const headers = new Headers();
    for (const [name, value] of request.headers) if (!NOT_FORWARDED.has(name)) headers.append(name, value);
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    try {
      const upstream = await fetch(target, {
        method: request.method,
        headers,
        body: hasBody ? await request.arrayBuffer() : undefined,
      });
      const answer = new Headers({ 'x-upstream-status': String(upstream.status) });
      const type = upstream.headers.get('content-type');
      if (type !== null) answer.set('content-type', type);
      return new Response(await upstream.arrayBuffer(), { status: upstream.status, headers: answer });
    } catch (error) {
      // error.cause.message is the host's own message (the same text the other languages answer).
      return new Response(error.cause?.message ?? error.message, { status: 502, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
  },
};
