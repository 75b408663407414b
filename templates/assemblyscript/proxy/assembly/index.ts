// {{name}}: a wfn function that proxies every request to the origin in the variable
// UPSTREAM: it requests UPSTREAM + the incoming path and query (same method, body and
// headers), then answers with the upstream's status, content type and body, plus
// x-upstream-status. When the call fails (denied, unreachable, timeout) it answers 502
// with the error's message.
//
// The origin must be allowed in wfn.toml: [outbound] allow = ["https://api.example.com"].
import { env, readBody, respond, respondWith } from "./cgi";
import { Request, send } from "./http";

// Request headers that describe this hop, not the request: the host sets its own.
const NOT_FORWARDED = ["host", "content-length", "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"];

const upstream = env("UPSTREAM");
if (upstream.length == 0) {
  respond("500 Internal Server Error", "text/plain; charset=utf-8", "UPSTREAM is not set: add it to [env] in wfn.toml\n");
} else {
  let base = upstream;
  while (base.endsWith("/")) base = base.substring(0, base.length - 1);
  let url = base + env("X_RAW_PATH_INFO");
  const query = env("QUERY_STRING");
  if (query.length > 0) url += "?" + query;

  const request = new Request(env("REQUEST_METHOD"), url);
  request.body = readBody();
  const contentType = env("CONTENT_TYPE");
  if (contentType.length > 0) request.header("content-type", contentType);
  const names = process.env.keys();
  for (let i = 0; i < names.length; i++) {
    if (!names[i].startsWith("HTTP_")) continue;
    const header = names[i].substring(5).toLowerCase().replaceAll("_", "-");
    if (!NOT_FORWARDED.includes(header)) request.header(header, process.env.get(names[i]));
  }

  const result = send(request);
  if (!result.ok) {
    respondWith(502, [["Content-Type", "text/plain; charset=utf-8"]], String.UTF8.encode(result.error!.message));
  } else {
    const response = result.response!;
    const headers = [["x-upstream-status", response.status.toString()]];
    const type = response.header("content-type");
    if (type !== null) headers.push(["Content-Type", type]);
    respondWith(response.status, headers, response.body);
  }
}
