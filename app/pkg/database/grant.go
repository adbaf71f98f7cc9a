package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cityops/cityops/ent/migrations"
)

// GrantApp gives the application's PostgreSQL role what it needs on a
// migrated database, and no more: read and write every table and use every
// sequence of the current schema, append to the audit trail but never
// update, delete or truncate it, and only read the migration versions (for
// the readiness check). Default privileges extend the grants to tables the
// owner creates later; calling GrantApp again after each migration (cityctl
// migrate -grant-app, testdb) re-applies the exceptions to them.
//
// owner must be connected as the role that owns the tables and runs the
// migrations; the grants cannot live in a migration because the role name
// differs between deployments. GrantApp refuses a role that would make
// row-level security moot: the owner itself, a superuser, or a role with
// BYPASSRLS. It is idempotent and runs in one transaction.
func GrantApp(ctx context.Context, owner *sql.DB, role string) (err error) {
	if role == "" {
		return errors.New("database grant app: empty role")
	}
	tx, err := owner.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("database grant app: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("database grant app %s: %w", role, err)
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, rerr)
			}
		}
	}()

	var (
		schema, current   string
		super, bypass, ok bool
	)
	if err := tx.QueryRowContext(ctx, "SELECT current_schema(), current_user").Scan(&schema, &current); err != nil {
		return err
	}
	if role == current {
		return fmt.Errorf("the application role must not be the owner %s (row-level security binds the owner only by FORCE, and the owner can change the policies)", current)
	}
	switch err := tx.QueryRowContext(ctx,
		"SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", role).Scan(&super, &bypass); {
	case errors.Is(err, sql.ErrNoRows):
		return errors.New("role does not exist (deploy/dev/ensure-postgres.sh creates cityops_app on a dev server)")
	case err != nil:
		return err
	}
	if super || bypass {
		return fmt.Errorf("role is SUPERUSER or BYPASSRLS (super=%t bypassrls=%t); row-level security would not apply to it", super, bypass)
	}
	if err := tx.QueryRowContext(ctx,
		"SELECT to_regclass('audit_entries') IS NOT NULL AND to_regclass($1) IS NOT NULL", migrations.VersionTable).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return errors.New("the database is not migrated; apply the migrations first")
	}

	r, s := pgx.Identifier{role}.Sanitize(), pgx.Identifier{schema}.Sanitize()
	stmts := []string{
		"GRANT USAGE ON SCHEMA " + s + " TO " + r,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + s + " TO " + r,
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + s + " TO " + r,
		// For tables and sequences the owner (current_user) creates later.
		"ALTER DEFAULT PRIVILEGES IN SCHEMA " + s + " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + r,
		"ALTER DEFAULT PRIVILEGES IN SCHEMA " + s + " GRANT USAGE, SELECT ON SEQUENCES TO " + r,
		// The audit trail is append-only (the trigger of the row-level
		// security migration refuses these for everyone; this refuses
		// them before they reach it).
		"REVOKE UPDATE, DELETE, TRUNCATE ON " + s + ".audit_entries FROM " + r,
		// Migrations are the owner's business.
		"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON " + s + "." + pgx.Identifier{migrations.VersionTable}.Sanitize() + " FROM " + r,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return tx.Commit()
}
