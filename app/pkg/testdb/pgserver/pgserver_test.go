package pgserver_test

import (
	"strings"
	"testing"

	"github.com/cityops/cityops/app/pkg/testdb/pgserver"
)

func TestConnectUnreachableExplainsWhatToDo(t *testing.T) {
	t.Parallel()
	_, err := pgserver.Connect(t.Context(), "postgres://cityops:secret@127.0.0.1:1/postgres?sslmode=disable")
	if err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "deploy/dev/ensure-postgres.sh") || !strings.Contains(msg, pgserver.EnvDSN) {
		t.Errorf("error does not tell how to start a server: %v", err)
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestConnectRejectsKeyValueDSN(t *testing.T) {
	t.Parallel()
	if _, err := pgserver.Connect(t.Context(), "host=127.0.0.1 user=cityops"); err == nil {
		t.Error("Connect accepted a key=value DSN it cannot derive database DSNs from")
	}
}

func TestCreateAndDropDatabases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, err := pgserver.Connect(ctx, pgserver.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	prefix := pgserver.RandomName("cityops_pgserver_test")
	for _, suffix := range []string{"_a", "_b"} {
		dsn, err := srv.CreateDatabase(ctx, prefix+suffix, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(dsn, "/"+prefix+suffix+"?") {
			t.Errorf("DSN %s does not name database %s", dsn, prefix+suffix)
		}
	}
	n, err := srv.DropDatabasesWithPrefix(ctx, prefix)
	if err != nil || n != 2 {
		t.Errorf("DropDatabasesWithPrefix = %d, %v; want 2, nil", n, err)
	}
	if err := srv.DropDatabase(ctx, prefix+"_a"); err != nil {
		t.Errorf("DropDatabase of a missing database: %v", err)
	}
}

func TestRandomNameIsAnIdentifier(t *testing.T) {
	t.Parallel()
	a, b := pgserver.RandomName("x"), pgserver.RandomName("x")
	if a == b || len(a) != len("x_")+12 || strings.ToLower(a) != a {
		t.Errorf("RandomName = %q, %q", a, b)
	}
}
