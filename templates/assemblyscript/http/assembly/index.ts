// {{name}}: answers the request it received, as JSON.
// Run it: `wfn dev`, then `curl 'http://127.0.0.1:8080/hello?name=wasm' -d 'hi'`.
import { env, jsonString, parseQuery, readBody, respond } from "./cgi";

const query = parseQuery(env("QUERY_STRING"));
let fields = new Array<string>();
const keys = query.keys();
for (let i = 0; i < keys.length; i++) {
  fields.push(jsonString(keys[i]) + ":" + jsonString(query.get(keys[i])));
}

const body = String.UTF8.decode(readBody());
respond(
  "",
  "application/json",
  "{\"method\":" + jsonString(env("REQUEST_METHOD")) +
    ",\"path\":" + jsonString(env("PATH_INFO")) +
    ",\"query\":{" + fields.join(",") + "}" +
    ",\"body\":" + jsonString(body) + "}",
);
