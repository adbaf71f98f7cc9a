// Package api holds the protobuf definitions of every CityOps service, the
// code generated from them, and the OpenAPI document the platform serves.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3 document of the REST surface, generated from the
// protos by `make api` and served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
