package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"

	"github.com/cityops/cityops/app/tools/internal/protoctest"
)

const protoHeader = `syntax = "proto3";
package t.v1;
option go_package = "example.com/t/v1;tv1";
import "google/api/annotations.proto";
import "google/protobuf/empty.proto";
`

const protoMessages = `
message Ref { string code = 1; }
message Req {
  string tenant_code = 1;
  repeated string tags = 2;
  Ref ref = 3;
  bytes blob = 4;
  string title = 5;
  oneof pick { string a = 6; string b = 7; }
}
message Reply { Ref ref = 1; }
`

// generate runs the generator in-process over one proto file holding the
// given service body and returns the generated files by name.
func generate(t *testing.T, service string) (map[string]string, error) {
	t.Helper()
	req := protoctest.Request(t, "paths=source_relative", map[string]string{
		"t/v1/t.proto": protoHeader + protoMessages + service,
	})
	gen, err := protogen.Options{}.New(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gen.Files {
		if f.Generate {
			if err := generateFile(gen, f); err != nil {
				return nil, err
			}
		}
	}
	res := gen.Response()
	if res.Error != nil {
		t.Fatalf("response error: %s", res.GetError())
	}
	files := make(map[string]string)
	for _, f := range res.File {
		files[f.GetName()] = f.GetContent()
	}
	return files, nil
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct{ name, rule, want string }{
		{"unknown field", `get: "/v1/{nope}"`, `has no field "nope"`},
		{"repeated variable", `get: "/v1/{tags}"`, `field "tags" is repeated`},
		{"message variable", `get: "/v1/{ref}"`, `field "ref" of kind message cannot be a path variable`},
		{"bytes variable", `get: "/v1/{blob}"`, `field "blob" of kind bytes cannot be a path variable`},
		{"through a scalar", `get: "/v1/{title.x}"`, `field "title" is not a message`},
		{"bad template", `get: "/v1/{title"`, "unclosed {"},
		{"unknown body", `post: "/v1/x" body: "nope"`, `body "nope" is not a top-level field`},
		{"nested body", `post: "/v1/x" body: "ref.code"`, `body "ref.code" is not a top-level field`},
		{"oneof body", `post: "/v1/x" body: "a"`, `body "a" is a oneof member`},
		{"unknown response_body", `get: "/v1/x" response_body: "nope"`, `response_body "nope" is not a top-level field`},
		{"empty custom kind", `custom { kind: "" path: "/v1/x" }`, "is not an HTTP method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generate(t, `service S { rpc M(Req) returns (Reply) { option (google.api.http) = { `+tt.rule+` }; } }`)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGenerateShape(t *testing.T) {
	files, err := generate(t, `
// S is deprecated.
service S {
  option deprecated = true;
  // Old is gone soon.
  rpc Old(Req) returns (google.protobuf.Empty) {
    option deprecated = true;
    option (google.api.http) = { get: "/v1/{ref.code}" body: "*" };
  }
  rpc Oneof(Req) returns (Reply) {
    option (google.api.http) = { put: "/v1/{a}" body: "title" response_body: "ref" };
  }
  rpc Stream(Req) returns (stream Reply) { option (google.api.http) = { get: "/v1/s" }; }
  rpc NoRule(Req) returns (Reply);
}
service Bare { rpc M(Req) returns (Reply); }
`)
	if err != nil {
		t.Fatal(err)
	}
	src, ok := files["t/v1/t_http.pb.go"]
	if !ok || len(files) != 1 {
		t.Fatalf("generated %v", files)
	}
	for _, want := range []string{
		"// - protoc-gen-go-http " + version + "\n",
		"\tOperationSOld   = \"/t.v1.S/Old\"\n", // aligned with OperationSOneof
		"Old(context.Context, *Req) (*emptypb.Empty, error)",
		"\t// Old is gone soon.\n\t//\n\t// Deprecated: Do not use.\n\tOld(",
		"r.GET(\"/v1/{ref.code}\", _S_Old0_HTTP_Handler(srv))",
		"r.PUT(\"/v1/{a}\", _S_Oneof0_HTTP_Handler(srv))",
		"if err := ctx.Bind(&in.Title); err != nil {",
		"return ctx.Result(200, reply.GetRef())",
		"v0 := in.GetA()",
		"out.Ref = new(Ref)",
		"c.cc.Invoke(ctx, \"PUT\", path, in.GetTitle(), out.Ref, opts...)",
		// GET ignores the body: the fields go to the query.
		"c.cc.Invoke(ctx, \"GET\", path, nil, &out, opts...)",
		"delete(query, \"ref.code\")",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, unwanted := range []string{"Stream", "NoRule", "Bare", "ctx.Bind(&in)"} {
		if strings.Contains(src, unwanted) {
			t.Errorf("output contains %q", unwanted)
		}
	}
}

func TestGenerateNothingWithoutRules(t *testing.T) {
	files, err := generate(t, `service S { rpc M(Req) returns (Reply); }`)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 0 {
		t.Errorf("generated %v", files)
	}
}
