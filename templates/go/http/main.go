// {{name}}: a wfn function. It answers every request with what it received, as JSON:
// {"method":"GET","path":"/x","query":{"a":"b c"},"body":"..."}
//
// Try it: `wfn run` or `wfn dev`, then `curl '127.0.0.1:8080/hello?a=b+c' -d 'hi'`.
package main

func main() {
	method := requestVar("REQUEST_METHOD")
	path := requestVar("PATH_INFO")
	query := parseQuery(requestVar("QUERY_STRING"))
	body := utf8Lossy(readBody())

	json := []byte(`{"method":`)
	json = appendJSONString(json, method)
	json = append(json, `,"path":`...)
	json = appendJSONString(json, path)
	json = append(json, `,"query":{`...)
	for i, param := range query {
		if i > 0 {
			json = append(json, ',')
		}
		json = appendJSONString(json, param.name)
		json = append(json, ':')
		json = appendJSONString(json, param.value)
	}
	json = append(json, `},"body":`...)
	json = appendJSONString(json, body)
	json = append(json, '}')

	respond(200, "application/json", json)
}
