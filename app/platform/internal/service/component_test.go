package service_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	componentbiz "github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	componentdata "github.com/cityops/cityops/app/platform/internal/data/component"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/service"
)

// newComponentService is the service over 宾阳县 and 横州市, with a
// taxonomy that knows classes 0101 and 01001.
func newComponentService(t testing.TB, db *database.DB) (*service.ComponentService, map[string]context.Context) {
	t.Helper()
	tuc := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	sys := viewer.SystemContext(context.Background(), "test")
	ctxs := map[string]context.Context{}
	for _, in := range []*tenant.Tenant{
		{Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, Path: "450126"},
		{Code: "450181", Slug: "hengzhou", NameZH: "横州市", Level: region.County, Path: "450181"},
	} {
		// Straight through the repository: the placement rules need the
		// whole tree, which these tests do not.
		in.Status, in.Isolation, in.TimeZone = tenant.StatusActive, tenant.IsolationShared, "Asia/Shanghai"
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, in)
		if err != nil {
			t.Fatal(err)
		}
		ctxs[in.Code] = viewer.NewContext(context.Background(), &viewer.Viewer{
			Kind: viewer.User, ActorID: 1, TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path,
			Roles: []string{viewer.RoleTenantAdmin},
		})
	}
	classes := componentbiz.ClassCheckerFunc(func(_ context.Context, _ int, _, code string) (bool, error) {
		return code == "0101" || code == "01001", nil
	})
	uc := componentbiz.NewUsecase(componentdata.NewRepo(db), componentdata.NewJobRepo(db), tuc, classes, nil, db, componentbiz.Config{})
	return service.NewComponentService(uc), ctxs
}

func TestComponentService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, ctxs := newComponentService(t, db)
		by := ctxs["450126"]
		csv := "标识码,名称,部件状态,经度,纬度\n" +
			"4501260101000001,上水井盖,完好,108.8101,23.2201\n" +
			"45012601001000002,供水井盖,破损,108.8102,23.2201\n" +
			"4501260101000003,坐标颠倒,完好,23.22,108.81\n"
		rep, err := s.ImportComponents(by, &registryv1.ImportComponentsRequest{TenantCode: "450126", FileName: "c.csv", Content: []byte(csv)})
		if err != nil || rep.GetInserted() != 2 || rep.GetRejected() != 1 || rep.GetRejections()[0].GetLine() != 4 ||
			rep.GetRejections()[0].GetColumn() != "经度" || rep.GetEncoding() != "UTF-8" || len(rep.GetChecksum()) != 64 {
			t.Fatalf("import: %v, %v", rep, err)
		}
		c, err := s.GetComponent(by, &registryv1.GetComponentRequest{TenantCode: "450126", ObjId: "45012601001000002"})
		if err != nil || c.GetStatus() != registryv1.ComponentStatus_COMPONENT_STATUS_DAMAGED || c.GetScheme() != componentbiz.Scheme2026 {
			t.Fatalf("get: %v, %v", c, err)
		}
		list, err := s.ListComponents(by, &registryv1.ListComponentsRequest{TenantCode: "450126",
			Filter: &registryv1.ComponentFilter{Status: registryv1.ComponentStatus_COMPONENT_STATUS_GOOD},
			Format: registryv1.ComponentFormat_COMPONENT_FORMAT_GEOJSON})
		if err != nil || len(list.GetComponents()) != 1 || !strings.HasPrefix(list.GetGeojson(), `{"type":"FeatureCollection","features":[{"type":"Feature","id":"4501260101000001"`) {
			t.Fatalf("list: %v, %v", list, err)
		}
		near, err := s.Nearby(by, &registryv1.NearbyRequest{TenantCode: "450126", Lon: 108.81, Lat: 23.22, RadiusM: 50})
		if err != nil || len(near.GetHits()) != 2 || near.GetHits()[0].GetComponent().GetObjId() != "4501260101000001" ||
			near.GetHits()[0].GetDistanceM() > near.GetHits()[1].GetDistanceM() {
			t.Fatalf("nearby: %v, %v", near, err)
		}
		up, err := s.UpdateComponentStatus(by, &registryv1.UpdateComponentStatusRequest{TenantCode: "450126", ObjId: "4501260101000001",
			Status: registryv1.ComponentStatus_COMPONENT_STATUS_LOST, ChangeDate: "20261122"})
		if err != nil || up.GetStatus() != registryv1.ComponentStatus_COMPONENT_STATUS_LOST || up.GetChangeDate() != "20261122" {
			t.Fatalf("update: %v, %v", up, err)
		}
		exp, err := s.ExportComponents(by, &registryv1.ExportComponentsRequest{TenantCode: "450126", Format: registryv1.ComponentFormat_COMPONENT_FORMAT_CSV})
		if err != nil || exp.GetRows() != 2 || exp.GetTruncated() || !strings.Contains(string(exp.GetContent()), "丢失") {
			t.Fatalf("export: %v, %v", exp, err)
		}
		// 横州市 sees none of it.
		hz := ctxs["450181"]
		if _, err := s.GetComponent(hz, &registryv1.GetComponentRequest{TenantCode: "450181", ObjId: "4501260101000001"}); kerrors.FromError(err).Reason != "COMPONENT_NOT_FOUND" {
			t.Errorf("横州 get: %v", err)
		}
		if _, err := s.ListComponents(hz, &registryv1.ListComponentsRequest{TenantCode: "450126"}); kerrors.FromError(err).Reason != "TENANT_NOT_FOUND" {
			t.Errorf("横州 listing 宾阳: %v", err)
		}
	})
}

func TestComponentRequestsAreValidated(t *testing.T) {
	t.Parallel()
	type validator interface{ Validate() error }
	for _, tt := range []struct {
		name string
		req  validator
		ok   bool
	}{
		{"get", &registryv1.GetComponentRequest{TenantCode: "450126", ObjId: "4501260101000001"}, true},
		{"get 15 digits", &registryv1.GetComponentRequest{TenantCode: "450126", ObjId: "450126010100001"}, false},
		{"get injection", &registryv1.GetComponentRequest{TenantCode: "450126", ObjId: "1' OR '1'='1"}, false},
		{"nearby", &registryv1.NearbyRequest{TenantCode: "450126", Lon: 108.8, Lat: 23.2, RadiusM: 50}, true},
		{"nearby far radius", &registryv1.NearbyRequest{TenantCode: "450126", Lon: 108.8, Lat: 23.2, RadiusM: 50000}, false},
		{"nearby outside china", &registryv1.NearbyRequest{TenantCode: "450126", Lon: 2.3, Lat: 48.8, RadiusM: 50}, false},
		{"nearby bad class", &registryv1.NearbyRequest{TenantCode: "450126", Lon: 108.8, Lat: 23.2, RadiusM: 50, ClassCodes: []string{"x"}}, false},
		{"list big page", &registryv1.ListComponentsRequest{TenantCode: "450126", PageSize: 1001}, false},
		{"list csv", &registryv1.ListComponentsRequest{TenantCode: "450126", Format: registryv1.ComponentFormat_COMPONENT_FORMAT_CSV}, false},
		{"status unspecified", &registryv1.UpdateComponentStatusRequest{TenantCode: "450126", ObjId: "4501260101000001"}, false},
		{"import empty", &registryv1.ImportComponentsRequest{TenantCode: "450126", FileName: "a.csv"}, false},
		{"import huge", &registryv1.ImportComponentsRequest{TenantCode: "450126", FileName: "a.csv", Content: make([]byte, 6<<20+1)}, false},
		{"import bd09", &registryv1.ImportComponentsRequest{TenantCode: "450126", FileName: "a.csv", Content: []byte("x"), Crs: "BD09"}, false},
		{"export too many", &registryv1.ExportComponentsRequest{TenantCode: "450126", MaxRows: 50001}, false},
	} {
		if err := tt.req.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// BenchmarkNearby50m measures a 50 m Nearby end to end through the service
// (index query, rows read by id, mapping) over N components of one tenant:
// CITYOPS_BENCH_NEARBY_POINTS, default 100,000; 1250000 for the issue's
// figure (the rows are loaded once, a few seconds per 100k on PostgreSQL).
func BenchmarkNearby50m(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CITYOPS_BENCH_NEARBY_POINTS")); err == nil && v > 0 {
		n = v
	}
	db := testdb.Postgres(b)
	s, ctxs := newComponentService(b, db)
	ctx := ctxs["450126"]
	// A square of n points ~10 m apart around 宾阳, written straight
	// through the repository in large batches.
	side := 1
	for side*side < n {
		side++
	}
	repo := componentdata.NewRepo(db)
	tid := viewerTenant(ctx)
	batch := make([]*componentbiz.Component, 0, 5000)
	flush := func() {
		if err := db.InTx(ctx, func(ctx context.Context) error {
			_, err := repo.Upsert(ctx, tid, batch, false)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	const step = 0.0001 // ≈ 10 m
	for i := range n {
		c := &componentbiz.Component{
			ObjID: fmt.Sprintf("4501260101%06d", i%1_000_000), Scheme: componentbiz.SchemeLegacy, ClassCode: "0101",
			Status: componentbiz.StatusGood, Lon: 108.7 + float64(i%side)*step, Lat: 23.1 + float64(i/side)*step,
		}
		if i >= 1_000_000 {
			c.ObjID = fmt.Sprintf("45012601001%06d", i-1_000_000)
		}
		c.RowHash = componentbiz.RowHash(c)
		batch = append(batch, c)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	req := &registryv1.NearbyRequest{TenantCode: "450126", Lon: 108.7 + float64(side/2)*step, Lat: 23.1 + float64(side/2)*step, RadiusM: 50, Limit: 50}
	if _, err := s.Nearby(ctx, req); err != nil { // builds the index
		b.Fatal(err)
	}
	b.ResetTimer()
	hits := 0
	for i := 0; b.Loop(); i++ {
		req.Lon = 108.7 + float64((i*7919)%side)*step
		req.Lat = 23.1 + float64((i*104729)%side)*step
		res, err := s.Nearby(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		hits += len(res.GetHits())
	}
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	b.ReportMetric(float64(n), "points")
}

func viewerTenant(ctx context.Context) int {
	v, _ := viewer.FromContext(ctx)
	return v.TenantID
}
