package grid_test

import (
	"context"
	"testing"
	"time"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	data "github.com/cityops/cityops/app/platform/internal/data/grid"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestVersionsRevisionAndScope(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sys := viewer.SystemContext(context.Background(), "test")
		var ids []int
		for _, code := range []string{"450126", "450181"} {
			tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: code, Slug: "t" + code, NameZH: code,
				Level: region.County, Path: code, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tn.ID)
		}
		a, b := ids[0], ids[1]
		ctxA := viewer.TenantContext(context.Background(), a, "450126", "450126")
		ctxB := viewer.TenantContext(context.Background(), b, "450181", "450181")
		r := data.NewRepo(db.Ent)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		t1 := t0.Add(time.Hour)
		g := &biz.UnitGrid{Code: "450126001001001", CommunityCode: "450126001001", StreetCode: "450126001",
			Geometry: `{"type":"Polygon","coordinates":[]}`, BBox: biz.BBox{MinLon: 108, MinLat: 23, MaxLon: 108.001, MaxLat: 23.001},
			AreaM2: 10000, ValidFrom: t0}
		if err := r.CreateUnitGrids(ctxA, a, []*biz.UnitGrid{g}); err != nil {
			t.Fatal(err)
		}
		if n, err := r.CloseUnitGrids(ctxA, a, []string{g.Code}, t1); err != nil || n != 1 {
			t.Fatalf("close: %d %v", n, err)
		}
		g2 := *g
		g2.AreaClass, g2.ValidFrom = "A", t1
		if err := r.CreateUnitGrids(ctxA, a, []*biz.UnitGrid{&g2}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			at    *time.Time
			class string
		}{
			{"current", nil, "A"},
			{"before the change", ptr(t0.Add(time.Minute)), ""},
			{"at the change", ptr(t1), "A"},
		}
		for _, c := range cases {
			got, err := r.UnitGridAt(ctxA, a, g.Code, c.at)
			if err != nil || got.AreaClass != c.class {
				t.Errorf("%s: %+v %v", c.name, got, err)
			}
		}
		if _, err := r.UnitGridAt(ctxA, a, g.Code, ptr(t0.Add(-time.Second))); !registryv1.IsGridNotFound(err) {
			t.Fatalf("before the first version: %v", err)
		}
		// Another tenant's viewer sees none of it, even naming A's id.
		if rows, err := r.ListUnitGrids(ctxB, a, biz.UnitGridFilter{}); err != nil || len(rows) != 0 {
			t.Fatalf("B sees A's grids: %d %v", len(rows), err)
		}
		if _, err := r.UnitGridAt(ctxB, a, g.Code, nil); !registryv1.IsGridNotFound(err) {
			t.Fatalf("B reads A's grid: %v", err)
		}
		rows, err := r.ListUnitGrids(ctxA, a, biz.UnitGridFilter{BBox: &biz.BBox{MinLon: 108.0005, MinLat: 23.0005, MaxLon: 109, MaxLat: 24}, WithoutGeometry: true})
		if err != nil || len(rows) != 1 || rows[0].Geometry != "" {
			t.Fatalf("bbox listing: %+v %v", rows, err)
		}
		for want := int64(1); want <= 2; want++ {
			if err := r.LockRevision(ctxA, a, t1); err != nil {
				t.Fatal(err)
			}
			rev, err := r.BumpRevision(ctxA, a, t1)
			if err != nil || rev != want {
				t.Fatalf("bump: %d %v, want %d", rev, err, want)
			}
		}
		if rev, err := r.Revision(ctxB, b); err != nil || rev != 0 {
			t.Fatalf("B's revision: %d %v", rev, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
