package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/geo"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	gridbiz "github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/grid/gridtest"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	datagrid "github.com/cityops/cityops/app/platform/internal/data/grid"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func newGridService(t testing.TB, db *database.DB) (*GridService, map[string]*tenant.Tenant) {
	t.Helper()
	repo := datagrid.NewRepo(db.Ent)
	loc, stop := gridbiz.NewLocator(repo, gridbiz.Config{})
	t.Cleanup(stop)
	tenants := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	out := map[string]*tenant.Tenant{}
	for _, code := range []string{"450126", "450181"} {
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(viewer.SystemContext(context.Background(), "test"), &tenant.Tenant{
			Code: code, Slug: "t" + code, NameZH: code, Level: region.County, Path: code,
			Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai",
		})
		if err != nil {
			t.Fatal(err)
		}
		out[code] = tn
	}
	return NewGridService(tenants, gridbiz.NewUsecase(repo, db, loc, gridbiz.Config{}), loc), out
}

func actingIn(tn *tenant.Tenant, roles ...string) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 1,
		TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, Roles: roles})
}

func TestGridService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, tn := newGridService(t, db)
		terr := gridtest.Small("450126")
		admin := actingIn(tn["450126"], viewer.RoleTenantAdmin)
		rep, err := s.ImportGrids(admin, &registryv1.ImportGridsRequest{TenantCode: "450126", Geojson: terr.GeoJSON()})
		if err != nil || !rep.GetApplied() || rep.GetUnitGrids().GetCreated() != 20 || rep.GetTerritory() != "communities" || len(rep.GetGaps()) != 1 {
			t.Fatalf("import: %v %v", rep, err)
		}
		bad, err := s.ImportGrids(admin, &registryv1.ImportGridsRequest{TenantCode: "450126", Geojson: []byte(`{"type":"FeatureCollection","features":[{`)})
		if err != nil || bad.GetApplied() || len(bad.GetProblems()) == 0 || bad.GetProblems()[0].GetRule() != geo.CodeInvalidJSON {
			t.Fatalf("bad import: %v %v", bad, err)
		}

		sup := actingIn(tn["450126"], viewer.RoleSupervisor)
		wlon, wlat := terr.Center(4, 0)
		glon, glat := geo.WGS84ToGCJ02(wlon, wlat)
		loc, err := s.Locate(sup, &registryv1.LocateRequest{TenantCode: "450126", Lon: glon, Lat: glat, Crs: "GCJ02"})
		if err != nil || loc.GetUnitGridCode() != terr.Code(4, 0) || loc.GetDistrictCode() != "450126" ||
			len(loc.GetResponsibilityGrids()) != 1 || loc.GetResponsibilityGrids()[0].GetDepartmentCode() != "CGJ" {
			t.Fatalf("locate: %v %v", loc, err)
		}
		if _, err := s.Locate(sup, &registryv1.LocateRequest{TenantCode: "450126", Lon: 108.7, Lat: 23.2}); !registryv1.IsOutsideJurisdiction(err) {
			t.Fatalf("outside: %v", err)
		}

		// Maps out: the same list as GeoJSON.
		fc, err := s.ListUnitGrids(sup, &registryv1.ListUnitGridsRequest{TenantCode: "450126", Format: "geojson", CommunityCode: terr.CommunityCode(1)})
		if err != nil || len(fc.GetUnitGrids()) != 0 {
			t.Fatalf("geojson list: %v", err)
		}
		var parsed geo.FeatureCollection
		if err := json.Unmarshal([]byte(fc.GetGeojson()), &parsed); err != nil || len(parsed.Features) != 4 {
			t.Fatalf("geojson list is not a FeatureCollection of 4: %v", err)
		}
		typed, err := s.ListUnitGrids(sup, &registryv1.ListUnitGridsRequest{TenantCode: "450126", PageSize: 5, WithoutGeometry: true})
		if err != nil || len(typed.GetUnitGrids()) != 5 || typed.GetNextPageToken() == "" || typed.GetUnitGrids()[0].GetGeometry() != "" {
			t.Fatalf("typed list: %v %v", typed, err)
		}
		one, err := s.GetUnitGrid(sup, &registryv1.GetUnitGridRequest{TenantCode: "450126", Code: terr.Code(0, 0), AsOf: timestamppb.New(time.Now().Add(time.Hour))})
		if err != nil || one.GetUnitGrid().GetCode() != terr.Code(0, 0) || one.GetUnitGrid().GetValidTo() != nil {
			t.Fatalf("get: %v %v", one, err)
		}
		feat, err := s.GetUnitGrid(sup, &registryv1.GetUnitGridRequest{TenantCode: "450126", Code: terr.Code(0, 0), Format: "geojson"})
		if err != nil || !strings.HasPrefix(feat.GetGeojson(), `{"type":"Feature"`) {
			t.Fatalf("get geojson: %v %v", feat, err)
		}
		regs, err := s.ListRegions(sup, &registryv1.ListRegionsRequest{TenantCode: "450126", Level: "street"})
		if err != nil || len(regs.GetRegions()) != 2 {
			t.Fatalf("regions: %v %v", regs, err)
		}
		works, err := s.ListWorkGrids(sup, &registryv1.ListWorkGridsRequest{TenantCode: "450126", Format: "geojson"})
		if err != nil || strings.Count(works.GetGeojson(), `"type":"Feature"`) != 3 {
			t.Fatalf("work grids: %v %v", works, err)
		}
		cov, err := s.GetCoverage(sup, &registryv1.GetCoverageRequest{TenantCode: "450126"})
		if err != nil || cov.GetUnitGrids() != 20 || len(cov.GetGaps()) != 1 || cov.GetCoveredAreaM2() >= cov.GetTerritoryAreaM2() {
			t.Fatalf("coverage: %v %v", cov, err)
		}

		// Tenant isolation: 横州市's user asks about 宾阳县.
		other := actingIn(tn["450181"], viewer.RoleSupervisor)
		if _, err := s.Locate(other, &registryv1.LocateRequest{TenantCode: "450126", Lon: wlon, Lat: wlat}); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("locate in another tenant: %v", err)
		}
		if _, err := s.GetUnitGrid(other, &registryv1.GetUnitGridRequest{TenantCode: "450181", Code: terr.Code(0, 0)}); !registryv1.IsGridNotFound(err) {
			t.Fatalf("another tenant's grid code: %v", err)
		}
		if _, err := s.ListUnitGrids(other, &registryv1.ListUnitGridsRequest{TenantCode: "450126"}); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("list in another tenant: %v", err)
		}
	})
}

func TestGridRequestsValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  interface{ Validate() error }
		ok   bool
	}{
		{"locate", &registryv1.LocateRequest{TenantCode: "450126", Lon: 108.8, Lat: 23.2, Crs: "GCJ02"}, true},
		{"locate bad crs", &registryv1.LocateRequest{TenantCode: "450126", Lon: 108.8, Lat: 23.2, Crs: "BD09"}, false},
		{"locate bad lat", &registryv1.LocateRequest{TenantCode: "450126", Lon: 108.8, Lat: 123.2}, false},
		{"import empty", &registryv1.ImportGridsRequest{TenantCode: "450126"}, false},
		{"import bad tenant", &registryv1.ImportGridsRequest{TenantCode: "x", Geojson: []byte("{}")}, false},
		{"get 14 digits", &registryv1.GetUnitGridRequest{TenantCode: "450126", Code: "45012600100100"}, false},
		{"list bad format", &registryv1.ListUnitGridsRequest{TenantCode: "450126", Format: "kml"}, false},
		{"list geojson page", &registryv1.ListUnitGridsRequest{TenantCode: "450126", Format: "geojson", PageSize: 32000}, true},
	}
	for _, c := range cases {
		if err := c.req.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// BenchmarkLocateService measures Locate end to end through the service and
// the biz Locator over a 60 × 60 lattice (3,600 unit grids, 6 communities).
func BenchmarkLocateService(b *testing.B) {
	db := testdb.SQLite(b)
	s, tn := newGridService(b, db)
	terr := gridtest.Lattice("450126", 60, 60)
	// As behind the server: the tenant middleware has resolved the tenant.
	ctx := tenant.NewContext(actingIn(tn["450126"], viewer.RoleSupervisor), tn["450126"])
	rep, err := s.ImportGrids(actingIn(tn["450126"], viewer.RoleTenantAdmin), &registryv1.ImportGridsRequest{TenantCode: "450126", Geojson: terr.GeoJSON()})
	if err != nil || !rep.GetApplied() || rep.GetUnitGrids().GetCreated() != 3600 {
		b.Fatalf("import: %v %v", rep.GetProblems(), err)
	}
	reqs := make([]*registryv1.LocateRequest, 0, 1024)
	for i := range 1024 {
		lon, lat := terr.Center((i*7)%60, (i*13)%60)
		reqs = append(reqs, &registryv1.LocateRequest{TenantCode: "450126", Lon: lon, Lat: lat})
	}
	// Warm the index (built on first use) outside the timing.
	if _, err := s.Locate(ctx, reqs[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Locate(ctx, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
	}
}
