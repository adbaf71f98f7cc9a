// Command migrationgen writes the next versioned migration of the ent schema
// for every supported dialect, in goose format:
//
//	go run ./app/tools/migrationgen -name add_grids
//
// run from the repository root writes ent/migrations/{sqlite,postgres}/
// <version>_add_grids.sql (the same version in both directories) and updates
// each directory's atlas.sum. It computes the change the way Atlas does in
// replay mode: it replays the existing files on an empty dev database — a
// temporary SQLite file, and a scratch database on the test PostgreSQL
// server (see package pgserver; deploy/dev/ensure-postgres.sh starts one) —
// and diffs the result against the ent schema. When the schema did not
// change it writes nothing.
//
// Regenerate the ent code first (go generate ./ent); review the generated
// SQL before committing, in particular drops and SQLite table rebuilds.
//
// Hand-written migrations (what the ent schema cannot describe, such as the
// PostgreSQL row-level security policies) are added as files with a version
// after the newest one, followed by
//
//	go run ./app/tools/migrationgen -hash
//
// which rewrites each directory's atlas.sum from its files and generates
// nothing. Later diffs replay them like any other file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb/pgserver"
	"github.com/cityops/cityops/ent/migrate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrationgen:", err)
		os.Exit(1)
	}
}

// changeName keeps file names portable and goose-parsable.
var changeName = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("migrationgen", flag.ContinueOnError)
	name := fs.String("name", "", "name of the change, snake_case (required), e.g. add_grids")
	dir := fs.String("dir", filepath.Join("ent", "migrations"), "migrations root holding one directory per dialect")
	only := fs.String("dialect", "all", "dialect to generate: all, sqlite or postgres")
	pgDSN := fs.String("pg-dsn", pgserver.AdminDSN(), "admin DSN of the PostgreSQL server for the scratch dev database (env "+pgserver.EnvDSN+")")
	hash := fs.Bool("hash", false, "only rewrite each dialect's atlas.sum from its files, after adding a hand-written migration (-name is not needed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*hash && !changeName.MatchString(*name) {
		return fmt.Errorf("-name %q must be snake_case [a-z0-9_]", *name)
	}
	var dialects []string
	switch *only {
	case "all":
		dialects = []string{"sqlite", "postgres"}
	case "sqlite", "postgres":
		dialects = []string{*only}
	default:
		return fmt.Errorf("-dialect %q is not all, sqlite or postgres", *only)
	}
	if _, err := os.Stat(filepath.Join(*dir, "..", "schema")); err != nil {
		return fmt.Errorf("-dir %s does not sit beside ent/schema (run from the repository root): %w", *dir, err)
	}
	if *hash {
		for _, d := range dialects {
			path := filepath.Join(*dir, d)
			if err := WriteSum(path); err != nil {
				return fmt.Errorf("%s: %w", d, err)
			}
			fmt.Fprintf(out, "%s: rewrote %s\n", d, filepath.Join(path, atlasmigrate.HashFileName))
		}
		return nil
	}

	// One version for all dialects, so a change has the same number
	// everywhere; it must sort after every existing file of every dialect.
	version, err := nextVersion(*dir, dialects, time.Now().UTC())
	if err != nil {
		return err
	}
	for _, d := range dialects {
		path := filepath.Join(*dir, d)
		if err := os.MkdirAll(path, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		var wrote bool
		switch d {
		case "sqlite":
			wrote, err = diffSQLite(ctx, path, *name, version)
		case "postgres":
			wrote, err = diffPostgres(ctx, *pgDSN, path, *name, version)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		if wrote {
			fmt.Fprintf(out, "%s: wrote %s\n", d, filepath.Join(path, version+"_"+*name+".sql"))
		} else {
			fmt.Fprintf(out, "%s: schema and migrations agree, nothing written\n", d)
		}
	}
	return nil
}

// WriteSum rewrites the atlas.sum of the migration directory path from the
// files in it. atlas.sum exists to catch edits of released files, so it is
// only rewritten on request, after a reviewed hand-written file was added.
func WriteSum(path string) error {
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return fmt.Errorf("open migration directory: %w", err)
	}
	sum, err := dir.Checksum()
	if err != nil {
		return fmt.Errorf("checksum %s: %w", path, err)
	}
	if err := atlasmigrate.WriteSumFile(dir, sum); err != nil {
		return fmt.Errorf("write %s: %w", atlasmigrate.HashFileName, err)
	}
	return nil
}

// nextVersion returns now as a goose timestamp version (YYYYMMDDhhmmss),
// or the successor of the newest existing version if the clock is behind.
func nextVersion(root string, dialects []string, now time.Time) (string, error) {
	v, err := strconv.ParseInt(now.Format("20060102150405"), 10, 64)
	if err != nil {
		return "", fmt.Errorf("next version: %w", err)
	}
	for _, d := range dialects {
		entries, err := os.ReadDir(filepath.Join(root, d))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("next version: %w", err)
		}
		for _, e := range entries {
			prefix, _, ok := strings.Cut(e.Name(), "_")
			if !ok || !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			if n, err := strconv.ParseInt(prefix, 10, 64); err == nil && n >= v {
				v = n + 1
			}
		}
	}
	return strconv.FormatInt(v, 10), nil
}

// diffSQLite replays the directory on a temporary SQLite file. A file
// rather than :memory: because Atlas may use more than one connection.
func diffSQLite(ctx context.Context, path, name, version string) (bool, error) {
	tmp, err := os.MkdirTemp("", "migrationgen-*")
	if err != nil {
		return false, fmt.Errorf("create dev database directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	db, closeDB, err := database.Open(ctx, database.Config{
		Driver: database.DriverSQLite,
		DSN:    "file:" + filepath.Join(tmp, "dev.db"),
	})
	if err != nil {
		return false, fmt.Errorf("open dev database: %w", err)
	}
	defer closeDB()
	return diff(ctx, entsql.OpenDB(dialect.SQLite, db.SQL), dialect.SQLite, path, name, version)
}

// diffPostgres replays the directory on a scratch database created on the
// test server and dropped afterwards.
func diffPostgres(ctx context.Context, adminDSN, path, name, version string) (bool, error) {
	srv, err := pgserver.Connect(ctx, adminDSN)
	if err != nil {
		return false, err
	}
	defer srv.Close()
	scratch := pgserver.RandomName("cityops_migrationgen")
	dsn, err := srv.CreateDatabase(ctx, scratch, "template0")
	if err != nil {
		return false, err
	}
	defer func() {
		// Drop even when ctx was cancelled by Ctrl-C.
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := srv.DropDatabase(dropCtx, scratch); err != nil {
			fmt.Fprintln(os.Stderr, "migrationgen:", err)
		}
	}()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: dsn})
	if err != nil {
		return false, fmt.Errorf("open dev database: %w", err)
	}
	defer closeDB()
	return diff(ctx, entsql.OpenDB(dialect.Postgres, db.SQL), dialect.Postgres, path, name, version)
}

// diffMu serializes NamedDiff calls within the process (see diff).
var diffMu sync.Mutex

// diff writes the migration taking the state replayed from path to the ent
// schema. Drops are included: the files are the single source of the
// database shape, and a review catches unwanted ones.
func diff(ctx context.Context, drv dialect.Driver, dia, path, name, version string) (bool, error) {
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return false, fmt.Errorf("open migration directory: %w", err)
	}
	// ent's generated migrate.Tables is package-level and NamedDiff
	// rewrites it while preparing a diff, so two diffs in one process (the
	// tests run several) must take turns.
	diffMu.Lock()
	defer diffMu.Unlock()
	err = migrate.NewSchema(drv).NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dia),
		schema.WithFormatter(versionFormatter{version: version}),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	switch {
	case errors.Is(err, atlasmigrate.ErrNoPlan):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("diff: %w", err)
	}
	return true, nil
}

// versionFormatter is Atlas's goose formatter with a version chosen by us
// instead of the clock, so both dialects of one change share a version.
type versionFormatter struct{ version string }

// Format implements atlas migrate.Formatter.
func (f versionFormatter) Format(plan *atlasmigrate.Plan) ([]atlasmigrate.File, error) {
	files, err := sqltool.GooseFormatter.Format(plan)
	if err != nil {
		return nil, err
	}
	out := make([]atlasmigrate.File, len(files))
	for i, file := range files {
		// GooseFormatter names files "<clock version>_<name>.sql".
		_, rest, ok := strings.Cut(file.Name(), "_")
		if !ok {
			rest = "changes.sql"
		}
		out[i] = atlasmigrate.NewLocalFile(f.version+"_"+rest, file.Bytes())
	}
	return out, nil
}
