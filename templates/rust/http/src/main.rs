//! {{name}}: a wfn function. It answers every request with what it received, as JSON:
//! {"method":"GET","path":"/x","query":{"a":"b c"},"body":"..."}
//!
//! Try it: `wfn run` or `wfn dev`, then `curl '127.0.0.1:8080/hello?a=b+c' -d 'hi'`.

mod cgi;

fn main() {
    let method = cgi::var("REQUEST_METHOD");
    let path = cgi::var("PATH_INFO");
    let query = cgi::parse_query(&cgi::var("QUERY_STRING"));
    let body = String::from_utf8_lossy(&cgi::read_body()).into_owned();

    let mut json = String::from("{\"method\":");
    cgi::push_json_string(&mut json, &method);
    json.push_str(",\"path\":");
    cgi::push_json_string(&mut json, &path);
    json.push_str(",\"query\":{");
    for (index, (name, value)) in query.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        cgi::push_json_string(&mut json, name);
        json.push(':');
        cgi::push_json_string(&mut json, value);
    }
    json.push_str("},\"body\":");
    cgi::push_json_string(&mut json, &body);
    json.push('}');

    cgi::respond(200, "application/json", json.as_bytes());
}
