// {{name}}: answers every request with what it received, as JSON.
//
// The handler shape is the one Cloudflare Workers, Deno, Bun and Hono share. wfn runs it in
// QuickJS compiled to WebAssembly, pre-initialized at build time: the code outside fetch()
// runs once, during `wfn build` (console output there is dropped), and every request starts
// from that snapshot.

/** Query string -> [name, value] pairs: `+` is a space, percent-decoded, the last value of a name wins. */
function parseQuery(queryString) {
  const query = new Map();
  for (const [name, value] of new URLSearchParams(queryString)) query.set(name, value);
  return query;
}

/** JSON object text with the keys in insertion order (a plain object would put "1" before "a"). */
function jsonObject(entries) {
  return '{' + [...entries].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',') + '}';
}

export default {
  async fetch(request, env) {
    // request.cgi holds the CGI variables: PATH_INFO is the decoded path below the function's route.
    const path = request.cgi?.PATH_INFO ?? decodeURIComponent(new URL(request.url).pathname);
    const query = parseQuery(request.cgi?.QUERY_STRING ?? new URL(request.url).search);
    // The body exactly as sent (a leading byte-order mark kept), decoded as UTF-8.
    const body = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await request.arrayBuffer());
    const json =
      `{"method":${JSON.stringify(request.method)},"path":${JSON.stringify(path)},` +
      `"query":${jsonObject(query)},"body":${JSON.stringify(body)}}`;
    return new Response(json, { headers: { 'Content-Type': 'application/json' } });
  },
};
