package database

import (
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// ScopedDriver returns the scoping driver ent uses on db's pool, for tests
// that run raw statements through it and read the settings back.
func ScopedDriver(db *DB) dialect.Driver {
	return newScopedDriver(entsql.OpenDB(db.Dialect, db.SQL))
}

// SetScopeSQL is the statement that applies a scope.
const SetScopeSQL = setScopeSQL
