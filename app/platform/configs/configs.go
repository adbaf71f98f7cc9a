// Package configs holds the platform's embedded default configuration, so
// that the binary runs with no file beside it.
package configs

import _ "embed"

// Default is config.yaml: embedded defaults, each overridable by the
// environment variable it names.
//
//go:embed config.yaml
var Default []byte
