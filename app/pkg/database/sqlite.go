package database

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	"modernc.org/sqlite"
)

// registerSQLite makes modernc.org/sqlite available under ent's SQLite
// driver name "sqlite3" (ent and atlas look drivers up by that name). It is
// the package's only global side effect and runs at most once; if another
// package already registered "sqlite3" that registration is kept, because
// sql.Register panics on duplicates.
var registerSQLite = sync.OnceFunc(func() {
	if !slices.Contains(sql.Drivers(), dialect.SQLite) {
		sql.Register(dialect.SQLite, &sqlite.Driver{})
	}
})

// sqliteDefaults are the connection parameters CityOps relies on. modernc
// applies DSN parameters on every new connection, so putting them in the
// DSN is what makes them hold for every pooled connection:
//   - foreign_keys: SQLite ignores foreign keys unless enabled per
//     connection, and ent refuses to migrate without it.
//   - journal_mode WAL: readers do not block the writer.
//   - busy_timeout: wait for the write lock instead of failing at once.
//   - _txlock=immediate: BEGIN IMMEDIATE takes the write lock up front, so
//     a transaction that reads then writes cannot fail with SQLITE_BUSY
//     half-way (a deferred transaction cannot wait for a lock upgrade).
//   - _time_format=sqlite: store times in SQLite's own sortable text form.
var sqliteDefaults = []struct{ key, pragma, value string }{
	{key: "_pragma", pragma: "foreign_keys", value: "foreign_keys(1)"},
	{key: "_pragma", pragma: "journal_mode", value: "journal_mode(WAL)"},
	{key: "_pragma", pragma: "busy_timeout", value: "busy_timeout(5000)"},
	{key: "_txlock", value: "immediate"},
	{key: "_time_format", value: "sqlite"},
}

// sqliteDSN is a parsed SQLite DSN.
type sqliteDSN struct {
	dsn    string // with the missing defaults appended
	path   string // file path; empty for in-memory databases
	memory bool
}

// parseSQLiteDSN adds the parameters of sqliteDefaults that dsn does not set
// and works out the file path. Parameters already present win, so an
// operator can still choose e.g. journal_mode(DELETE) on a network drive.
func parseSQLiteDSN(dsn string) (sqliteDSN, error) {
	base, rawQuery, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return sqliteDSN{}, fmt.Errorf("parse sqlite dsn query: %w", err)
	}
	extra := url.Values{}
	for _, d := range sqliteDefaults {
		if d.pragma == "" {
			if !q.Has(d.key) {
				extra.Add(d.key, d.value)
			}
			continue
		}
		found := slices.ContainsFunc(q[d.key], func(v string) bool {
			return strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), d.pragma)
		})
		if !found {
			extra.Add(d.key, d.value)
		}
	}
	out := sqliteDSN{dsn: dsn}
	if len(extra) > 0 {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		out.dsn = dsn + sep + extra.Encode()
	}
	path := strings.TrimPrefix(base, "file:")
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, ":memory:") || q.Get("mode") == "memory":
		out.memory = true
	default:
		if strings.HasPrefix(base, "file:") {
			// file: URIs percent-encode reserved characters in the path.
			if p, err := url.PathUnescape(path); err == nil {
				path = p
			}
		}
		out.path = path
	}
	return out, nil
}

// openSQLite opens the SQLite database described by cfg, creating the
// parent directory of a file database first (SQLite creates the file but
// not its directory, and the default DSN points into var/).
func openSQLite(cfg *Config) (*sql.DB, error) {
	registerSQLite()
	d, err := parseSQLiteDSN(cfg.DSN)
	if err != nil {
		return nil, err
	}
	if d.path != "" {
		if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
			return nil, fmt.Errorf("create sqlite directory: %w", err)
		}
	}
	db, err := sql.Open(dialect.SQLite, d.dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if d.memory {
		// One connection that is never recycled: closing it would drop
		// the in-memory database.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		return db, nil
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxIdleConns)
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	return db, nil
}
