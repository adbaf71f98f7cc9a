package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The tests run with the package directory, deploy/, as working directory;
// every path below is relative to it.

// ownedExcluded lists directories under deploy/ that other teams own: their
// files are still parsed and scanned for registry hosts, but the README is
// not required to describe each of their files.
var ownedExcluded = []string{"dev"}

// deployFiles returns every regular file under deploy/ (slash-separated,
// relative to deploy/), sorted.
func deployFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk deploy/: %v", err)
	}
	slices.Sort(files)
	return files
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

func isGo(path string) bool { return strings.HasSuffix(path, ".go") }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// yamlDocs decodes every document of a (possibly multi-document) YAML
// stream. Empty documents (a lone "---") are dropped.
func yamlDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		docs = append(docs, &n)
	}
}

func TestEveryYAMLFileParses(t *testing.T) {
	t.Parallel()
	var yamlFiles []string
	for _, f := range deployFiles(t) {
		if isYAML(f) {
			yamlFiles = append(yamlFiles, f)
		}
	}
	if len(yamlFiles) == 0 {
		t.Fatal("no YAML files found under deploy/")
	}
	for _, f := range yamlFiles {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			docs, err := yamlDocs(readFile(t, f))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(docs) == 0 {
				t.Fatal("no YAML document in file")
			}
			for i, d := range docs {
				if d.Content[0].Kind != yaml.MappingNode {
					t.Errorf("document %d: top level is not a mapping", i)
				}
			}
		})
	}
}

// checkImageRef fails when an image reference names a registry host: the
// first path component of a reference is a host when it contains a dot or
// a colon, or is "localhost" (the rule the container runtimes apply).
func checkImageRef(t *testing.T, where, ref string) {
	t.Helper()
	if ref == "" {
		t.Errorf("%s: empty image reference", where)
		return
	}
	first, _, hasSlash := strings.Cut(ref, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		t.Errorf("%s: image %q names registry host %q; write the plain image name", where, ref, first)
	}
}

func TestReadmeDescribesEveryFile(t *testing.T) {
	t.Parallel()
	readme := string(readFile(t, "README.md"))
	for _, f := range deployFiles(t) {
		if f == "README.md" || isGo(f) {
			continue // the Go files are described together as the tests
		}
		dir, _, _ := strings.Cut(f, "/")
		if slices.Contains(ownedExcluded, dir) && strings.Contains(f, "/") {
			if !strings.Contains(readme, dir+"/") {
				t.Errorf("README.md does not mention the directory %s/", dir)
			}
			continue
		}
		if !strings.Contains(readme, f) {
			t.Errorf("README.md does not describe %s", f)
		}
	}
}
