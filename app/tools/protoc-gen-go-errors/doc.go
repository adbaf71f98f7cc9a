// Command protoc-gen-go-errors generates kratos error helpers from error
// reason enums, into <file>_errors.pb.go beside protoc-gen-go's output.
//
// It exists because kratos's own protoc-gen-go-errors cannot be installed
// here (the module proxy refuses every version of it). For every value of an
// enum carrying (errors.default_code) or (errors.code) options (kratos's
// third_party/errors/errors.proto) it writes the same functions kratos does,
// against kratos v2.8.3's errors package:
//
//	func IsCaseNotFound(err error) bool
//	func ErrorCaseNotFound(format string, args ...interface{}) *errors.Error
//
// and, for the enum as a whole, two lookups kratos does not have:
//
//	func <Enum>Message(reason, lang string) (string, bool)
//	func <Enum>Code(reason string) (int, bool)
//
// Message returns the template a value declares with the project's options
// (msg_zh) = 52001 and (msg_en) = 52002 on google.protobuf.EnumValueOptions
// (api/errors/v1/messages.proto), for lang "zh-CN" or "en". Options are read
// by field number from the raw option bytes, so the plugin does not depend on
// the Go package generated from messages.proto.
//
// Usage:
//
//	protoc -I third_party -I api --go-errors_out=paths=source_relative:api errors/v1/errors.proto
package main
