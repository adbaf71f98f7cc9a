package component_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/geo"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	data "github.com/cityops/cityops/app/platform/internal/data/component"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// classes is the fake taxonomy: a few legacy and 2026 component classes.
var classes = biz.ClassCheckerFunc(func(_ context.Context, _ int, kind, code string) (bool, error) {
	return kind == "component" && slices.Contains([]string{"0101", "0118", "0305", "01001", "01037", "02017", "04013"}, code), nil
})

// env is a database with 南宁市, 宾阳县 and 横州市 and the component use cases.
type env struct {
	db      *database.DB
	uc      *biz.Usecase
	tenants map[string]*tenant.Tenant
}

func newEnv(t testing.TB, db *database.DB) *env {
	t.Helper()
	tuc := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	sys := viewer.SystemContext(context.Background(), "test")
	e := &env{db: db, tenants: map[string]*tenant.Tenant{}}
	for _, in := range []tenant.CreateInput{
		{Code: "000000", Slug: "national", NameZH: "全国", Level: region.National},
		{Code: "450000", Slug: "guangxi", NameZH: "广西壮族自治区", Level: region.Province, ParentCode: "000000"},
		{Code: "450100", Slug: "nanning", NameZH: "南宁市", Level: region.City, ParentCode: "450000"},
		{Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, ParentCode: "450100"},
		{Code: "450181", Slug: "hengzhou", NameZH: "横州市", Level: region.County, ParentCode: "450100"},
	} {
		tn, err := tuc.Create(sys, in)
		if err != nil {
			t.Fatal(err)
		}
		e.tenants[in.Code] = tn
	}
	e.uc = biz.NewUsecase(data.NewRepo(db), data.NewJobRepo(db), tuc, classes, nil, db, biz.Config{})
	return e
}

// as is a tenant administrator of code.
func (e *env) as(code string) context.Context {
	tn := e.tenants[code]
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: 1, TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path,
		HomeTenantID: tn.ID, HomeTenantCode: tn.Code, Roles: []string{viewer.RoleTenantAdmin},
	})
}

func (e *env) importFile(t testing.TB, code, name string, content []byte) *biz.ImportReport {
	t.Helper()
	rep, err := e.uc.Import(e.as(code), biz.ImportInput{TenantCode: code, Name: name, Source: bytes.NewReader(content), BatchSize: 3})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return rep
}

func reason(err error) string { return kerrors.FromError(err).Reason }

const header = "标识码,名称,小类代码,主管部门代码,主管部门名称,权属单位代码,权属单位名称,养护单位代码,养护单位名称,所在单元网格,部件状态,初始日期,变更日期,数据来源,备注,经度,纬度,坐标系\n"

// census is a small 宾阳县 file: legacy and 2026 ids, Chinese text.
const census = header +
	"4501260101000001,上水井盖,0101,,宾阳县住建局,,,,,450126001001001,完好,20230501,,实测,,108.8101,23.2201,WGS84\n" +
	"4501260118000002,路灯,0118,,宾阳县城管局,,,,,450126001001001,破损,2023-05-02,20240101,实测,灯杆倾斜,108.8105,23.2203,\n" +
	"45012601001000003,供水井盖,01001,11450126MB1234567X,宾阳县水务局,,,,,450126001001002,good,20230503,,地形图,,108.8110,23.2210,WGS84\n"

func counts(r *biz.ImportReport) string {
	return fmt.Sprintf("rows=%d ins=%d upd=%d same=%d rej=%d", r.Rows, r.Inserted, r.Updated, r.Unchanged, r.Rejected)
}

func TestImportCSVEncodings(t *testing.T) {
	t.Parallel()
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(census))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, enc string
		content   []byte
	}{
		{"utf8", biz.EncodingUTF8, []byte(census)},
		{"bom", biz.EncodingUTF8BOM, append([]byte("\xEF\xBB\xBF"), census...)},
		{"gbk", biz.EncodingGBK, gbk},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testdb.Each(t, func(t *testing.T, db *database.DB) {
				e := newEnv(t, db)
				rep := e.importFile(t, "450126", "census.csv", tt.content)
				if rep.Encoding != tt.enc || counts(rep) != "rows=3 ins=3 upd=0 same=0 rej=0" {
					t.Fatalf("report %s %s %+v", rep.Encoding, counts(rep), rep.Rejections)
				}
				c, err := e.uc.Get(e.as("450126"), "450126", "4501260118000002")
				if err != nil {
					t.Fatal(err)
				}
				if c.Name != "路灯" || c.Status != biz.StatusDamaged || c.InitialDate != "20230502" || c.ChangeDate != "20240101" ||
					c.Note != "灯杆倾斜" || c.Scheme != biz.SchemeLegacy || c.ClassCode != "0118" || c.Lon != 108.8105 {
					t.Errorf("component %+v", c)
				}
				c, err = e.uc.Get(e.as("450126"), "450126", "45012601001000003")
				if err != nil || c.Scheme != biz.Scheme2026 || c.ClassCode != "01001" || c.MainDeptCode != "11450126MB1234567X" {
					t.Errorf("2026 component %+v, %v", c, err)
				}
			})
		})
	}
}

func TestImportGeoJSONAndGCJ02(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		fc := `{"type":"FeatureCollection","name":"部件","features":[
 {"type":"Feature","geometry":{"type":"Point","coordinates":[108.8101,23.2201]},"properties":{"标识码":"4501260101000001","名称":"上水井盖","部件状态":"完好"}},
 {"type":"Feature","geometry":{"type":"LineString","coordinates":[[108.81,23.22],[108.811,23.221],[108.812,23.222]]},"properties":{"obj_id":"45012602017000001","name":"护栏","status":"damaged"}},
 {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[108.80,23.20],[108.81,23.20],[108.81,23.21],[108.80,23.21],[108.80,23.20]]]},"properties":{"标识码":"45012604013000001","名称":"绿地","坐标系":"GCJ02","OBJECTID":7}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[23.22,108.81]},"properties":{"标识码":"4501260101000002"}}
]}`
		rep := e.importFile(t, "450126", "census.geojson", []byte(fc))
		if rep.Encoding != biz.EncodingGeoJSON || counts(rep) != "rows=4 ins=3 upd=0 same=0 rej=1" ||
			rep.Rejections[0].Line != 4 || rep.Rejections[0].Reason != biz.ReasonCoordinatesSwapped {
			t.Fatalf("report %s %+v", counts(rep), rep.Rejections)
		}
		ctx := e.as("450126")
		line, err := e.uc.Get(ctx, "450126", "45012602017000001")
		if err != nil || line.Lon != 108.811 || line.Lat != 23.221 || !strings.Contains(line.Geometry, "LineString") || line.Status != biz.StatusDamaged {
			t.Fatalf("line %+v %v", line, err)
		}
		poly, err := e.uc.Get(ctx, "450126", "45012604013000001")
		if err != nil {
			t.Fatal(err)
		}
		// GCJ-02 is converted to WGS84 once, on the way in.
		wantLon, wantLat, _ := geo.ToWGS84(108.805, 23.205, geo.CRSGCJ02)
		if d := geo.Haversine(poly.Lon, poly.Lat, wantLon, wantLat); d > 0.05 || geo.Haversine(poly.Lon, poly.Lat, 108.805, 23.205) < 100 {
			t.Errorf("polygon point (%v, %v), want about (%v, %v)", poly.Lon, poly.Lat, wantLon, wantLat)
		}
	})
}

func TestReimportIsIdempotent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.importFile(t, "450126", "census.csv", []byte(census))
		if rep := e.importFile(t, "450126", "census.csv", []byte(census)); counts(rep) != "rows=3 ins=0 upd=0 same=3 rej=0" || rep.Resumed {
			t.Fatalf("unchanged re-import: %s resumed=%v", counts(rep), rep.Resumed)
		}
		changed := strings.Replace(census, "灯杆倾斜", "已扶正", 1) +
			"4501260305000004,垃圾箱,0305,,,,,,,,完好,20230504,,实测,,108.812,23.223,\n"
		if rep := e.importFile(t, "450126", "census-v2.csv", []byte(changed)); counts(rep) != "rows=4 ins=1 upd=1 same=2 rej=0" {
			t.Fatalf("changed re-import: %s", counts(rep))
		}
		c, err := e.uc.Get(e.as("450126"), "450126", "4501260118000002")
		if err != nil || c.Note != "已扶正" {
			t.Fatalf("updated row %+v %v", c, err)
		}
	})
}

// bigCensus is n valid rows of 宾阳县.
func bigCensus(n int) string {
	var b strings.Builder
	b.WriteString(header)
	for i := range n {
		fmt.Fprintf(&b, "4501260101%06d,井盖%d,0101,,,,,,,,完好,20230501,,实测,,%.6f,%.6f,\n", i+1, i, 108.8+float64(i%100)*0.0001, 23.2+float64(i/100)*0.0001)
	}
	return b.String()
}

func TestImportResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		file := []byte(bigCensus(20))
		ctx, cancel := context.WithCancel(e.as("450126"))
		var batches atomic.Int32
		_, err := e.uc.Import(ctx, biz.ImportInput{
			TenantCode: "450126", Name: "big.csv", Source: bytes.NewReader(file), BatchSize: 4,
			Progress: func(p biz.Progress) {
				if batches.Add(1) == 2 {
					cancel() // interrupted after two committed batches
				}
			},
		})
		if err == nil {
			t.Fatal("the interrupted import succeeded")
		}
		rows, _, err := e.uc.List(e.as("450126"), biz.ListInput{TenantCode: "450126", PageSize: 100})
		if err != nil || len(rows) != 8 {
			t.Fatalf("after interruption %d rows, %v", len(rows), err)
		}
		rep := e.importFile(t, "450126", "big.csv", file)
		if !rep.Resumed || counts(rep) != "rows=20 ins=20 upd=0 same=0 rej=0" {
			t.Fatalf("resumed import: %s resumed=%v", counts(rep), rep.Resumed)
		}
		rows, _, err = e.uc.List(e.as("450126"), biz.ListInput{TenantCode: "450126", PageSize: 100})
		if err != nil || len(rows) != 20 {
			t.Fatalf("after resume %d rows, %v", len(rows), err)
		}
	})
}

func TestImportRejectsBadRowsAndKeepsGoodOnes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		file := header +
			"4501260101000001,好,0101,,,,,,,,完好,20230501,,,,108.81,23.22,\n" + // line 2: good
			"450126010100001,短,0101,,,,,,,,,,,,,108.81,23.22,\n" + // 3: 15 digits
			"4501810101000001,横州,0101,,,,,,,,,,,,,108.81,23.22,\n" + // 4: another county
			"4501260101000005,类,0118,,,,,,,,,,,,,108.81,23.22,\n" + // 5: class part 0101 ≠ 0118
			"4501260999000001,无类,,,,,,,,,,,,,,108.81,23.22,\n" + // 6: no class 0999
			"4501260101000006,状态,0101,,,,,,,,坏了,,,,,108.81,23.22,\n" + // 7: status
			"4501260101000007,日期,0101,,,,,,,,,20231345,,,,108.81,23.22,\n" + // 8: date
			"45012601001000008,信用,01001,12345,,,,,,,,,,,,108.81,23.22,\n" + // 9: credit code
			"4501260101000009,国外,0101,,,,,,,,,,,,,2.35,48.85,\n" + // 10: Paris
			"4501260101000010,颠倒,0101,,,,,,,,,,,,,23.22,108.81,\n" + // 11: swapped
			"4501260101000001,重复,0101,,,,,,,,,,,,,108.81,23.22,\n" + // 12: duplicate of line 2
			"4501260101000011,少列,0101\n" + // 13: too few fields
			"4501260101000012,网格,0101,,,,,,,4501,,,,,,108.81,23.22,\n" + // 14: grid code
			"4501260101000013,好,0101,,,,,,,,破损,,,,,108.811,23.221,GCJ-02\n" // 15: good
		rep := e.importFile(t, "450126", "bad.csv", []byte(file))
		if counts(rep) != "rows=14 ins=2 upd=0 same=0 rej=12" {
			t.Fatalf("report %s %+v", counts(rep), rep.Rejections)
		}
		want := []struct {
			line           int64
			column, reason string
		}{
			{3, "标识码", biz.ReasonIDInvalid}, {4, "标识码", biz.ReasonRegionMismatch}, {5, "小类代码", biz.ReasonClassMismatch},
			{6, "小类代码", biz.ReasonClassNotFound}, {7, "部件状态", biz.ReasonStatusInvalid}, {8, "初始日期", biz.ReasonDateInvalid},
			{9, "主管部门代码", biz.ReasonCreditCodeInvalid}, {10, "经度", biz.ReasonOutsideChina}, {11, "经度", biz.ReasonCoordinatesSwapped},
			{12, "标识码", biz.ReasonDuplicateID}, {13, "", biz.ReasonMalformedRow}, {14, "所在单元网格", biz.ReasonGridInvalid},
		}
		for i, w := range want {
			got := rep.Rejections[i]
			if got.Line != w.line || got.Column != w.column || got.Reason != w.reason || got.ZH == "" || got.EN == "" {
				t.Errorf("rejection %d = %+v, want line %d column %q reason %s", i, got, w.line, w.column, w.reason)
			}
		}
		if !strings.Contains(rep.Rejections[9].ZH, "第 2 行") {
			t.Errorf("duplicate does not name the first line: %s", rep.Rejections[9].ZH)
		}
	})
}

func TestImportRejectsWrongColumns(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		for _, tt := range []struct{ name, file, mention string }{
			{"unknown", "标识码,名称,颜色,经度,纬度\n4501260101000001,井盖,红,108.81,23.22\n", "颜色"},
			{"missing", "obj_id,name,lon\n4501260101000001,井盖,108.81\n", "纬度(lat)"},
			{"duplicate", "标识码,obj_id,经度,纬度\n", "obj_id"},
			{"empty", "", "empty"},
		} {
			_, err := e.uc.Import(e.as("450126"), biz.ImportInput{TenantCode: "450126", Name: "x.csv", Source: strings.NewReader(tt.file)})
			if reason(err) != "IMPORT_REJECTED" || !strings.Contains(kerrors.FromError(err).Metadata["detail_zh"]+kerrors.FromError(err).Metadata["detail_en"], tt.mention) {
				t.Errorf("%s: %v, want IMPORT_REJECTED naming %s", tt.name, err, tt.mention)
			}
		}
		rows, _, err := e.uc.List(e.as("450126"), biz.ListInput{TenantCode: "450126"})
		if err != nil || len(rows) != 0 {
			t.Fatalf("a rejected file wrote %d rows (%v)", len(rows), err)
		}
	})
}

func TestNearby(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		// Points due east of (108.8, 23.2) at about 10, 30, 60 and 200 m.
		lon := func(m float64) float64 { return 108.8 + m/(111320*0.9191) }
		file := header + fmt.Sprintf(
			"4501260101000001,a,,,,,,,,,,,,,,%.7f,23.2,\n4501260118000002,b,,,,,,,,,,,,,,%.7f,23.2,\n"+
				"4501260101000003,c,,,,,,,,,,,,,,%.7f,23.2,\n4501260101000004,d,,,,,,,,,,,,,,%.7f,23.2,\n",
			lon(30), lon(10), lon(60), lon(200))
		e.importFile(t, "450126", "n.csv", []byte(file))
		ctx := e.as("450126")
		ids := func(hs []biz.Hit) (out []string) {
			for _, h := range hs {
				out = append(out, h.Component.ObjID[len(h.Component.ObjID)-1:])
			}
			return out
		}
		hits, err := e.uc.Nearby(ctx, biz.NearbyInput{TenantCode: "450126", Lon: 108.8, Lat: 23.2, RadiusM: 100})
		if err != nil || !slices.Equal(ids(hits), []string{"2", "1", "3"}) {
			t.Fatalf("nearby = %v, %v", ids(hits), err)
		}
		if d := hits[0].DistanceM; d < 9 || d > 11 {
			t.Errorf("nearest distance %v m, want about 10", d)
		}
		hits, err = e.uc.Nearby(ctx, biz.NearbyInput{TenantCode: "450126", Lon: 108.8, Lat: 23.2, RadiusM: 100, ClassCodes: []string{"0101"}, Limit: 1})
		if err != nil || !slices.Equal(ids(hits), []string{"1"}) {
			t.Fatalf("nearby 0101 limit 1 = %v, %v", ids(hits), err)
		}
		// A new component is seen at once: the import bumped the revision.
		e.importFile(t, "450126", "n2.csv", []byte(header+fmt.Sprintf("4501260101000005,e,,,,,,,,,,,,,,%.7f,23.2,\n", lon(1))))
		hits, err = e.uc.Nearby(ctx, biz.NearbyInput{TenantCode: "450126", Lon: 108.8, Lat: 23.2, RadiusM: 20})
		if err != nil || !slices.Equal(ids(hits), []string{"5", "2"}) {
			t.Fatalf("nearby after import = %v, %v", ids(hits), err)
		}
		if e.uc.IndexSizeBytes(e.tenants["450126"].ID) <= 0 {
			t.Error("no index size reported")
		}
	})
}

func TestQueryUpdateAndExportRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.importFile(t, "450126", "census.csv", []byte(census))
		ctx := e.as("450126")
		page, next, err := e.uc.List(ctx, biz.ListInput{TenantCode: "450126", PageSize: 2})
		if err != nil || len(page) != 2 || next == "" {
			t.Fatalf("page 1: %d %q %v", len(page), next, err)
		}
		page2, next2, err := e.uc.List(ctx, biz.ListInput{TenantCode: "450126", PageSize: 2, PageToken: next})
		if err != nil || len(page2) != 1 || next2 != "" || page2[0].ObjID <= page[1].ObjID {
			t.Fatalf("page 2: %v %q %v", page2, next2, err)
		}
		for _, tt := range []struct {
			f    biz.Filter
			want int
		}{
			{biz.Filter{ClassCode: "0118"}, 1}, {biz.Filter{GridCode: "450126001001001"}, 2},
			{biz.Filter{Status: biz.StatusDamaged}, 1}, {biz.Filter{BBox: &biz.BBox{MinLon: 108.81, MinLat: 23.22, MaxLon: 108.8106, MaxLat: 23.2205}}, 2},
		} {
			rows, _, err := e.uc.List(ctx, biz.ListInput{TenantCode: "450126", Filter: tt.f})
			if err != nil || len(rows) != tt.want {
				t.Errorf("filter %+v: %d rows, want %d (%v)", tt.f, len(rows), tt.want, err)
			}
		}
		for _, f := range []biz.Format{biz.FormatCSV, biz.FormatGeoJSON} {
			var buf bytes.Buffer
			n, truncated, err := e.uc.Export(ctx, biz.ExportInput{TenantCode: "450126", Format: f}, &buf)
			if err != nil || n != 3 || truncated {
				t.Fatalf("export %s: %d %v %v", f, n, truncated, err)
			}
			// What was exported imports back as it is.
			rep := e.importFile(t, "450126", "export."+string(f), buf.Bytes())
			if counts(rep) != "rows=3 ins=0 upd=0 same=3 rej=0" {
				t.Errorf("round trip %s: %s %+v\n%s", f, counts(rep), rep.Rejections, buf.String())
			}
		}
		c, err := e.uc.UpdateStatus(ctx, biz.UpdateStatusInput{TenantCode: "450126", ObjID: "4501260101000001", Status: biz.StatusLost, ChangeDate: "20261122"})
		if err != nil || c.Status != biz.StatusLost || c.ChangeDate != "20261122" {
			t.Fatalf("update status %+v %v", c, err)
		}
		if _, err := e.uc.UpdateStatus(ctx, biz.UpdateStatusInput{TenantCode: "450126", ObjID: "4501260101999999", Status: biz.StatusLost}); reason(err) != "COMPONENT_NOT_FOUND" {
			t.Errorf("update of a missing component: %v", err)
		}
		var buf bytes.Buffer
		if n, truncated, err := e.uc.Export(ctx, biz.ExportInput{TenantCode: "450126", MaxRows: 2}, &buf); err != nil || n != 2 || !truncated {
			t.Errorf("capped export: %d %v %v", n, truncated, err)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.importFile(t, "450126", "census.csv", []byte(census))
		hz := e.as("450181") // 横州市's administrator
		if _, err := e.uc.Get(hz, "450126", "4501260101000001"); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("横州 reading 宾阳: %v", err)
		}
		if _, err := e.uc.Get(hz, "450181", "4501260101000001"); reason(err) != "COMPONENT_NOT_FOUND" {
			t.Errorf("宾阳's id asked in 横州: %v", err)
		}
		if _, err := e.uc.Import(hz, biz.ImportInput{TenantCode: "450126", Name: "x.csv", Source: strings.NewReader(census)}); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("横州 importing into 宾阳: %v", err)
		}
		// 横州 importing 宾阳's ids into itself: every row has the wrong region.
		rep, err := e.uc.Import(hz, biz.ImportInput{TenantCode: "450181", Name: "x.csv", Source: strings.NewReader(census)})
		if err != nil || rep.Rejected != 3 || rep.Rejections[0].Reason != biz.ReasonRegionMismatch {
			t.Errorf("横州 importing 宾阳's ids: %+v %v", rep, err)
		}
		if hits, err := e.uc.Nearby(hz, biz.NearbyInput{TenantCode: "450181", Lon: 108.81, Lat: 23.22, RadiusM: 500}); err != nil || len(hits) != 0 {
			t.Errorf("横州 nearby saw %d of 宾阳's components (%v)", len(hits), err)
		}
		// 南宁市 (a city) takes any district's ids under 4501.
		rep, err = e.uc.Import(e.as("450100"), biz.ImportInput{TenantCode: "450100", Name: "x.csv", Source: strings.NewReader(census)})
		if err != nil || counts(rep) != "rows=3 ins=3 upd=0 same=0 rej=0" {
			t.Errorf("南宁市 importing district ids: %+v %v", rep, err)
		}
	})
}

// TestConcurrentImportsOfOverlappingFiles imports the same ids in opposite
// orders at once, in small batches that several transactions write each:
// the imports may block each other, but only in ways the database sees
// (batchWriter), so they finish, or one ends with a detected deadlock and
// resumes when run again.
func TestConcurrentImportsOfOverlappingFiles(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		lines := strings.SplitAfter(bigCensus(1005), "\n")
		lines = lines[:len(lines)-1] // after the last newline
		down := []string{lines[0]}
		for i := len(lines) - 1; i > 0; i-- {
			down = append(down, lines[i])
		}
		files := []string{strings.Join(lines, ""), strings.Join(down, "")}
		ctx, cancel := context.WithTimeout(e.as("450126"), time.Minute)
		defer cancel()
		run := func(i int) error {
			_, err := e.uc.Import(ctx, biz.ImportInput{
				TenantCode: "450126", Name: fmt.Sprintf("part%d.csv", i), Source: strings.NewReader(files[i]), BatchSize: 10,
			})
			return err
		}
		errs := make([]error, len(files))
		var wg sync.WaitGroup
		for i := range files {
			wg.Go(func() { errs[i] = run(i) })
		}
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatalf("the imports did not finish: %v", errs)
		}
		for i, err := range errs {
			if err != nil {
				t.Logf("import %d: %v; again", i, err)
				if err := run(i); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n, err := db.Ent.Component.Query().Count(e.as("450126")); err != nil || n != 1005 {
			t.Fatalf("%d rows, %v", n, err)
		}
	})
}
