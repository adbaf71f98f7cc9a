package database_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
)

// BenchmarkTenantScopedQuery measures what the row-level security scope
// costs a simple ent query by id (Department.Get by a tenant's viewer) on
// PostgreSQL over TCP:
//
//   - raw: ent directly on the owner's pool, no scoping driver (the owner
//     is a superuser on the dev server, so row-level security is skipped):
//     one round trip.
//   - scoped: the production client as the application role: a short
//     transaction BEGIN, set_config, the query, COMMIT.
//   - scoped_in_tx: the same query inside an open InTx whose scope is
//     already applied: what each further statement of a use case pays.
func BenchmarkTenantScopedQuery(b *testing.B) {
	app, owner := testdb.PostgresDSNs(b)
	ctx := context.Background()
	appDB, closeApp, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: app, MaxOpenConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeApp)
	ownerDB, closeOwner, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: owner, MaxOpenConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeOwner)
	raw := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, ownerDB.SQL)))

	sys := viewer.SystemContext(ctx, "benchmark")
	county, err := newTenant(appDB.Ent, "450126").Save(sys)
	if err != nil {
		b.Fatal(err)
	}
	dep, err := appDB.Ent.Department.Create().SetTenant(county).SetCode("cgj").SetNameZh("城管局").
		SetKind(department.KindGovernment).Save(sys)
	if err != nil {
		b.Fatal(err)
	}
	vctx := viewerCtx(ctx, county.ID)

	get := func(b *testing.B, ctx context.Context, c *ent.Client) {
		b.Helper()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Department.Get(ctx, dep.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) { get(b, vctx, raw) })
	b.Run("scoped", func(b *testing.B) { get(b, vctx, appDB.Ent) })
	b.Run("scoped_in_tx", func(b *testing.B) {
		err := appDB.InTx(vctx, func(ctx context.Context) error {
			get(b, ctx, appDB.Client(ctx))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}
