package dispatch_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
)

// cityFile is a rule table as a city fills it in: a title row, the
// headers with their hints, Chinese words, a Chinese comma, a region level
// left to the code's length and a rotation.
const cityFile = "宾阳县数字城管派遣规则\n" +
	"规则编号,规则名称,类型(矩阵/兜底),小类代码,立案条件,区域层级(网格/社区/街道/区县/全部),区域代码,区域类别,开始时间,结束时间,主办单位,协办单位(逗号分隔),轮换单位,轮换周期(日/周/月),轮换起始,优先级,启用,备注\n" +
	"G001,宾州网格垃圾,矩阵,0101,,网格,450126001001001,A,,,hw,\"szj，ld\",,,,10,是,\n" +
	"S001,宾州街道夜间,矩阵,,,,450126001,,22:00,6:00,cgj,,,,,0,是,夜间值班\n" +
	"R001,井盖轮流维护,矩阵,0118,,全部,,,,,,,\"a,b,c\",周,2026-01-05 08:00,0,是,\n" +
	"FB01,兜底,兜底,,,,,,,,yl,,,,,,否,\n"

func TestImportCityFile(t *testing.T) {
	t.Parallel()
	u := newEngine(t, nil, nil, map[string]bool{}, time.Time{})
	ctx := as(1)
	res, err := u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: []byte(cityFile)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || res.Created != 4 || len(res.Problems) != 0 {
		t.Fatalf("import = %+v", res)
	}
	anchor := at("2026-01-05 08:00").UTC()
	want := map[string]*dispatch.Rule{
		"G001": {Code: "G001", Name: "宾州网格垃圾", Kind: dispatch.KindMatrix, ClassCode: "0101", RegionLevel: dispatch.LevelGrid,
			RegionCode: grid, AreaClass: "A", DepartmentCode: "hw", CoDepartmentCodes: []string{"szj", "ld"}, RotationDepartments: []string{},
			RotationPeriod: dispatch.RotationNone, Priority: 10, Enabled: true},
		"S001": {Code: "S001", Name: "宾州街道夜间", Kind: dispatch.KindMatrix, RegionLevel: dispatch.LevelStreet, RegionCode: street,
			TimeFrom: "22:00", TimeTo: "06:00", DepartmentCode: "cgj", CoDepartmentCodes: []string{}, RotationDepartments: []string{},
			RotationPeriod: dispatch.RotationNone, Enabled: true, Note: "夜间值班"},
		"R001": {Code: "R001", Name: "井盖轮流维护", Kind: dispatch.KindMatrix, ClassCode: "0118", RegionLevel: dispatch.LevelAny,
			CoDepartmentCodes: []string{}, RotationDepartments: []string{"a", "b", "c"}, RotationPeriod: dispatch.RotationWeek,
			RotationAnchor: &anchor, Enabled: true},
		"FB01": {Code: "FB01", Name: "兜底", Kind: dispatch.KindFallback, RegionLevel: dispatch.LevelAny, DepartmentCode: "yl",
			CoDepartmentCodes: []string{}, RotationDepartments: []string{}, RotationPeriod: dispatch.RotationNone},
	}
	for code, w := range want {
		r, err := u.Get(ctx, "450126", code)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, r); diff != "" {
			t.Errorf("%s (-want +got):\n%s", code, diff)
		}
	}
	// Export, then import the export: nothing changes, in both formats.
	for _, f := range []dispatch.Format{dispatch.FormatCSV, dispatch.FormatXLSX} {
		b, n, err := u.Export(ctx, "450126", f)
		if err != nil || n != 4 {
			t.Fatalf("export %s: %d rows, %v", f, n, err)
		}
		res, err := u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: b})
		if err != nil || res.Unchanged != 4 || res.Created+res.Updated+res.Deleted != 0 {
			t.Fatalf("re-import %s = %+v, %v", f, res, err)
		}
	}
	csv, _, err := u.Export(ctx, "450126", dispatch.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimPrefix(string(csv), "\uFEFF"), "\r\n")
	if lines[0] != strings.Join(dispatch.Headers(), ",") ||
		lines[3] != "R001,井盖轮流维护,矩阵,0118,,全部,,,,,,,\"a,b,c\",周,2026-01-05 08:00,0,是," {
		t.Errorf("export:\n%s", csv)
	}
}

func TestImportProblems(t *testing.T) {
	t.Parallel()
	u := newEngine(t, []*dispatch.Rule{rule("KEEP", "cgj")}, nil, nil, time.Time{})
	ctx := as(1)
	file := "规则编号,类型,区域层级,区域代码,开始时间,结束时间,主办单位,轮换单位,轮换周期,轮换起始,优先级,启用\n" +
		"OK1,矩阵,,,,,cgj,,,,,\n" + // 2: fine
		"BAD1,矩阵,,,8:00,25:00,cgj,,,,,\n" + // 3: end time
		"BAD2,其他,城市,,,,cgj,,,,高,也许\n" + // 4: kind, level, priority, enabled
		"OK1,矩阵,,,,,szj,,,,,\n" + // 5: duplicate code
		"BAD3,矩阵,街道,4501260,,,gone,,,,,\n" + // 6: region code, department (after the cells pass)
		"BAD4,矩阵,,,,,,a,周,2026-13-01,,\n" + // 7: anchor
		"BAD5,矩阵,,,,,,a,周,2026-01-01,,\n" + // 8: one rotation department
		"\n" +
		"OK2,兜底,,,,,yl,,,,,\n" // 10: fine
	type row struct {
		line   int
		column string
	}
	want := []row{{3, "结束时间"}, {4, "类型"}, {4, "区域层级"}, {4, "优先级"}, {4, "启用"}, {5, "规则编号"},
		{6, "区域代码"}, {7, "轮换起始"}, {8, "轮换单位"}}
	res, err := u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: []byte(file), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for _, p := range res.Problems {
		got = append(got, row{p.Line, p.Column})
		if p.ZH == "" || p.EN == "" {
			t.Errorf("problem without both languages: %+v", p)
		}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(row{})); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%s", diff, res.Problems.Summary("zh-CN", 100))
	}
	if res.Rows != 8 || res.Created != 2 || !res.DryRun {
		t.Errorf("dry run = %+v", res)
	}
	// Row 6's department is checked only once its cells pass; fix the
	// region and the department is what remains.
	fixed := strings.Replace(file, "街道,4501260,", "街道,450126001,", 1)
	res, err = u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: []byte(fixed), DryRun: true})
	if err != nil || !strings.Contains(res.Problems.Summary("en", 100), "line 6, column 主办单位: no active department gone") {
		t.Errorf("fixed dry run = %v, %v", res.Problems.Summary("en", 100), err)
	}
	// A real run is refused as a whole, naming the problems.
	_, err = u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: []byte(file)})
	var ps dispatch.Problems
	if reason(err) != "DISPATCH_IMPORT_REJECTED" || !errors.As(err, &ps) || len(ps) != len(want) {
		t.Fatalf("import = %v", err)
	}
	all, _, _ := u.Export(ctx, "450126", dispatch.FormatCSV)
	if strings.Contains(string(all), "OK1") {
		t.Fatal("a rejected import wrote rules")
	}
}

func TestImportReplace(t *testing.T) {
	t.Parallel()
	u := newEngine(t, []*dispatch.Rule{rule("OLD", "cgj"), rule("SAME", "szj")}, nil, nil, time.Time{})
	ctx := as(1)
	file := "规则编号,主办单位\nSAME,szj\nNEW,hw\n"
	res, err := u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: []byte(file), Replace: true, DryRun: true})
	if err != nil || res.Created != 1 || res.Unchanged != 1 || res.Deleted != 1 {
		t.Fatalf("dry replace = %+v, %v", res, err)
	}
	if _, err := u.Get(ctx, "450126", "OLD"); err != nil {
		t.Fatal("a dry run deleted")
	}
	if res, err = u.Import(ctx, dispatch.ImportInput{TenantCode: "450126", Data: []byte(file), Replace: true}); err != nil || res.Deleted != 1 {
		t.Fatalf("replace = %+v, %v", res, err)
	}
	if _, err := u.Get(ctx, "450126", "OLD"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
		t.Fatalf("OLD after replace: %v", err)
	}
}

func TestParseTableFiles(t *testing.T) {
	t.Parallel()
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("规则编号,主办单位,备注\nR1,cgj,城管局\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		rules    int
		rejected string // substring of the problems in English; "" = accepted
	}{
		{"gbk csv", gbk, 1, ""},
		{"utf-8 bom", []byte("\uFEFF规则编号,主办单位\nR1,cgj\n"), 1, ""},
		{"aliases", []byte("规则代码,责任单位,是否启用,说明\nR1,cgj,停用,x\n"), 1, ""},
		{"unknown column", []byte("规则编号,主办单位,颜色\nR1,cgj,红\n"), 0, "column 颜色: unknown column"},
		{"no code column", []byte("规则名称,主办单位\nx,cgj\n"), 0, "column 规则编号: a required column is missing"},
		{"no department column", []byte("规则编号,规则名称\nR1,x\n"), 0, "the department column"},
		{"column twice", []byte("规则编号,主办单位,主办单位\nR1,cgj,cgj\n"), 0, "appears twice"},
		{"empty", []byte(""), 0, "empty"},
		{"utf-16", []byte{0xFF, 0xFE, 'a', 0}, 0, "UTF-16"},
		{"bad quotes", []byte("规则编号,主办单位\n\"R1,cgj\n"), 0, "malformed CSV"},
		{"bad xlsx", []byte("PK\x03\x04garbage"), 0, "cannot read the xlsx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tbl, probs := dispatch.ParseTable(tt.data, "", cst)
			if tt.rejected == "" {
				if tbl == nil || len(tbl.Rules) != tt.rules || len(probs) != 0 {
					t.Fatalf("parse = %+v, %v", tbl, probs)
				}
				return
			}
			if tbl != nil || !strings.Contains(probs.Error(), tt.rejected) {
				t.Fatalf("parse = %+v, %v; want rejected with %q", tbl, probs, tt.rejected)
			}
		})
	}
}

// TestParseXLSXCells reads the cells Excel makes of times and dates
// typed into it: fractions of a day and serial day numbers.
func TestParseXLSXCells(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	rows := [][]any{
		{"规则编号", "开始时间", "结束时间", "轮换单位", "轮换周期", "轮换起始", "优先级", "小类代码"},
		{"R1", 0.375, 0.75, "a、b", "月", time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC), 5, "0101"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tbl, probs := dispatch.ParseTable(buf.Bytes(), dispatch.FormatXLSX, cst)
	if tbl == nil || len(probs) != 0 || len(tbl.Rules) != 1 {
		t.Fatalf("parse = %+v, %v", tbl, probs)
	}
	r := tbl.Rules[0]
	if r.TimeFrom != "09:00" || r.TimeTo != "18:00" || r.Priority != 5 || r.ClassCode != "0101" ||
		r.RotationAnchor == nil || !r.RotationAnchor.Equal(at("2026-03-01 08:30")) || len(r.RotationDepartments) != 2 {
		t.Fatalf("rule = %+v (anchor %v)", r, r.RotationAnchor)
	}
}

func TestParseAnchor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2026-01-05 08:00":          "2026-01-05 08:00",
		"2026-01-05":                "2026-01-05 00:00",
		"2026/1/5 8:00":             "2026-01-05 08:00",
		"2026/1/5 08:00":            "2026-01-05 08:00",
		"20260105":                  "2026-01-05 00:00",
		"2026年1月5日":                 "2026-01-05 00:00",
		"46027.5":                   "2026-01-05 12:00",
		"2026-01-05T08:00:00+08:00": "2026-01-05 08:00",
		"2026-01-05T00:00:00Z":      "2026-01-05 08:00",
		"soon":                      "",
		"-3":                        "",
	} {
		got, ok := dispatch.ParseAnchor(in, cst)
		s := ""
		if ok {
			s = dispatch.FormatAnchor(got, cst)
		}
		if s != want {
			t.Errorf("ParseAnchor(%q) = %q, want %q", in, s, want)
		}
	}
}

func FuzzParseTable(f *testing.F) {
	f.Add([]byte(cityFile))
	f.Add([]byte("规则编号,主办单位\nR1,cgj\n"))
	f.Add([]byte("规则编号,开始时间,主办单位,轮换起始,优先级\nR1,0.5,cgj,46027.5,1e308\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, probs := dispatch.ParseTable(data, "", cst)
		if tbl == nil {
			if len(probs) == 0 {
				t.Fatal("rejected without a problem")
			}
			return
		}
		if len(tbl.Rules) != len(tbl.Lines) || len(tbl.Rules) > tbl.Rows {
			t.Fatalf("%d rules, %d lines, %d rows", len(tbl.Rules), len(tbl.Lines), tbl.Rows)
		}
	})
}
