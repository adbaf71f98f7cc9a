package component_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	data "github.com/cityops/cityops/app/platform/internal/data/component"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// binyang creates 宾阳县 and returns a context of its administrator.
func binyang(t *testing.T, db *database.DB) (context.Context, int) {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: "450126", Slug: "binyang", NameZH: "宾阳县",
		Level: region.County, Path: "450126", Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
	if err != nil {
		t.Fatal(err)
	}
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: 1, TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path,
		HomeTenantID: tn.ID, HomeTenantCode: tn.Code, Roles: []string{viewer.RoleTenantAdmin},
	}), tn.ID
}

// part is the i-th test component; every attribute is set, and the text
// ones vary from row to row.
func part(i int, note string) *biz.Component {
	c := &biz.Component{
		ObjID: fmt.Sprintf("45012601010%06d", i), Scheme: biz.SchemeLegacy, ClassCode: "0101", Name: fmt.Sprintf("井盖%d", i),
		MainDeptCode: fmt.Sprintf("m%d", i), MainDeptName: "宾阳县住建局", OwnerCode: fmt.Sprintf("o%d", i), OwnerName: "权属",
		MaintainerCode: fmt.Sprintf("y%d", i), MaintainerName: "养护", GridCode: fmt.Sprintf("450126001001%03d", i%1000),
		StreetCode: "450126001", CommunityCode: "450126001001", Status: biz.StatusGood, InitialDate: "20230501",
		ChangeDate: "20240101", DataSource: "实测", Note: note, Lon: 108.8 + float64(i)*1e-7, Lat: 23.2 - float64(i)*1e-7,
		Geometry: fmt.Sprintf(`{"type":"LineString","coordinates":[[108.8,23.2],[108.8,23.%d]]}`, i+1),
	}
	c.RowHash = biz.RowHash(c)
	return c
}

// TestUpsert covers both ways the PostgreSQL upsert writes a batch (the
// plain insert that a stored row turns into an upsert, and the upsert
// straight away), a batch whose columns all repeat, and that what is
// stored reads back the same.
func TestUpsert(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx, tenantID := binyang(t, db)
		repo := data.NewRepo(db)
		upsert := func(rows []*biz.Component, likelyNew bool) string {
			t.Helper()
			var res biz.UpsertResult
			err := db.InTx(ctx, func(ctx context.Context) (err error) {
				res, err = repo.Upsert(ctx, tenantID, rows, likelyNew)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("ins=%d upd=%d same=%d", res.Inserted, res.Updated, res.Unchanged)
		}
		want := map[string]*biz.Component{}
		batch := func(rows ...*biz.Component) []*biz.Component {
			for _, c := range rows {
				want[c.ObjID] = c
			}
			return rows
		}

		if got := upsert(batch(part(1, ""), part(2, ""), part(3, "")), true); got != "ins=3 upd=0 same=0" {
			t.Fatalf("new rows: %s", got)
		}
		// Stored, changed, new: the plain insert fails on part 1 and the
		// batch is upserted within the same transaction.
		mixed := batch(part(4, ""), part(1, ""), part(2, "已更换"), part(5, ""), part(3, ""))
		if got := upsert(mixed, true); got != "ins=2 upd=1 same=2" {
			t.Fatalf("mixed batch, likely new: %s", got)
		}
		if got := upsert(mixed, false); got != "ins=0 upd=0 same=5" {
			t.Fatalf("same batch again: %s", got)
		}
		// A single row, and rows equal but for the id: every column but
		// obj_id goes once, as a scalar.
		if got := upsert(batch(part(6, "")), true); got != "ins=1 upd=0 same=0" {
			t.Fatalf("one row: %s", got)
		}
		twins := []*biz.Component{part(7, "孪生"), part(8, "孪生")}
		twins[1].Name, twins[1].MainDeptCode, twins[1].OwnerCode, twins[1].MaintainerCode = twins[0].Name, twins[0].MainDeptCode, twins[0].OwnerCode, twins[0].MaintainerCode
		twins[1].GridCode, twins[1].Lon, twins[1].Lat, twins[1].Geometry = twins[0].GridCode, twins[0].Lon, twins[0].Lat, twins[0].Geometry
		twins[1].RowHash = twins[0].RowHash // unrealistic, and allowed
		if got := upsert(batch(twins...), false); got != "ins=2 upd=0 same=0" {
			t.Fatalf("twins: %s", got)
		}

		for id, w := range want {
			got, err := repo.Get(ctx, tenantID, id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, got, cmpopts.IgnoreFields(biz.Component{}, "ID", "CreatedAt", "UpdatedAt")); diff != "" {
				t.Errorf("%s (-want +got):\n%s", id, diff)
			}
		}
	})
}

// TestBatchLocker checks the locks that order the batches of an import on
// PostgreSQL: AwaitBatch returns once the holder's transaction ended.
func TestBatchLocker(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx, _ := binyang(t, db)
		locker, ok := data.NewJobRepo(db).(biz.BatchLocker)
		if ok != (db.Dialect == "postgres") {
			t.Fatalf("%s: BatchLocker %v", db.Dialect, ok)
		}
		if !ok {
			return
		}
		held, release, awaited := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			_ = db.InTx(ctx, func(ctx context.Context) error {
				if err := locker.HoldBatch(ctx, 7, 1); err != nil {
					t.Error(err)
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		go func() {
			awaited <- db.InTx(ctx, func(ctx context.Context) error { return locker.AwaitBatch(ctx, 7, 1) })
		}()
		select {
		case err := <-awaited:
			t.Fatalf("AwaitBatch returned while the batch was held: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		if err := <-awaited; err != nil {
			t.Fatal(err)
		}
		// A batch nobody holds is no wait.
		if err := db.InTx(ctx, func(ctx context.Context) error { return locker.AwaitBatch(ctx, 7, 2) }); err != nil {
			t.Fatal(err)
		}
	})
}
