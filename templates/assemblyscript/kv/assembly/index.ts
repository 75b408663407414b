// {{name}}: a wfn function over the key-value store "default" ([kv] stores in wfn.toml):
//
//   GET    /<key>          the value (200), or 404 when absent or expired
//   PUT    /<key>[?ttl=S]  stores the request body (201); ttl: seconds until it expires
//   DELETE /<key>          removes it (204)
//   GET    /?prefix=P      the keys starting with P, as a JSON array in byte order
//
// Values are bytes, up to 25 MiB; keys up to 512 bytes (docs/contract.md).
import { env, jsonString, parseQuery, readBody, respond, respondWith } from "./cgi";
import { KvCode, KvError, Store } from "./kv";

const TEXT = "text/plain; charset=utf-8";

function fail(error: KvError): void {
  let status = 500;
  if (error.code == KvCode.INVALID) status = 400;
  else if (error.code == KvCode.TOO_LARGE) status = 413;
  else if (error.code == KvCode.LIMIT) status = 429;
  else if (error.code == KvCode.UNAVAILABLE) status = 503;
  respondWith(status, [["Content-Type", TEXT]], String.UTF8.encode(error.message + "\n"));
}

function main(): void {
  const store = Store.open("default");
  if (store.error) return fail(store.error!);
  const method = env("REQUEST_METHOD");
  let key = env("PATH_INFO");
  if (key.startsWith("/")) key = key.substring(1);
  const query = parseQuery(env("QUERY_STRING"));

  if (key.length == 0) {
    if (method != "GET") return respond("405 Method Not Allowed", TEXT, "use GET /?prefix=P to list keys\n");
    const listed = store.listAll(query.has("prefix") ? query.get("prefix") : "");
    if (listed.error) return fail(listed.error!);
    let json = "[";
    for (let i = 0; i < listed.keys.length; i++) json += (i > 0 ? "," : "") + jsonString(listed.keys[i]);
    return respond("", "application/json", json + "]");
  }

  if (method == "GET" || method == "HEAD") {
    const got = store.get(key);
    if (got.error) return fail(got.error!);
    if (!got.found) return respond("404 Not Found", TEXT, "not found\n");
    return respondWith(200, [["Content-Type", "application/octet-stream"]], got.value);
  }
  if (method == "PUT") {
    let ttl: u32 = 0;
    if (query.has("ttl")) {
      const text = query.get("ttl");
      let valid = text.length > 0 && text.length <= 10;
      for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 48 || text.charCodeAt(i) > 57) valid = false;
      const seconds = valid ? U64.parseInt(text) : 0;
      if (!valid || seconds > u32.MAX_VALUE) return respond("400 Bad Request", TEXT, "ttl must be a whole number of seconds\n");
      ttl = <u32>seconds;
    }
    const error = store.set(key, readBody(), ttl);
    if (error) return fail(error!);
    return respond("201 Created", TEXT, "");
  }
  if (method == "DELETE") {
    const error = store.delete(key);
    if (error) return fail(error!);
    return respond("204 No Content", TEXT, "");
  }
  respond("405 Method Not Allowed", TEXT, "use GET, PUT or DELETE\n");
}

main();
