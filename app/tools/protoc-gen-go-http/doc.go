// Command protoc-gen-go-http generates kratos HTTP servers and clients from
// google.api.http annotations, into <file>_http.pb.go beside protoc-gen-go's
// output.
//
// It exists because kratos's own protoc-gen-go-http cannot be installed here
// (the module proxy refuses every version of it). The generated code has the
// same shape as kratos's, against kratos v2.8.3's transport/http: Operation*
// constants, <Svc>HTTPServer, Register<Svc>HTTPServer, <Svc>HTTPClient,
// <Svc>HTTPClientImpl and New<Svc>HTTPClient. Unlike kratos's generator, the
// client fills path variables itself, by proto field name and URL-escaped,
// because kratos's binding.EncodeURL looks variables up by JSON name and so
// leaves snake_case variables such as {tenant_code} empty.
//
// Usage:
//
//	protoc -I third_party -I api --go-http_out=paths=source_relative:api x/v1/x.proto
package main
