package grid_test

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/google/go-cmp/cmp"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/geo"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/grid/gridtest"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	datagrid "github.com/cityops/cityops/app/platform/internal/data/grid"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func sys() context.Context { return viewer.SystemContext(context.Background(), "test") }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	db      *database.DB
	uc      *grid.Usecase
	loc     *grid.Locator
	clock   *clock
	binyang *tenant.Tenant
	heng    *tenant.Tenant
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	ck := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	cfg := grid.Config{Clock: ck.now, PollInterval: 50 * time.Millisecond}
	repo := datagrid.NewRepo(db.Ent)
	loc, stop := grid.NewLocator(repo, cfg)
	t.Cleanup(stop)
	e := &env{db: db, uc: grid.NewUsecase(repo, db, loc, cfg), loc: loc, clock: ck}
	tr := datatenant.NewTenantRepo(db.Ent)
	for _, tn := range []*tenant.Tenant{
		{Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, Path: "450126"},
		{Code: "450181", Slug: "hengzhou", NameZH: "横州市", Level: region.County, Path: "450181"},
	} {
		tn.Status, tn.Isolation, tn.TimeZone = tenant.StatusActive, tenant.IsolationShared, "Asia/Shanghai"
		created, err := tr.Create(sys(), tn)
		if err != nil {
			t.Fatal(err)
		}
		if created.Code == "450126" {
			e.binyang = created
		} else {
			e.heng = created
		}
	}
	return e
}

// as acts as a user of tn.
func as(tn *tenant.Tenant, roles ...string) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 7,
		TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, HomeTenantID: tn.ID, HomeTenantCode: tn.Code, Roles: roles})
}

func (e *env) importFile(t *testing.T, ctx context.Context, tn *tenant.Tenant, data []byte, replace bool) *grid.ImportReport {
	t.Helper()
	rep, err := e.uc.Import(ctx, grid.ImportInput{Tenant: tn, Source: bytes.NewReader(data), Replace: replace})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustApply(t *testing.T, rep *grid.ImportReport) {
	t.Helper()
	if !rep.Applied || len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			t.Error(p.Localize("en"))
		}
		t.Fatalf("import not applied")
	}
}

func reason(err error) string { return kerrors.FromError(err).Reason }

func TestImportAndLocate(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		terr := gridtest.Small("450126")
		ctx := as(e.binyang, viewer.RoleTenantAdmin)
		rep := e.importFile(t, ctx, e.binyang, terr.GeoJSON(), false)
		mustApply(t, rep)
		want := grid.ImportReport{Features: 28, Applied: true, Revision: 1,
			UnitGrids: grid.Counts{Created: 20}, Regions: grid.Counts{Created: 5}, WorkGrids: grid.Counts{Created: 3}}
		got := *rep
		got.Coverage = nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("report (-want +got):\n%s", diff)
		}
		// The communities are the territory; the donut's hole is the gap.
		cov := rep.Coverage
		holeSide := terr.Step * terr.HoleFrac
		if cov == nil || cov.Territory != grid.TerritoryCommunities || len(cov.Gaps) != 1 || len(cov.Overlaps) != 0 {
			t.Fatalf("coverage %+v", cov)
		}
		hlon, hlat := terr.HoleCenter()
		if g := cov.Gaps[0]; !(g.BBox.MinLon < hlon && hlon < g.BBox.MaxLon && g.BBox.MinLat < hlat && hlat < g.BBox.MaxLat) {
			t.Fatalf("gap %+v is not around the hole", g)
		}
		approx := holeSide * 111320 * math.Cos(hlat*math.Pi/180) * holeSide * 110750
		if g := cov.Gaps[0]; math.Abs(g.AreaM2-approx)/approx > 0.02 {
			t.Fatalf("gap area %.1f m², want about %.1f", g.AreaM2, approx)
		}

		// Inside every grid: the grid, its community, street, class, and
		// the work grids covering it.
		for col := 0; col < terr.Cols; col++ {
			for row := 0; row < terr.Rows; row++ {
				if col == terr.DonutCol && row == terr.DonutRow {
					continue // its centre is the hole
				}
				lon, lat := terr.Center(col, row)
				loc, err := e.loc.Locate(ctx, e.binyang.ID, lon, lat)
				if err != nil {
					t.Fatalf("cell %d,%d: %v", col, row, err)
				}
				code := terr.Code(col, row)
				if loc.UnitGridCode != code || loc.CommunityCode != code[:12] || loc.StreetCode != code[:9] ||
					loc.DistrictCode != "450126" || loc.Revision != 1 {
					t.Fatalf("cell %d,%d: %+v, want %s", col, row, loc, code)
				}
				wantClass := "A"
				if row == 0 {
					wantClass = "B"
				}
				var wantPatrol []string
				var wantResp []grid.ResponsibilityRef
				switch {
				case col < 2:
					wantPatrol = []string{"P01"}
				case col == 2:
					wantPatrol = []string{"P02"}
				default:
					wantPatrol = []string{"P02"}
					wantResp = []grid.ResponsibilityRef{{Code: "R01", DepartmentCode: "CGJ"}}
				}
				if loc.AreaClass != wantClass || !slices.Equal(loc.PatrolGrids, wantPatrol) || !cmp.Equal(loc.ResponsibilityGrids, wantResp) {
					t.Fatalf("cell %d,%d: class %q patrol %v resp %v", col, row, loc.AreaClass, loc.PatrolGrids, loc.ResponsibilityGrids)
				}
			}
		}
		nlon, nlat := terr.Center(0, 3)
		loc, err := e.loc.Locate(ctx, e.binyang.ID, nlon, nlat)
		if err != nil || loc.CommunityName != "第1社区" || loc.StreetName != "第1街道" {
			t.Fatalf("names: %+v %v", loc, err)
		}

		// On the shared edge of two grids: the smaller code, every time.
		elon, _ := terr.Corner(1, 0)
		_, elat := terr.Center(1, 0)
		for range 3 {
			loc, err := e.loc.Locate(ctx, e.binyang.ID, elon, elat)
			if err != nil || loc.UnitGridCode != min(terr.Code(0, 0), terr.Code(1, 0)) {
				t.Fatalf("shared edge: %+v %v", loc, err)
			}
		}

		// In the hole: outside, and the donut is the nearest grid.
		_, err = e.loc.Locate(ctx, e.binyang.ID, hlon, hlat)
		md := kerrors.FromError(err).Metadata
		wantDist := holeSide / 2 * 110750
		if !registryv1.IsOutsideJurisdiction(err) || md["nearest"] != terr.Code(terr.DonutCol, terr.DonutRow) {
			t.Fatalf("hole: %v %v", err, md)
		}
		if d, _ := strconv.ParseFloat(md["distance_m"], 64); math.Abs(d-wantDist) > 2 {
			t.Fatalf("hole distance %s m, want about %.1f", md["distance_m"], wantDist)
		}
		// West of the county: the nearest grid is the one across the border.
		_, lat := terr.Center(0, 2)
		_, err = e.loc.Locate(ctx, e.binyang.ID, terr.Lon0-0.002, lat)
		md = kerrors.FromError(err).Metadata
		if !registryv1.IsOutsideJurisdiction(err) || md["nearest"] != terr.Code(0, 2) || md["lon"] == "" || md["lat"] == "" {
			t.Fatalf("outside: %v %v", err, md)
		}
		if d, _ := strconv.ParseFloat(md["distance_m"], 64); math.Abs(d-0.002*111320*math.Cos(lat*math.Pi/180)) > 2 {
			t.Fatalf("outside distance %s", md["distance_m"])
		}

		// GCJ-02 input lands in the same grid as its WGS84 original.
		for _, cell := range [][2]int{{0, 0}, {2, 3}, {4, 2}} {
			wlon, wlat := terr.Center(cell[0], cell[1])
			glon, glat := geo.WGS84ToGCJ02(wlon, wlat)
			if math.Abs(glon-wlon) < 1e-4 {
				t.Fatalf("GCJ-02 did not shift the point")
			}
			loc, err := e.loc.LocateCRS(ctx, e.binyang.ID, glon, glat, "GCJ02")
			if err != nil || loc.UnitGridCode != terr.Code(cell[0], cell[1]) || math.Abs(loc.Lon-wlon) > 1e-7 {
				t.Fatalf("GCJ-02 %v: %+v %v", cell, loc, err)
			}
			// Read as WGS84 the same numbers fall hundreds of metres away.
			if loc, err := e.loc.Locate(ctx, e.binyang.ID, glon, glat); err == nil && loc.UnitGridCode == terr.Code(cell[0], cell[1]) {
				t.Fatalf("uncorrected GCJ-02 point still in %s", loc.UnitGridCode)
			}
		}
		if _, err := e.loc.LocateCRS(ctx, e.binyang.ID, 108.8, 23.2, "BD09"); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("unknown crs: %v", err)
		}
		if n := e.loc.SizeBytes(e.binyang.ID); n <= 0 {
			t.Fatalf("index size %d", n)
		}
	})
}

func TestReimportHistoryAndReplace(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		terr := gridtest.Small("450126")
		ctx := as(e.binyang, viewer.RoleTenantAdmin)
		mustApply(t, e.importFile(t, ctx, e.binyang, terr.GeoJSON(), false))
		before := e.clock.now()

		// The same file again changes nothing, not even the revision.
		e.clock.advance(time.Hour)
		rep := e.importFile(t, ctx, e.binyang, terr.GeoJSON(), false)
		mustApply(t, rep)
		if rep.UnitGrids != (grid.Counts{Unchanged: 20}) || rep.Regions != (grid.Counts{Unchanged: 5}) ||
			rep.WorkGrids != (grid.Counts{Unchanged: 3}) || rep.Revision != 1 {
			t.Fatalf("re-import: %+v", rep)
		}

		// Move the south edge of cell (0,0) 10 m south and rename a class.
		e.clock.advance(time.Hour)
		fs := terr.Features()
		code := terr.Code(0, 0)
		for _, f := range fs {
			p := f["properties"].(map[string]any)
			if p["code"] == code {
				lon, lat := terr.Corner(0, 0)
				f["geometry"] = gridtest.Polygon(gridtest.Rect(lon, lat-0.0001, lon+terr.Step, lat+terr.Step))
			}
			if p["code"] == terr.Code(1, 1) {
				p["area_class"] = "C"
			}
		}
		changedAt := e.clock.now()
		rep = e.importFile(t, ctx, e.binyang, gridtest.Collection(fs), false)
		mustApply(t, rep)
		if rep.UnitGrids != (grid.Counts{Updated: 2, Unchanged: 18}) || rep.Revision != 2 {
			t.Fatalf("changed import: %+v", rep.UnitGrids)
		}
		cur, err := e.uc.GetUnitGrid(ctx, e.binyang, code, nil)
		if err != nil || !cur.ValidFrom.Equal(changedAt) || cur.ValidTo != nil {
			t.Fatalf("current: %+v %v", cur, err)
		}
		asOf := before.Add(30 * time.Minute)
		old, err := e.uc.GetUnitGrid(ctx, e.binyang, code, &asOf)
		if err != nil || old.Geometry == cur.Geometry || !old.ValidFrom.Equal(before) || old.ValidTo == nil || !old.ValidTo.Equal(changedAt) {
			t.Fatalf("as of before the change: %+v %v", old, err)
		}
		if old.AreaM2 >= cur.AreaM2 {
			t.Fatalf("the new version is larger: %.1f vs %.1f", old.AreaM2, cur.AreaM2)
		}
		early := before.Add(-time.Hour)
		if _, err := e.uc.GetUnitGrid(ctx, e.binyang, code, &early); !registryv1.IsGridNotFound(err) {
			t.Fatalf("before the first import: %v", err)
		}
		// The Locator of this process sees the new shape at once.
		lon, _ := terr.Center(0, 0)
		loc, err := e.loc.Locate(ctx, e.binyang.ID, lon, terr.Lat0-0.00005)
		if err != nil || loc.UnitGridCode != code || loc.Revision != 2 {
			t.Fatalf("locate in the moved strip: %+v %v", loc, err)
		}

		// A full re-import without the last row closes its grids (history
		// kept) and reports the work grids it no longer names.
		e.clock.advance(time.Hour)
		var keep []gridtest.Feature
		for _, f := range fs {
			p := f["properties"].(map[string]any)
			if p["kind"] == "unit" {
				if c := p["code"].(string); c == terr.Code(0, 3) || c == terr.Code(1, 3) {
					continue
				}
			}
			if p["code"] == "P01" {
				// P01 names the dropped grids; leave it out.
				continue
			}
			keep = append(keep, f)
		}
		rep = e.importFile(t, ctx, e.binyang, gridtest.Collection(keep), true)
		mustApply(t, rep)
		if rep.UnitGrids != (grid.Counts{Closed: 2, Unchanged: 18}) || !slices.Equal(rep.Stale, []string{"patrol P01"}) {
			t.Fatalf("replace: %+v stale %v", rep.UnitGrids, rep.Stale)
		}
		if _, err := e.uc.GetUnitGrid(ctx, e.binyang, terr.Code(0, 3), nil); !registryv1.IsGridNotFound(err) {
			t.Fatalf("closed grid is still current: %v", err)
		}
		at := e.clock.now().Add(-time.Minute)
		if _, err := e.uc.GetUnitGrid(ctx, e.binyang, terr.Code(0, 3), &at); err != nil {
			t.Fatalf("closed grid lost its history: %v", err)
		}
		rows, _, err := e.uc.ListUnitGrids(ctx, e.binyang, grid.ListInput{PageSize: 100})
		if err != nil || len(rows) != 18 {
			t.Fatalf("current grids: %d %v", len(rows), err)
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		terr := gridtest.Small("450126")
		ctx := as(e.binyang, viewer.RoleSupervisor)
		mustApply(t, e.importFile(t, viewer.SystemContext(context.Background(), "test"), e.binyang, terr.GeoJSON(), false))
		var all []string
		token := ""
		for pages := 0; ; pages++ {
			rows, next, err := e.uc.ListUnitGrids(ctx, e.binyang, grid.ListInput{PageSize: 7, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				all = append(all, r.Code)
			}
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			token = next
		}
		if len(all) != 20 || !slices.IsSorted(all) {
			t.Fatalf("pages: %v", all)
		}
		cases := []struct {
			name string
			f    grid.UnitGridFilter
			want int
		}{
			{"community", grid.UnitGridFilter{CommunityCode: terr.CommunityCode(1)}, 4},
			{"street", grid.UnitGridFilter{StreetCode: terr.StreetCode(0)}, 12},
			{"area class", grid.UnitGridFilter{AreaClass: "B"}, 5},
			{"bbox", grid.UnitGridFilter{BBox: &grid.BBox{MinLon: 108.8002, MinLat: 23.2002, MaxLon: 108.8004, MaxLat: 23.2004}}, 1},
			{"bbox over an edge", grid.UnitGridFilter{BBox: &grid.BBox{MinLon: 108.8009, MinLat: 23.2002, MaxLon: 108.8011, MaxLat: 23.2004}}, 2},
		}
		for _, c := range cases {
			rows, _, err := e.uc.ListUnitGrids(ctx, e.binyang, grid.ListInput{Filter: c.f})
			if err != nil || len(rows) != c.want {
				t.Errorf("%s: %d rows, %v; want %d", c.name, len(rows), err, c.want)
			}
		}
		if _, _, err := e.uc.ListUnitGrids(ctx, e.binyang, grid.ListInput{PageToken: "x!"}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("bad token: %v", err)
		}
		regs, err := e.uc.Regions(ctx, e.binyang, grid.LevelCommunity)
		if err != nil || len(regs) != 3 || regs[0].ParentCode != terr.StreetCode(0) {
			t.Fatalf("communities: %+v %v", regs, err)
		}
		works, err := e.uc.WorkGrids(ctx, e.binyang, grid.KindPatrol)
		if err != nil || len(works) != 2 || len(works[0].UnitGridCodes) != 8 || works[1].Geometry == "" {
			t.Fatalf("patrol grids: %+v %v", works, err)
		}
		cov, err := e.uc.Coverage(ctx, e.binyang, 0)
		if err != nil || cov.UnitGrids != 20 || len(cov.Gaps) != 1 || cov.Revision != 1 {
			t.Fatalf("coverage: %+v %v", cov, err)
		}
	})
}

// bad appends features to (or replaces features of) the good territory.
func TestBadFilesWriteNothing(t *testing.T) {
	t.Parallel()
	terr := gridtest.Small("450126")
	unit := func(code string, geom map[string]any) gridtest.Feature {
		return gridtest.Feature{"type": "Feature", "geometry": geom, "properties": map[string]any{"kind": "unit", "code": code}}
	}
	lon, lat := terr.Corner(0, 0)
	south := func(d float64) (float64, float64, float64, float64) {
		return lon, lat - d - terr.Step, lon + terr.Step, lat - d
	}
	good := terr.Features()
	n := len(good)
	with := func(extra ...gridtest.Feature) []byte {
		return gridtest.Collection(append(slices.Clone(good), extra...))
	}
	a0, a1, a2, a3 := south(0)
	open := gridtest.Rect(a0, a1, a2, a3)[:4]
	bowtie := [][2]float64{{a0, a1}, {a2, a3}, {a2, a1}, {a0, a3}, {a0, a1}}
	swapped := gridtest.Rect(a1, a0, a3, a2)
	paris := gridtest.Rect(2.35, 48.85, 2.36, 48.86)
	seq := 900
	next := func() string { seq++; return terr.CommunityCode(0) + strconv.Itoa(seq) }
	cases := []struct {
		name  string
		data  []byte
		want  []string // rules
		index int      // feature index of the first problem; -2: do not check
		field string
	}{
		{"invalid json", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"street"`), []string{geo.CodeInvalidJSON}, -2, ""},
		{"unclosed ring", with(unit(next(), gridtest.Polygon(open))), []string{geo.CodeRingNotClosed}, n, "geometry.coordinates[0]"},
		{"self-intersecting ring", with(unit(next(), gridtest.Polygon(bowtie))), []string{geo.CodeSelfIntersection}, n, ""},
		{"swapped lat/lon", with(unit(next(), gridtest.Polygon(swapped))), []string{geo.CodeSwappedLonLat}, n, ""},
		{"outside China", with(unit(next(), gridtest.Polygon(paris))), []string{geo.CodeOutsideChina}, n, ""},
		{"14-digit code", with(unit("45012600100190", gridtest.Polygon(gridtest.Rect(south(0))))), []string{grid.RuleCodeInvalid}, n, "properties.code"},
		{"another county", with(unit("450127001001901", gridtest.Polygon(gridtest.Rect(south(0))))), []string{grid.RuleForeignCode}, n, "properties.code"},
		{"unknown community", with(unit("450126001009001", gridtest.Polygon(gridtest.Rect(south(0))))), []string{grid.RuleUnknownCommunity}, n, "properties.community_code"},
		{"inconsistent street", with(gridtest.Feature{"type": "Feature", "geometry": gridtest.Polygon(gridtest.Rect(south(0))),
			"properties": map[string]any{"kind": "unit", "code": next(), "street_code": "450126002"}}), []string{grid.RuleInconsistentCode}, n, "properties.street_code"},
		{"overlapping grids", with(unit(next(), terr.CellGeometry(0, 0))), []string{grid.RuleOverlap}, n, "geometry"},
		{"duplicate code", with(unit(terr.Code(0, 0), gridtest.Polygon(gridtest.Rect(south(0))))), []string{grid.RuleDuplicate}, n, "properties.code"},
		{"unknown kind", with(gridtest.Feature{"type": "Feature", "geometry": nil, "properties": map[string]any{"kind": "lamp", "code": "x"}}), []string{grid.RuleUnknownKind}, n, "properties.kind"},
		{"work grid naming no unit grid", with(gridtest.Feature{"type": "Feature", "geometry": nil, "properties": map[string]any{
			"kind": "patrol", "code": "P09", "name": "x", "unit_grids": []string{"450126001001999"}}}), []string{grid.RuleUnknownUnitGrid}, n, "properties.unit_grids"},
		{"responsibility without department", with(gridtest.Feature{"type": "Feature", "geometry": nil, "properties": map[string]any{
			"kind": "responsibility", "code": "R09", "name": "x", "unit_grids": []string{terr.Code(0, 0)}}}), []string{grid.RuleMissing}, n, "properties.department_code"},
		{"everything at once", with(
			unit(next(), gridtest.Polygon(open)),
			unit(next(), gridtest.Polygon(bowtie)),
			unit(next(), gridtest.Polygon(swapped)),
			unit(next(), gridtest.Polygon(paris)),
			unit("45012600100190", gridtest.Polygon(gridtest.Rect(south(0)))),
			unit("450127001001901", gridtest.Polygon(gridtest.Rect(south(0.002)))),
			unit("450126001009001", gridtest.Polygon(gridtest.Rect(south(0.004)))),
			unit(next(), terr.CellGeometry(4, 3)),
			unit(terr.Code(0, 0), gridtest.Polygon(gridtest.Rect(south(0.006)))),
		), []string{geo.CodeRingNotClosed, geo.CodeSelfIntersection, geo.CodeSwappedLonLat, geo.CodeOutsideChina,
			grid.RuleCodeInvalid, grid.RuleForeignCode, grid.RuleDuplicate, grid.RuleUnknownCommunity, grid.RuleOverlap}, n, ""},
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := as(e.binyang, viewer.RoleTenantAdmin)
		for _, c := range cases {
			rep := e.importFile(t, ctx, e.binyang, c.data, false)
			if rep.Applied || len(rep.Problems) == 0 {
				t.Errorf("%s: applied=%v problems=%v", c.name, rep.Applied, rep.Problems)
				continue
			}
			var rules []string
			for _, p := range rep.Problems {
				rules = append(rules, p.Rule)
				if p.ZH == "" || p.EN == "" {
					t.Errorf("%s: problem not bilingual: %+v", c.name, p)
				}
				if c.index != -2 && (p.FeatureIndex < n || p.Field == "") {
					t.Errorf("%s: problem without its feature and field: %+v", c.name, p)
				}
			}
			slices.Sort(rules)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, slices.Compact(rules)); diff != "" {
				t.Errorf("%s: rules (-want +got):\n%s\nproblems: %+v", c.name, diff, rep.Problems)
			}
			first := rep.Problems[0]
			if c.index != -2 && first.FeatureIndex != c.index {
				t.Errorf("%s: first problem at feature %d, want %d", c.name, first.FeatureIndex, c.index)
			}
			if c.field != "" && first.Field != c.field {
				t.Errorf("%s: field %q, want %q", c.name, first.Field, c.field)
			}
		}
		// Nothing was written by any of them.
		rev, err := e.uc.Revision(ctx, e.binyang)
		if err != nil || rev != 0 {
			t.Fatalf("revision %d, %v", rev, err)
		}
		rows, _, err := e.uc.ListUnitGrids(ctx, e.binyang, grid.ListInput{})
		regs, err2 := e.uc.Regions(ctx, e.binyang, "")
		if err != nil || err2 != nil || len(rows) != 0 || len(regs) != 0 {
			t.Fatalf("rows written: %d grids, %d regions (%v %v)", len(rows), len(regs), err, err2)
		}
		// A tolerance above the overlap lets the overlapping file pass.
		ov := gridtest.Feature{"type": "Feature", "geometry": gridtest.Polygon(gridtest.Rect(a0, a1, a2, a3+0.00001)),
			"properties": map[string]any{"kind": "unit", "code": terr.CommunityCode(0) + "950"}}
		rep, err := e.uc.Import(ctx, grid.ImportInput{Tenant: e.binyang, Source: bytes.NewReader(with(ov)), ToleranceM2: 200})
		if err != nil {
			t.Fatal(err)
		}
		mustApply(t, rep)
		if rep.Coverage == nil || len(rep.Coverage.Overlaps) != 0 {
			t.Fatalf("overlap within tolerance listed: %+v", rep.Coverage)
		}
	})
}

func TestReplicaSeesImportAfterPoll(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		terr := gridtest.Small("450126")
		ctx := as(e.binyang, viewer.RoleDispatcher)
		// A second replica: its own Locator on the same database.
		other, stop := grid.NewLocator(datagrid.NewRepo(db.Ent), grid.Config{PollInterval: 50 * time.Millisecond})
		defer stop()
		runCtx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- other.Run(runCtx) }()
		lon, lat := terr.Center(2, 2)
		_, err := other.Locate(ctx, e.binyang.ID, lon, lat)
		if md := kerrors.FromError(err).Metadata; !registryv1.IsOutsideJurisdiction(err) || md["nearest"] != "-" {
			t.Fatalf("empty tenant: %v %v", err, md)
		}
		mustApply(t, e.importFile(t, as(e.binyang, viewer.RoleTenantAdmin), e.binyang, terr.GeoJSON(), false))
		deadline := time.Now().Add(10 * time.Second)
		for {
			loc, err := other.Locate(ctx, e.binyang.ID, lon, lat)
			if err == nil {
				if loc.UnitGridCode != terr.Code(2, 2) || loc.Revision != 1 {
					t.Fatalf("replica: %+v", loc)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the replica never saw the import: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		a, b := gridtest.Small("450126"), gridtest.Small("450181")
		mustApply(t, e.importFile(t, as(e.binyang, viewer.RoleTenantAdmin), e.binyang, a.GeoJSON(), false))
		mustApply(t, e.importFile(t, as(e.heng, viewer.RoleTenantAdmin), e.heng, b.GeoJSON(), false))
		ctxA := as(e.binyang, viewer.RoleSupervisor)
		lon, lat := b.Center(1, 1)
		// The same place is in both files; each tenant answers with its own.
		if loc, err := e.loc.Locate(ctxA, e.binyang.ID, lon, lat); err != nil || loc.UnitGridCode != a.Code(1, 1) {
			t.Fatalf("A in A: %+v %v", loc, err)
		}
		if _, err := e.loc.Locate(ctxA, e.heng.ID, lon, lat); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("A locating in B: %v", err)
		}
		if _, err := e.uc.GetUnitGrid(ctxA, e.binyang, b.Code(1, 1), nil); !registryv1.IsGridNotFound(err) {
			t.Fatalf("B's grid asked by A: %v", err)
		} else if md := kerrors.FromError(err).Metadata; md["kind"] != "unit_grid" || md["code"] != b.Code(1, 1) {
			t.Fatalf("GRID_NOT_FOUND metadata %v", md)
		}
		if _, err := e.uc.GetUnitGrid(ctxA, e.heng, b.Code(1, 1), nil); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("A reading in B: %v", err)
		}
		if _, err := e.uc.Import(ctxA, grid.ImportInput{Tenant: e.heng, Source: bytes.NewReader(b.GeoJSON())}); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("A importing into B: %v", err)
		}
		// Without a viewer, nothing.
		if _, err := e.loc.Locate(context.Background(), e.binyang.ID, lon, lat); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("no viewer: %v", err)
		}
		// B's codes are foreign to A's import.
		rep := e.importFile(t, ctxA, e.binyang, b.GeoJSON(), false)
		if rep.Applied || len(rep.Problems) == 0 || rep.Problems[0].Rule != grid.RuleForeignCode {
			t.Fatalf("B's file into A: %+v", rep.Problems)
		}
	})
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		terr := gridtest.Small("450126")
		ctx := as(e.binyang, viewer.RoleTenantAdmin)
		mustApply(t, e.importFile(t, ctx, e.binyang, terr.GeoJSON(), false))
		var first bytes.Buffer
		n, err := e.uc.Export(ctx, e.binyang, &first)
		if err != nil || n != 28 {
			t.Fatalf("export: %d %v", n, err)
		}
		// Re-importing the export changes nothing, even with replace.
		e.clock.advance(time.Hour)
		rep := e.importFile(t, ctx, e.binyang, first.Bytes(), true)
		mustApply(t, rep)
		if rep.UnitGrids != (grid.Counts{Unchanged: 20}) || rep.Regions != (grid.Counts{Unchanged: 5}) ||
			rep.WorkGrids != (grid.Counts{Unchanged: 3}) || rep.Revision != 1 || len(rep.Stale) != 0 {
			t.Fatalf("round trip: %+v", rep)
		}
		// Into another county's tenant it fails only on the codes.
		var second bytes.Buffer
		if _, err := e.uc.Export(ctx, e.binyang, &second); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatal("export is not stable")
		}
		var fc geo.FeatureCollection
		if err := fc.UnmarshalJSON(first.Bytes()); err != nil || len(fc.Features) != 28 {
			t.Fatalf("export is not GeoJSON: %v", err)
		}
	})
}

// county32k is a county of 32,000 unit grids (200 × 160 cells of about
// 100 m) in 40 communities of 800 grids and 20 streets.
func county32k() gridtest.Territory {
	terr := gridtest.Lattice("450126", 200, 160)
	terr.ColsPerCommunity = slices.Repeat([]int{5}, 40)
	return terr
}

// BenchmarkImport32000 measures a first import of a whole county (32,000
// unit grids) on both databases, then the first Locate (index build).
func BenchmarkImport32000(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *database.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(d.name, func(b *testing.B) { benchImport(b, d.open) })
	}
}

func benchImport(b *testing.B, open func(testing.TB) *database.DB) {
	data := county32k().GeoJSON()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		b.StopTimer()
		db := open(b)
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys(), &tenant.Tenant{Code: "450126", Slug: "binyang", NameZH: "宾阳县",
			Level: region.County, Path: "450126", Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			b.Fatal(err)
		}
		repo := datagrid.NewRepo(db.Ent)
		loc, stop := grid.NewLocator(repo, grid.Config{})
		uc := grid.NewUsecase(repo, db, nil, grid.Config{})
		b.StartTimer()
		rep, err := uc.Import(sys(), grid.ImportInput{Tenant: tn, Source: bytes.NewReader(data)})
		if err != nil || !rep.Applied || rep.UnitGrids.Created != 32000 {
			b.Fatalf("import: %v %+v", err, rep.Problems)
		}
		start := time.Now()
		if _, err := loc.Locate(sys(), tn.ID, 108.75, 23.15); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "index-build-ms")
		b.ReportMetric(float64(loc.SizeBytes(tn.ID))/(1<<20), "index-MiB")
		b.StopTimer()
		stop()
		b.StartTimer()
	}
}
