package main

import (
	"strings"
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/cityops/cityops/app/tools/internal/protoctest"
)

func TestCamelCase(t *testing.T) {
	tests := map[string]string{
		"TENANT_NOT_FOUND":         "TenantNotFound",
		"INTERNAL":                 "Internal",
		"ERROR_REASON_UNSPECIFIED": "ErrorReasonUnspecified",
		"ImportRowInvalid":         "ImportRowInvalid",
		"notReady":                 "NotReady",
		"HTTP2_FAILED":             "Http2Failed",
		"A__B":                     "AB",
		"x":                        "X",
	}
	for in, want := range tests {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOptionsKnownOrUnknown reads the same options once as registered
// extensions and once as unknown fields, as the plugin binary sees them.
func TestOptionsKnownOrUnknown(t *testing.T) {
	known := &descriptorpb.EnumValueOptions{}
	proto.SetExtension(known, kerrors.E_Code, int32(404))

	unknown := &descriptorpb.EnumValueOptions{}
	var raw []byte
	raw = protowire.AppendTag(raw, fieldCode, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 400) // overridden by the next occurrence
	raw = protowire.AppendTag(raw, fieldCode, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 404)
	raw = protowire.AppendTag(raw, fieldMsgZh, protowire.BytesType)
	raw = protowire.AppendString(raw, "租户 {code} 不存在")
	unknown.ProtoReflect().SetUnknown(raw)

	for name, opts := range map[string]*descriptorpb.EnumValueOptions{"known": known, "unknown": unknown} {
		code, ok, err := optionInt32(opts, fieldCode)
		if err != nil || !ok || code != 404 {
			t.Errorf("%s: code = %d, %v, %v", name, code, ok, err)
		}
		if _, ok, err := optionInt32(opts, fieldDefaultCode); ok || err != nil {
			t.Errorf("%s: absent option found (%v)", name, err)
		}
	}
	if msg, ok, err := optionString(unknown, fieldMsgZh); err != nil || !ok || msg != "租户 {code} 不存在" {
		t.Errorf("msg_zh = %q, %v, %v", msg, ok, err)
	}
	if _, _, err := optionString(unknown, fieldCode); err == nil {
		t.Error("a varint read as a string")
	}
	var nilOpts *descriptorpb.EnumValueOptions
	if _, ok, err := optionString(nilOpts, fieldMsgEn); ok || err != nil {
		t.Errorf("nil options: %v, %v", ok, err)
	}
}

const header = `syntax = "proto3";
package t.v1;
option go_package = "example.com/t/v1;tv1";
import "errors/errors.proto";
import "google/protobuf/descriptor.proto";
extend google.protobuf.EnumValueOptions { string zh = 52001; string en = 52002; }
`

func run(t *testing.T, protos map[string]string) (map[string]string, error) {
	t.Helper()
	gen, err := protogen.Options{}.New(protoctest.Request(t, "paths=source_relative", protos))
	if err != nil {
		t.Fatal(err)
	}
	if err := generate(gen); err != nil {
		return nil, err
	}
	files := make(map[string]string)
	for _, f := range gen.Response().File {
		files[f.GetName()] = f.GetContent()
	}
	return files, nil
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		name   string
		protos map[string]string
		want   string
	}{
		{
			name:   "code out of range",
			protos: map[string]string{"t/v1/a.proto": header + `enum E { E_UNSPECIFIED = 0; BAD = 1 [(errors.code) = 700]; }`},
			want:   "t.v1.BAD: (errors.code): 700 is not an HTTP status code",
		},
		{
			name:   "default code out of range",
			protos: map[string]string{"t/v1/a.proto": header + `enum E { option (errors.default_code) = 42; E_UNSPECIFIED = 0; }`},
			want:   "t.v1.E: (errors.default_code): 42 is not an HTTP status code",
		},
		{
			name: "same function twice in one Go package",
			protos: map[string]string{
				"t/v1/a.proto": header + `enum A { option (errors.default_code) = 500; A_UNSPECIFIED = 0; NOT_FOUND = 1; }`,
				"t/v1/b.proto": `syntax = "proto3"; package t.v1.b; option go_package = "example.com/t/v1;tv1";
import "errors/errors.proto";
enum B { B_UNSPECIFIED = 0; NOT_FOUND = 1 [(errors.code) = 404]; }`,
			},
			want: "t.v1.b.NOT_FOUND would generate IsNotFound, which t.v1.NOT_FOUND generates too",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.protos)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGenerateShape(t *testing.T) {
	files, err := run(t, map[string]string{
		"t/v1/a.proto": header + `
enum Reason {
  option (errors.default_code) = 500;
  REASON_UNSPECIFIED = 0;
  // Quoted "text" and a \ backslash.
  QUOTED = 1 [(errors.code) = 400, (zh) = "引号 \"{x}\" \\", (en) = "quote \"{x}\""];
}
enum NotAnError { NOT_AN_ERROR_UNSPECIFIED = 0; ONE = 1; }
message M { enum Nested { option (errors.default_code) = 400; NESTED_UNSPECIFIED = 0; } }
`,
		"t/v1/none.proto": `syntax = "proto3"; package t.v1; option go_package = "example.com/t/v1;tv1"; enum Z { Z_UNSPECIFIED = 0; }`,
	})
	if err != nil {
		t.Fatal(err)
	}
	src, ok := files["t/v1/a_errors.pb.go"]
	if !ok || len(files) != 1 {
		t.Fatalf("generated %v", files)
	}
	for _, want := range []string{
		"// - protoc-gen-go-errors " + version + "\n",
		"func IsReasonUnspecified(err error) bool",
		"return e.Reason == Reason_QUOTED.String() && e.Code == 400",
		"return errors.New(400, Reason_QUOTED.String(), fmt.Sprintf(format, args...))",
		"//\n// Quoted \"text\" and a \\ backslash.\nfunc IsQuoted(",
		"func ReasonMessage(reason, lang string) (string, bool) {",
		`return "引号 \"{x}\" \\", true`,
		`return "quote \"{x}\"", true`,
		"case \"REASON_UNSPECIFIED\":\n\t\treturn 500, true",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Like kratos, only top-level enums are considered.
	for _, unwanted := range []string{"NotAnError", "IsOne", "Nested"} {
		if strings.Contains(src, unwanted) {
			t.Errorf("output contains %q", unwanted)
		}
	}
}
