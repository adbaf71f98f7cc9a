package database

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{
			name: "zero value is the embedded SQLite file",
			want: Config{Driver: DriverSQLite, DSN: DefaultSQLiteDSN, MaxOpenConns: 8, MaxIdleConns: 8},
		},
		{
			name: "postgres",
			in:   Config{Driver: DriverPostgres, DSN: "postgres://x"},
			want: Config{Driver: DriverPostgres, DSN: "postgres://x", MaxOpenConns: 20, MaxIdleConns: 20, ConnMaxLifetime: 30 * time.Minute},
		},
		{
			name: "explicit values win",
			in:   Config{Driver: DriverPostgres, DSN: "postgres://x", MaxOpenConns: 5, MaxIdleConns: 2, ConnMaxLifetime: time.Minute},
			want: Config{Driver: DriverPostgres, DSN: "postgres://x", MaxOpenConns: 5, MaxIdleConns: 2, ConnMaxLifetime: time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in
			got.setDefaults()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("setDefaults() mismatch (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate() after setDefaults = %v", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; empty means valid
	}{
		{name: "valid", cfg: Config{Driver: DriverSQLite, DSN: "file:x.db"}},
		{name: "unknown driver", cfg: Config{Driver: "mysql", DSN: "x"}, wantErr: `driver "mysql"`},
		{name: "postgres needs a dsn", cfg: Config{Driver: DriverPostgres}, wantErr: "dsn is empty"},
		{name: "negative pool", cfg: Config{Driver: DriverSQLite, DSN: "x", MaxOpenConns: -1}, wantErr: "max open conns -1"},
		{name: "idle above open", cfg: Config{Driver: DriverSQLite, DSN: "x", MaxOpenConns: 2, MaxIdleConns: 3}, wantErr: "exceeds max open"},
		{name: "negative lifetime", cfg: Config{Driver: DriverSQLite, DSN: "x", ConnMaxLifetime: -time.Second}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSQLiteDSN(t *testing.T) {
	t.Parallel()
	const all = "_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29&_pragma=busy_timeout%285000%29&_time_format=sqlite&_txlock=immediate"
	tests := []struct {
		dsn  string
		want sqliteDSN
	}{
		{
			dsn:  "file:var/cityops.db",
			want: sqliteDSN{dsn: "file:var/cityops.db?" + all, path: "var/cityops.db"},
		},
		{
			dsn:  DefaultSQLiteDSN,
			want: sqliteDSN{dsn: DefaultSQLiteDSN, path: "var/cityops.db"},
		},
		{
			// An operator's choice is kept; only what is missing is added.
			dsn:  "file:/data/a%20b.db?_pragma=journal_mode(DELETE)&_txlock=deferred",
			want: sqliteDSN{dsn: "file:/data/a%20b.db?_pragma=journal_mode(DELETE)&_txlock=deferred&_pragma=foreign_keys%281%29&_pragma=busy_timeout%285000%29&_time_format=sqlite", path: "/data/a b.db"},
		},
		{
			dsn:  ":memory:",
			want: sqliteDSN{dsn: ":memory:?" + all, memory: true},
		},
		{
			dsn:  "file:mem1?mode=memory&cache=shared",
			want: sqliteDSN{dsn: "file:mem1?mode=memory&cache=shared&" + all, memory: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			t.Parallel()
			got, err := parseSQLiteDSN(tt.dsn)
			if err != nil {
				t.Fatalf("parseSQLiteDSN: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(sqliteDSN{})); diff != "" {
				t.Errorf("parseSQLiteDSN(%q) mismatch (-want +got):\n%s", tt.dsn, diff)
			}
		})
	}
}
