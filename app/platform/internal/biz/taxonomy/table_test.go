package taxonomy_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	datataxonomy "github.com/cityops/cityops/app/platform/internal/data/taxonomy"
)

const header = "大类代码,大类名称,小类代码,小类名称,立案条件编码,立案条件,处置时限 A,处置时限 B,处置时限 C,结案条件,紧急程度,备注\n"

// snapshot is a version's content without what differs between tenants
// and versions by construction.
func snapshot(t *testing.T, e *env, tn *tenant.Tenant) ([]taxonomy.Class, []taxonomy.FilingCondition) {
	t.Helper()
	ctx := as(tn)
	l, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{IncludeInactive: true})
	if err != nil {
		t.Fatal(err)
	}
	conds, err := datataxonomy.NewRepo(e.db.Ent).ListConditions(ctx, tn.ID, l.Version.Number, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return l.Classes, conds
}

var ignoreVersion = cmp.Options{
	cmpopts.IgnoreFields(taxonomy.Class{}, "Version", "CreatedAt", "NameEN"),
	cmpopts.IgnoreFields(taxonomy.FilingCondition{}, "Version"),
	cmpopts.EquateEmpty(),
}

// export → import into another tenant → export gives the same file and
// the same classes and conditions, in CSV and XLSX.
func TestImportExportRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		src := e.tenant(t, "450126")
		e.seed(t, src, taxonomy.SchemeGB47678)
		ctx := as(src)
		for _, lc := range []taxonomy.LocalClass{
			{Kind: taxonomy.Event, Code: "90", NameZH: "扩展事件"},
			{Kind: taxonomy.Event, Code: "90001", NameZH: "共享电单车乱停放", NationalCode: "09011"},
			{Kind: taxonomy.Event, Code: "0600101", NameZH: "屋顶违建"},
			{Kind: taxonomy.Component, Code: "91", NameZH: "城管设施"},
		} {
			if _, _, err := e.uc.UpsertLocalClass(ctx, src.Code, lc); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := e.uc.UpsertFilingCondition(ctx, src.Code, taxonomy.FilingCondition{Kind: taxonomy.Event, ClassCode: "0600101", Code: "060010101",
			FilingText: "屋顶加建", ClosingText: "已拆除", TimeLimits: []limit{{AreaClass: "A", Amount: 10, Unit: taxonomy.UnitWorkDay}, {AreaClass: "C", Amount: 15, Unit: taxonomy.UnitWorkDay}}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.uc.DeactivateClass(ctx, src.Code, taxonomy.Component, "05"); err != nil {
			t.Fatal(err)
		}
		wantClasses, wantConds := snapshot(t, e, src)

		for i, format := range []taxonomy.Format{taxonomy.FormatCSV, taxonomy.FormatXLSX} {
			t.Run(string(format), func(t *testing.T) {
				out, err := e.uc.Export(ctx, src.Code, taxonomy.ExportInput{Format: format})
				if err != nil {
					t.Fatal(err)
				}
				if out.Version != 1 || out.Rows < 400 || !strings.HasSuffix(out.Filename, "v1."+string(format)) {
					t.Fatalf("export: v%d, %d rows, %s", out.Version, out.Rows, out.Filename)
				}
				dst := e.tenant(t, []string{"450181", "450100"}[i])
				res, err := e.uc.Import(as(dst), dst.Code, taxonomy.ImportInput{Data: out.Data})
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				if res.Version != 1 || res.Unchanged || res.Classes != len(wantClasses) || res.Conditions != len(wantConds) || len(res.Problems) != 0 {
					t.Fatalf("import result %+v", res)
				}
				gotClasses, gotConds := snapshot(t, e, dst)
				if diff := cmp.Diff(wantClasses, gotClasses, ignoreVersion); diff != "" {
					t.Errorf("classes (-src +dst):\n%s", diff)
				}
				if diff := cmp.Diff(wantConds, gotConds, ignoreVersion); diff != "" {
					t.Errorf("conditions (-src +dst):\n%s", diff)
				}
				back, err := e.uc.Export(as(dst), dst.Code, taxonomy.ExportInput{Format: taxonomy.FormatCSV})
				if err != nil {
					t.Fatal(err)
				}
				first, _ := e.uc.Export(ctx, src.Code, taxonomy.ExportInput{Format: taxonomy.FormatCSV})
				if !bytes.Equal(first.Data, back.Data) {
					t.Errorf("re-exported CSV differs from the original export")
				}
				// Importing a tenant's own export changes nothing.
				again, err := e.uc.Import(ctx, src.Code, taxonomy.ImportInput{Data: out.Data})
				if err != nil || !again.Unchanged || again.Version != 1 {
					t.Errorf("re-import = %+v, %v", again, err)
				}
			})
		}
	})
}

// An import creates version N+1 and keeps N; the kind the file does not
// cover is carried over.
func TestImportCreatesVersion(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		tn := e.tenant(t, "450126")
		e.seed(t, tn, taxonomy.SchemeGB47678)
		ctx := as(tn)
		file := header +
			"06,市容环境类,06001,私搭乱建,0600101,违法搭建,4工作时,1工作日,2工作日,已拆除,紧急,\n" +
			"06,市容环境类,06900,门前三包,,,,,,,,本地小类\n" +
			"90,扩展事件,,,,,,,,,,\n"
		res, err := e.uc.Import(ctx, tn.Code, taxonomy.ImportInput{Data: []byte(file), DefaultKind: taxonomy.Event})
		if err != nil || res.Version != 2 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		v2, _ := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{Kind: taxonomy.Event, IncludeInactive: true})
		comps, _ := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{Kind: taxonomy.Component})
		if len(v2.Classes) != 4 || len(comps.Classes) != 158 {
			t.Fatalf("version 2: %d events, %d components", len(v2.Classes), len(comps.Classes))
		}
		c, err := e.uc.GetClass(ctx, tn.Code, taxonomy.Event, "06900", 0)
		if err != nil || !c.Local || c.Scheme != taxonomy.SchemeLocal {
			t.Errorf("06900 = %+v, %v", c, err)
		}
		c, err = e.uc.GetClass(ctx, tn.Code, taxonomy.Event, "06001", 0)
		if err != nil || c.Local || c.NationalCode != "06001" || c.Scheme != taxonomy.StandardGB47678 {
			t.Errorf("06001 = %+v, %v", c, err)
		}
		conds, _ := e.uc.ListFilingConditions(ctx, tn.Code, taxonomy.Event, "06001", 0)
		if len(conds) != 1 || conds[0].Urgency != taxonomy.Urgent || len(conds[0].TimeLimits) != 3 || conds[0].TimeLimits[2].AreaClass != "C" {
			t.Errorf("06001 conditions %+v", conds)
		}
		old, _ := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{Kind: taxonomy.Event, Version: 1})
		if len(old.Classes) != 260 {
			t.Errorf("version 1 now has %d event classes", len(old.Classes))
		}
		// A legacy table on a 2026 tenant is a change of scheme: it must
		// cover both kinds.
		legacy := header + "01,市容环境,0101,私搭乱建,,,,,,,,\n"
		if _, err := e.uc.Import(ctx, tn.Code, taxonomy.ImportInput{Data: []byte(legacy), DefaultKind: taxonomy.Event}); reason(err) != "IMPORT_REJECTED" {
			t.Errorf("partial change of scheme: %v", err)
		}
	})
}

// Excel in China saves CSV in GBK; such a file is read as such.
func TestImportGBK(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		tn := e.tenant(t, "450126")
		text := header + "06,市容环境类,06010,暴露垃圾,0601001,零星暴露垃圾,4工作时,4工作时,1工作日,垃圾已清除,一般,\n"
		gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(gbk, []byte(text)) {
			t.Fatal("the GBK file is plain UTF-8")
		}
		res, err := e.uc.Import(as(tn), tn.Code, taxonomy.ImportInput{Data: gbk, DefaultKind: taxonomy.Event})
		if err != nil || res.Version != 1 || res.Classes != 2 || res.Conditions != 1 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		c, err := e.uc.GetClass(as(tn), tn.Code, taxonomy.Event, "06010", 0)
		if err != nil || c.NameZH != "暴露垃圾" {
			t.Fatalf("06010 = %+v, %v", c, err)
		}
	})
}

func TestImportRejectsBadFiles(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		tn := e.tenant(t, "450126")
		e.seed(t, tn, taxonomy.SchemeGB47678)
		ctx := as(tn)
		type want struct {
			Line   int
			Column string
		}
		for _, tc := range []struct {
			name string
			file string
			want []want
		}{
			{"missing column", strings.Replace(header, "小类名称,", "", 1) + "06,市容环境类,06001,0600101\n", []want{{1, "小类名称"}}},
			{"unknown column", strings.TrimSuffix(header, "\n") + ",环境属性\n06,市容环境类,06001,私搭乱建,,,,,,,,,\n", []want{{1, "环境属性"}}},
			{"bad time limits", header +
				"06,市容环境类,06001,私搭乱建,0600101,违建,4工作时,4天,,,一般,\n" +
				"06,市容环境类,06010,暴露垃圾,0601001,暴露垃圾,0工作时,,,,一般,\n" +
				"06,市容环境类,06012,道路不洁,0601201,道路不洁,20工作日(清扫4工作时/复查21工作日),,,,一般,\n",
				[]want{{2, "处置时限 B"}, {3, "处置时限 A"}, {4, "处置时限 A"}}},
			{"unknown parent", header +
				"06,市容环境类,06001,私搭乱建,,,,,,,,\n" +
				"06,市容环境类,0603301,医疗废物细类,,,,,,,,\n",
				[]want{{3, "小类代码"}}},
			{"rows that disagree", header +
				"06,市容环境类,06001,私搭乱建,0600101,违建,4工作时,,,,,\n" +
				"06,市容环境,06010,暴露垃圾,,,,,,,,\n" +
				"06,市容环境类,06001,私搭乱建,0600101,违建,4工作时,,,,,\n" +
				"6,市容环境类,6001,私搭乱建,0600102,无编码时限,,,,,,\n" +
				"06,市容环境类,07001,非法小广告,,,,,,,,\n",
				[]want{{3, "大类名称"}, {4, "立案条件编码"}, {5, "处置时限 A"}, {6, "小类代码"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.uc.Import(ctx, tn.Code, taxonomy.ImportInput{Data: []byte(tc.file), DefaultKind: taxonomy.Event})
				var probs taxonomy.Problems
				if reason(err) != "IMPORT_REJECTED" || !errors.As(err, &probs) {
					t.Fatalf("import: %v", err)
				}
				var got []want
				for _, p := range probs {
					if p.ZH == "" || p.EN == "" {
						t.Errorf("problem without both languages: %+v", p)
					}
					got = append(got, want{p.Line, p.Column})
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("problems (-want +got):\n%s\n%s", diff, probs.Summary("en", 20))
				}
				// Nothing was written: still version 1 only.
				l, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{})
				if err != nil || l.Version.Number != 1 {
					t.Errorf("after a rejected import: version %d, %v", l.Version.Number, err)
				}
				// Validation alone reports the same rows without an error,
				// unless the file as a whole is unusable.
				res, err := e.uc.Import(ctx, tn.Code, taxonomy.ImportInput{Data: []byte(tc.file), DefaultKind: taxonomy.Event, ValidateOnly: true})
				if tc.want[0].Line > 1 && (err != nil || len(res.Problems) != len(tc.want)) {
					t.Errorf("validate only = %+v, %v", res, err)
				}
			})
		}

		// With SkipBad the good rows are imported and the bad ones reported.
		file := header +
			"06,市容环境类,06001,私搭乱建,0600101,违建,4工作时,,,,,\n" +
			"06,市容环境类,06010,暴露垃圾,0601001,暴露垃圾,4周,,,,,\n"
		res, err := e.uc.Import(ctx, tn.Code, taxonomy.ImportInput{Data: []byte(file), DefaultKind: taxonomy.Event, SkipBad: true})
		if err != nil || res.Version != 2 || res.Conditions != 1 || len(res.Problems) != 1 || res.Problems[0].Line != 3 {
			t.Fatalf("skip bad = %+v, %v", res, err)
		}
		if _, err := e.uc.GetClass(ctx, tn.Code, taxonomy.Event, "06010", 0); reason(err) != "CLASS_NOT_FOUND" {
			t.Errorf("the skipped row's class was imported: %v", err)
		}
		for name, data := range map[string][]byte{
			"empty":       nil,
			"utf-16":      {0xFF, 0xFE, 'a', 0},
			"not gbk":     {0x81, 0x20, 0xFF, 0xFE, 0x80},
			"damaged zip": []byte("PK\x03\x04garbage"),
			"no kind":     []byte(header + "06,市容环境类,06001,私搭乱建,,,,,,,,\n"),
		} {
			if _, err := e.uc.Import(ctx, tn.Code, taxonomy.ImportInput{Data: data}); reason(err) != "IMPORT_REJECTED" {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// FuzzImportCSV feeds arbitrary bytes to the table parser: it must never
// panic, and what it accepts must be well-formed.
func FuzzImportCSV(f *testing.F) {
	ref, err := taxonomy.LoadReference()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(header + "06,市容环境类,06001,私搭乱建,0600101,违建,28工作日(停工4工作时/处罚7工作日/拆除20工作日),4工作时,,,紧急,\n"))
	f.Add([]byte(header + "6,市容,6001,x,1,y,1小时,2小时,30分钟,z,一般,\n06,市容,0600101,细,,,,,,,,\n"))
	f.Add([]byte("\uFEFF" + header + "\"06\",\"a,b\",\"\"\n"))
	f.Add([]byte("大类代码\n\"unterminated"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, probs := taxonomy.ParseTable(data, taxonomy.ParseOptions{DefaultKind: taxonomy.Event, Reference: ref})
		if tbl == nil {
			if len(probs) == 0 {
				t.Fatal("rejected without a problem")
			}
			return
		}
		for _, c := range tbl.Classes {
			if lvl, ok := tbl.Scheme.LevelOf(c.Code); !ok || lvl != c.Level || c.NameZH == "" {
				t.Fatalf("accepted malformed class %+v", c)
			}
		}
		for _, c := range tbl.Conditions {
			c := c
			if err := taxonomy.ValidateFilingCondition(&c); err != nil {
				t.Fatalf("accepted invalid condition %+v: %v", c, err)
			}
		}
		for _, p := range probs {
			if p.ZH == "" || p.EN == "" {
				t.Fatalf("problem without text %+v", p)
			}
		}
		_, _ = taxonomy.ParseLimit(string(data))
	})
}

// What spreadsheets do to a table — a title row, codes stored as numbers,
// full-width brackets, vendor column names — does not stop an import.
func TestParseTableSpreadsheetQuirks(t *testing.T) {
	t.Parallel()
	file := "宾阳县数字城管立结案标准（2026 版）,,,,\n" +
		"大类编码,大类名称,小类编码,小类名称,立案明细编码,立案标准,A类处置时限,处置时限（B）,处置时限 c,结案标准,是否紧急,说明,类型\n" +
		"6,市容环境类,6001,私搭乱建,0600101,违建,４工作时,1 个工作日,,已拆除,是,,事件\n" +
		"1,市政公用设施,1001,供水井盖,,,,,,,,,部件\n"
	tbl, probs := taxonomy.ParseTable([]byte(file), taxonomy.ParseOptions{})
	if len(probs) > 0 || tbl == nil {
		t.Fatalf("problems: %v", probs)
	}
	want := []taxonomy.Class{
		{Kind: taxonomy.Event, Level: taxonomy.Major, Code: "06", NameZH: "市容环境类", Active: true},
		{Kind: taxonomy.Event, Level: taxonomy.Minor, Code: "06001", ParentCode: "06", NameZH: "私搭乱建", Active: true},
		{Kind: taxonomy.Component, Level: taxonomy.Major, Code: "01", NameZH: "市政公用设施", Active: true},
		{Kind: taxonomy.Component, Level: taxonomy.Minor, Code: "01001", ParentCode: "01", NameZH: "供水井盖", Active: true},
	}
	if diff := cmp.Diff(want, tbl.Classes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
	wantCond := []taxonomy.FilingCondition{{Kind: taxonomy.Event, ClassCode: "06001", Code: "0600101", FilingText: "违建", ClosingText: "已拆除",
		Urgency: taxonomy.Urgent, TimeLimits: []limit{{AreaClass: "A", Amount: 4, Unit: taxonomy.UnitWorkHour}, {AreaClass: "B", Amount: 1, Unit: taxonomy.UnitWorkDay}}}}
	if diff := cmp.Diff(wantCond, tbl.Conditions); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if tbl.Scheme.ID != taxonomy.SchemeGB47678 || len(tbl.Kinds) != 2 {
		t.Errorf("scheme %s, kinds %v", tbl.Scheme.ID, tbl.Kinds)
	}
	// A header problem names the header's own line.
	_, probs = taxonomy.ParseTable([]byte("标题\n大类代码,大类名称,小类代码,立案条件编码,立案条件,处置时限 A\n"), taxonomy.ParseOptions{DefaultKind: taxonomy.Event})
	if len(probs) == 0 || probs[0].Line != 2 {
		t.Errorf("header problems %v", probs)
	}
}
