package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
)

func TestNextVersion(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, f := range []string{"sqlite/20300101000000_init.sql", "postgres/20200101000000_init.sql", "postgres/atlas.sum"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	tests := []struct {
		dialects []string
		want     string
	}{
		{dialects: []string{"postgres"}, want: "20261122010203"},
		// The clock is behind the newest sqlite file: take its successor.
		{dialects: []string{"sqlite", "postgres"}, want: "20300101000001"},
		{dialects: []string{"missing"}, want: "20261122010203"},
	}
	for _, tt := range tests {
		got, err := nextVersion(root, tt.dialects, now)
		if err != nil || got != tt.want {
			t.Errorf("nextVersion(%v) = %q, %v; want %q", tt.dialects, got, err, tt.want)
		}
	}
}

func TestVersionFormatter(t *testing.T) {
	t.Parallel()
	plan := &atlasmigrate.Plan{Name: "add_x", Changes: []*atlasmigrate.Change{{Cmd: "CREATE TABLE x (id int)", Reverse: "DROP TABLE x"}}}
	files, err := versionFormatter{version: "20260101000000"}.Format(plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name() != "20260101000000_add_x.sql" {
		t.Fatalf("files = %v, want one named 20260101000000_add_x.sql", files)
	}
	if b := string(files[0].Bytes()); !strings.Contains(b, "-- +goose Up\nCREATE TABLE x (id int);") || !strings.Contains(b, "-- +goose Down\nDROP TABLE x;") {
		t.Errorf("content is not goose format:\n%s", b)
	}
}

func TestRealMainArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"-name", "Bad-Name"}, {"-name", "x", "-dialect", "mysql"}, {"-name", "x", "-dir", t.TempDir()}} {
		if err := realMain(t.Context(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("realMain(%q) succeeded, want error", args)
		}
	}
}

// TestRegeneratesCommittedMigrations runs the generator end to end on both
// dialects: with the committed files it finds nothing to do, and from an
// empty directory it writes what is committed (up to the version).
func TestRegeneratesCommittedMigrations(t *testing.T) {
	t.Parallel()
	committed := filepath.Join("..", "..", "..", "ent", "migrations")
	root := filepath.Join(t.TempDir(), "ent")
	if err := os.MkdirAll(filepath.Join(root, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "migrations")
	if err := os.CopyFS(dir, os.DirFS(committed)); err != nil {
		t.Fatalf("copy committed migrations: %v", err)
	}
	var out bytes.Buffer
	if err := realMain(t.Context(), []string{"-name", "noop", "-dir", dir}, &out); err != nil {
		t.Fatalf("realMain on committed files: %v", err)
	}
	if strings.Count(out.String(), "nothing written") != 2 {
		t.Errorf("generator wants changes although the committed files are current:\n%s", out.String())
	}

	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			empty := filepath.Join(t.TempDir(), "ent")
			if err := os.MkdirAll(filepath.Join(empty, "schema"), 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(empty, "migrations")
			if err := realMain(t.Context(), []string{"-name", "init", "-dir", dir, "-dialect", d}, &bytes.Buffer{}); err != nil {
				t.Fatalf("realMain on an empty directory: %v", err)
			}
			got, err := filepath.Glob(filepath.Join(dir, d, "*_init.sql"))
			if err != nil || len(got) != 1 {
				t.Fatalf("generated files = %v, %v", got, err)
			}
			want, err := filepath.Glob(filepath.Join(committed, d, "*.sql"))
			if err != nil || len(want) == 0 {
				t.Fatalf("committed files = %v, %v", want, err)
			}
			if len(want) != 1 {
				// Later changes are squashed into one file here; the
				// byte comparison only holds while there is one migration.
				return
			}
			g, _ := os.ReadFile(got[0])
			w, _ := os.ReadFile(want[0])
			if !bytes.Equal(g, w) {
				t.Errorf("regenerated %s differs from committed %s:\n%s", got[0], want[0], g)
			}
		})
	}
}

// copyCommitted copies the committed migrations into a temporary ent/
// directory (with the schema/ directory realMain looks for) and returns
// the migrations root.
func copyCommitted(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "ent")
	if err := os.MkdirAll(filepath.Join(root, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "migrations")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "..", "ent", "migrations"))); err != nil {
		t.Fatalf("copy committed migrations: %v", err)
	}
	return dir
}

// TestHashRewritesSum: -hash leaves a consistent atlas.sum as it is and
// makes a directory with a new hand-written file valid again.
func TestHashRewritesSum(t *testing.T) {
	t.Parallel()
	dir := copyCommitted(t)
	sumPath := filepath.Join(dir, "postgres", atlasmigrate.HashFileName)
	before, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := realMain(t.Context(), []string{"-hash", "-dir", dir}, &bytes.Buffer{}); err != nil {
		t.Fatalf("-hash: %v", err)
	}
	if after, _ := os.ReadFile(sumPath); !bytes.Equal(before, after) {
		t.Errorf("-hash changed a consistent atlas.sum:\n%s\nwant\n%s", after, before)
	}

	hand := filepath.Join(dir, "postgres", "29990101000000_hand_written.sql")
	if err := os.WriteFile(hand, []byte("-- +goose Up\nSELECT 1;\n\n-- +goose Down\nSELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	validate := func() error {
		d, err := sqltool.NewGooseDir(filepath.Join(dir, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		return atlasmigrate.Validate(d)
	}
	if err := validate(); err == nil {
		t.Fatal("a new file without a new atlas.sum validates; the check is moot")
	}
	if err := realMain(t.Context(), []string{"-hash", "-dir", dir, "-dialect", "postgres"}, &bytes.Buffer{}); err != nil {
		t.Fatalf("-hash: %v", err)
	}
	if err := validate(); err != nil {
		t.Errorf("after -hash: %v", err)
	}
}

// TestDiffAfterHandWrittenMigrations: the committed hand-written files
// (row-level security on PostgreSQL, its empty SQLite twin) replay, and a
// change after them is still diffed exactly. A hand-written file dropping
// an index the schema has stands for the change: the generator must write
// one migration re-creating it, after every existing version.
func TestDiffAfterHandWrittenMigrations(t *testing.T) {
	t.Parallel()
	dir := copyCommitted(t)
	const version = "29990101000000"
	for d, drop := range map[string]string{"postgres": `DROP INDEX "tenant_path";`, "sqlite": "DROP INDEX `tenant_path`;"} {
		body := "-- +goose Up\n" + drop + "\n\n-- +goose Down\nSELECT 1;\n"
		if err := os.WriteFile(filepath.Join(dir, d, version+"_drop_tenant_path.sql"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := realMain(t.Context(), []string{"-hash", "-dir", dir}, &bytes.Buffer{}); err != nil {
		t.Fatalf("-hash: %v", err)
	}
	var out bytes.Buffer
	if err := realMain(t.Context(), []string{"-name", "readd_tenant_path", "-dir", dir}, &out); err != nil {
		t.Fatalf("realMain: %v", err)
	}
	for d, want := range map[string]string{
		"postgres": `CREATE INDEX "tenant_path" ON "tenants" ("path" text_pattern_ops);`,
		"sqlite":   "CREATE INDEX `tenant_path` ON `tenants` (`path`);",
	} {
		got, err := filepath.Glob(filepath.Join(dir, d, "*_readd_tenant_path.sql"))
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: generated files = %v, %v\n%s", d, got, err, out.String())
		}
		if name := filepath.Base(got[0]); name <= version {
			t.Errorf("%s: generated %s does not sort after the hand-written %s", d, name, version)
		}
		b, _ := os.ReadFile(got[0])
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		var stmts []string
		for _, line := range strings.Split(up, "\n") {
			if line != "" && !strings.HasPrefix(line, "--") {
				stmts = append(stmts, line)
			}
		}
		if len(stmts) != 1 || stmts[0] != want {
			t.Errorf("%s: generated Up statements = %q, want only %q", d, stmts, want)
		}
	}
}
