//go:build ignore

// entc.go generates the ent client from ent/schema. Run it from the
// repository root with `go run ent/entc.go`, or with `go generate ./ent`.
// It resolves paths relative to this file so both work, and it uses only
// modules already listed in go.mod, so it never edits go.mod or go.sum.
package main

import (
	"log"
	"path/filepath"
	"runtime"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		log.Fatal("entc: cannot locate entc.go")
	}
	dir := filepath.Dir(self)
	err := entc.Generate(filepath.Join(dir, "schema"), &gen.Config{
		Target:  dir,
		Package: "github.com/cityops/cityops/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureSnapshot,
			gen.FeatureVersionedMigration,
			gen.FeatureUpsert,
			gen.FeatureLock,
			gen.FeatureExecQuery,
		},
	})
	if err != nil {
		log.Fatalf("entc: generate: %v", err)
	}
}
