// Package protoctest runs protoc with freshly built plugins of this module,
// for the tests of the project's protoc plugins.
package protoctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// Module is the path of the module the plugins and fixtures live in.
const Module = "github.com/cityops/cityops"

// Plugin packages, by the name protoc knows them under.
var Plugins = map[string]string{
	"go":        "google.golang.org/protobuf/cmd/protoc-gen-go",
	"go-http":   Module + "/app/tools/protoc-gen-go-http",
	"go-errors": Module + "/app/tools/protoc-gen-go-errors",
}

// RepoRoot returns the directory of the module's go.mod, found upwards from
// the working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+Module+"\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod of %s above the working directory", Module)
		}
		dir = parent
	}
}

// Protoc returns the protoc on PATH, skipping the test when there is none.
func Protoc(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("protoc")
	if err != nil {
		tb.Skip("protoc is not installed (Debian: protobuf-compiler libprotobuf-dev)")
	}
	return p
}

// IncludeDirs returns the -I directories: the repository's third_party and
// api, then the well-known types installed beside protoc (<prefix>/include
// for <prefix>/bin/protoc), when they are there.
func IncludeDirs(tb testing.TB) []string {
	tb.Helper()
	root := RepoRoot(tb)
	dirs := []string{filepath.Join(root, "third_party"), filepath.Join(root, "api")}
	wkt := filepath.Join(filepath.Dir(filepath.Dir(Protoc(tb))), "include")
	if _, err := os.Stat(filepath.Join(wkt, "google", "protobuf", "field_mask.proto")); err == nil {
		dirs = append(dirs, wkt)
	}
	return dirs
}

// BuildPlugins builds the named plugins (keys of Plugins) into a new
// temporary directory and returns protoc's --plugin flags for them.
func BuildPlugins(tb testing.TB, names ...string) []string {
	tb.Helper()
	dir := tb.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	var flags []string
	for _, n := range names {
		pkg, ok := Plugins[n]
		if !ok {
			tb.Fatalf("unknown plugin %q", n)
		}
		args = append(args, pkg)
		flags = append(flags, "--plugin=protoc-gen-"+n+"="+filepath.Join(dir, "protoc-gen-"+n))
	}
	Go(tb, RepoRoot(tb), args...)
	return flags
}

// Go runs the go command in dir and fails the test when it fails.
func Go(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Run runs protoc in the repository root with the include directories
// first, and returns its combined output and error.
func Run(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	var full []string
	for _, d := range IncludeDirs(tb) {
		full = append(full, "-I", d)
	}
	full = append(full, args...)
	cmd := exec.Command(Protoc(tb), full...)
	cmd.Dir = RepoRoot(tb)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Request compiles the given protos (name → source, written to a temporary
// include directory) with protoc and returns the CodeGeneratorRequest protoc
// would send a plugin for them, so a test can run a generator in-process.
func Request(tb testing.TB, param string, protos map[string]string) *pluginpb.CodeGeneratorRequest {
	tb.Helper()
	dir := tb.TempDir()
	var names []string
	for name, src := range protos {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	set := filepath.Join(tb.TempDir(), "set.pb")
	args := []string{"-I", dir, "--include_imports", "--include_source_info", "--descriptor_set_out=" + set}
	if out, err := Run(tb, append(args, names...)...); err != nil {
		tb.Fatalf("protoc: %v\n%s", err, out)
	}
	b, err := os.ReadFile(set)
	if err != nil {
		tb.Fatal(err)
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &fds); err != nil {
		tb.Fatal(err)
	}
	return &pluginpb.CodeGeneratorRequest{FileToGenerate: names, ProtoFile: fds.GetFile(), Parameter: proto.String(param)}
}
