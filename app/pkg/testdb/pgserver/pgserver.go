// Package pgserver finds the PostgreSQL server used by tests and developer
// tools and creates and drops scratch databases on it. It is separate from
// package testdb so that tools (app/tools/migrationgen) can use it without
// importing the testing package or the embedded migrations.
package pgserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvDSN names the environment variable holding the admin DSN of the test
// server. The role needs CREATEDB (the dev script makes it a superuser).
const EnvDSN = "CITYOPS_TEST_PG_DSN"

// DefaultDSN is the admin DSN used when EnvDSN is unset: the server that
// deploy/dev/ensure-postgres.sh starts.
const DefaultDSN = "postgres://cityops:cityops@127.0.0.1:5432/postgres?sslmode=disable"

// AppRole and AppPassword are the login of the application role on the
// test server: no superuser, no BYPASSRLS, so PostgreSQL row-level security
// applies to it as in production. deploy/dev/ensure-postgres.sh creates it;
// EnsureAppRole creates it on other servers. Test-only credentials.
const (
	AppRole     = "cityops_app"
	AppPassword = "cityops_app"
)

// Hint tells a developer how to get a server; it ends every connection error.
const Hint = "start one with deploy/dev/ensure-postgres.sh (or make test), or set " + EnvDSN + " to an admin DSN of a reachable server"

// AdminDSN returns the admin DSN from EnvDSN, or DefaultDSN.
func AdminDSN() string {
	if v := strings.TrimSpace(os.Getenv(EnvDSN)); v != "" {
		return v
	}
	return DefaultDSN
}

// Server is a connection to the admin database of a PostgreSQL server.
type Server struct {
	admin *sql.DB
	base  *url.URL
}

// Connect opens the admin DSN (a postgres:// URL, so that DSNs of other
// databases on the same server can be derived from it) and checks within
// a few seconds that the server answers.
func Connect(ctx context.Context, adminDSN string) (*Server, error) {
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("pgserver connect: admin DSN must be a postgres:// URL (%s)", EnvDSN)
	}
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return nil, fmt.Errorf("pgserver connect: %w", err)
	}
	admin.SetMaxOpenConns(4)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pingCtx); err != nil {
		return nil, errors.Join(
			fmt.Errorf("pgserver connect: PostgreSQL at %s is not reachable: %w; %s", u.Redacted(), err, Hint),
			admin.Close(),
		)
	}
	return &Server{admin: admin, base: u}, nil
}

// DSN returns the DSN of database name on this server, with the admin
// DSN's credentials and parameters.
func (s *Server) DSN(name string) string {
	u := *s.base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// DSNAs returns the DSN of database name on this server, logging in as
// user with password instead of the admin role.
func (s *Server) DSNAs(name, user, password string) string {
	u := *s.base
	u.Path = "/" + name
	u.RawPath = ""
	u.User = url.UserPassword(user, password)
	return u.String()
}

// EnsureAppRole creates AppRole unless it exists. An existing role is left
// as it is (a server may hold it with another password on purpose); the
// caller's grants check its attributes. Concurrent test binaries may race
// here, hence the exception handler rather than a check first.
func (s *Server) EnsureAppRole(ctx context.Context) error {
	q := `DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + AppRole + `') THEN
		CREATE ROLE ` + quote(AppRole) + ` LOGIN PASSWORD '` + AppPassword + `' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
	END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
	NULL; -- another process created it meanwhile
END
$$`
	if _, err := s.admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("pgserver ensure role %s: %w; %s", AppRole, err, Hint)
	}
	return nil
}

// CreateDatabase creates database name, copied from template when template
// is not empty, and returns its DSN. PostgreSQL refuses to copy a template
// that has other sessions or a concurrent copy in progress; callers that
// copy one template concurrently must serialize their calls.
func (s *Server) CreateDatabase(ctx context.Context, name, template string) (string, error) {
	q := "CREATE DATABASE " + quote(name)
	if template != "" {
		q += " TEMPLATE " + quote(template)
	}
	if _, err := s.admin.ExecContext(ctx, q); err != nil {
		return "", fmt.Errorf("pgserver create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// DisallowConnections marks database name as not accepting connections,
// which protects a template from stray sessions that would make every
// later copy fail.
func (s *Server) DisallowConnections(ctx context.Context, name string) error {
	if _, err := s.admin.ExecContext(ctx, "ALTER DATABASE "+quote(name)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("pgserver disallow connections %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name if it exists, terminating its sessions
// (WITH (FORCE), PostgreSQL 13+) so a leaked connection cannot keep test
// databases around.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quote(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgserver drop database %s: %w", name, err)
	}
	return nil
}

// DropDatabasesWithPrefix drops every database whose name starts with
// prefix and returns how many it dropped. It cleans up after a test binary
// whose individual cleanups did not run (a panic, a killed test).
func (s *Server) DropDatabasesWithPrefix(ctx context.Context, prefix string) (int, error) {
	if prefix == "" {
		return 0, errors.New("pgserver drop databases: empty prefix")
	}
	// left() rather than LIKE: prefixes contain '_', a LIKE wildcard.
	rows, err := s.admin.QueryContext(ctx,
		"SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1", prefix)
	if err != nil {
		return 0, fmt.Errorf("pgserver list databases %s*: %w", prefix, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return 0, errors.Join(fmt.Errorf("pgserver list databases %s*: %w", prefix, err), rows.Close())
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("pgserver list databases %s*: %w", prefix, err)
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, s.DropDatabase(ctx, n))
	}
	return len(names), errors.Join(errs...)
}

// Close closes the admin connection pool.
func (s *Server) Close() error {
	if err := s.admin.Close(); err != nil {
		return fmt.Errorf("pgserver close: %w", err)
	}
	return nil
}

// RandomName returns prefix followed by "_" and 12 random lowercase hex
// digits: unique across concurrent test binaries and tool runs sharing a
// server, and a valid unquoted identifier when prefix is one.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + "_" + hex.EncodeToString(b[:])
}

// quote quotes a database name as an SQL identifier.
func quote(name string) string {
	return pgx.Identifier{name}.Sanitize()
}
