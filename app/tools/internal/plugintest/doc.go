// Package plugintest holds the end-to-end tests of the project's protoc
// plugins, protoc-gen-go-http and protoc-gen-go-errors: it regenerates the
// committed fixture package ../fixture/v1 with protoc and the freshly built
// plugins, runs the generated HTTP server and client against each other over
// a real socket, and compiles and runs the code generated from the real
// api/errors/v1/errors.proto.
package plugintest
