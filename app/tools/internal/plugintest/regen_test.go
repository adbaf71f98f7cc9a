package plugintest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/tools/internal/protoctest"
)

var update = flag.Bool("update", false, "rewrite the committed fixture code in ../fixture/v1")

// fixtureDir is the committed fixture package, relative to the repository root.
const fixtureDir = "app/tools/internal/fixture/v1"

// fixtureProtos are the fixture inputs, relative to fixtureInclude.
var fixtureProtos = []string{"fixture/v1/case.proto", "fixture/v1/errors.proto"}

const fixtureInclude = "app/tools/internal/testdata/proto"

// generateFixtures runs protoc with the three plugins over the fixture
// protos and returns the generated files by base name.
func generateFixtures(t *testing.T, plugins []string) map[string][]byte {
	t.Helper()
	out := t.TempDir()
	opt := "module=" + protoctest.Module + ":" + out
	args := append(slices.Clone(plugins),
		"-I", fixtureInclude,
		"--go_out="+opt, "--go-http_out="+opt, "--go-errors_out="+opt)
	if msg, err := protoctest.Run(t, append(args, fixtureProtos...)...); err != nil {
		t.Fatalf("protoc: %v\n%s", err, msg)
	}
	files := make(map[string][]byte)
	dir := filepath.Join(out, filepath.FromSlash(fixtureDir))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// protocVersionRE matches the protoc version protoc-gen-go writes into its
// header; the comparison ignores it so that the test checks our plugins, not
// which protoc is installed (TOOLCHAIN pins 3.21.12).
var protocVersionRE = regexp.MustCompile(`(?m)^// \tprotoc +v.*$`)

func withoutProtocVersion(b []byte) []byte {
	return protocVersionRE.ReplaceAll(b, []byte("// \tprotoc (any)"))
}

// TestFixturesUpToDate regenerates the fixture package and compares it with
// the committed code, so a change of a plugin shows up as a reviewed diff of
// ../fixture/v1. Run with -update to rewrite the committed files.
func TestFixturesUpToDate(t *testing.T) {
	plugins := protoctest.BuildPlugins(t, "go", "go-http", "go-errors")
	got := generateFixtures(t, plugins)

	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	// case.proto has no error enum, errors.proto no service.
	want := []string{"case.pb.go", "case_http.pb.go", "errors.pb.go", "errors_errors.pb.go"}
	if !slices.Equal(names, want) {
		t.Fatalf("generated files = %v, want %v", names, want)
	}

	again := generateFixtures(t, plugins)
	for n, b := range got {
		if !bytes.Equal(b, again[n]) {
			t.Errorf("%s differs between two runs: output is not deterministic", n)
		}
	}

	committedDir := filepath.Join(protoctest.RepoRoot(t), filepath.FromSlash(fixtureDir))
	if *update {
		for n, b := range got {
			if err := os.WriteFile(filepath.Join(committedDir, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(committedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pb.go") && got[e.Name()] == nil {
			t.Errorf("%s/%s is no longer generated; delete it", fixtureDir, e.Name())
		}
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(committedDir, n))
		if err != nil {
			t.Errorf("%v; run go test with -update", err)
			continue
		}
		if !bytes.Equal(withoutProtocVersion(b), withoutProtocVersion(got[n])) {
			t.Errorf("%s/%s is out of date; run go test ./app/tools/internal/plugintest -run TestFixturesUpToDate -update", fixtureDir, n)
		}
	}
}
