package taxonomy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
)

type limit = taxonomy.TimeLimit

func TestParseLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cell    string
		want    limit
		wantErr string
	}{
		{cell: "4工作时", want: limit{Amount: 4, Unit: taxonomy.UnitWorkHour}},
		{cell: "4 个工作小时", want: limit{Amount: 4, Unit: taxonomy.UnitWorkHour}},
		{cell: "1工作日", want: limit{Amount: 1, Unit: taxonomy.UnitWorkDay}},
		{cell: "0.5工作日", want: limit{Amount: 0.5, Unit: taxonomy.UnitWorkDay}},
		{cell: "３０分钟", want: limit{Amount: 30, Unit: taxonomy.UnitNaturalMinute}},
		{cell: " 2小时 ", want: limit{Amount: 2, Unit: taxonomy.UnitNaturalHour}},
		{cell: "28工作日（停工4工作时，处罚7工作日，拆除20工作日）", want: limit{Amount: 28, Unit: taxonomy.UnitWorkDay, Stages: []limit{
			{Stage: "停工", Amount: 4, Unit: taxonomy.UnitWorkHour},
			{Stage: "处罚", Amount: 7, Unit: taxonomy.UnitWorkDay},
			{Stage: "拆除", Amount: 20, Unit: taxonomy.UnitWorkDay},
		}}},
		{cell: "", wantErr: "empty"},
		{cell: "工作日", wantErr: "starts with a number"},
		{cell: "4", wantErr: "no unit"},
		{cell: "4天", wantErr: "unknown unit"},
		{cell: "4周", wantErr: "unknown unit"},
		{cell: "1.2.3工作日", wantErr: "not a number"},
		{cell: "2小时(到场1小时", wantErr: "unbalanced"},
		{cell: "2小时(1小时)", wantErr: "name + limit"},
		{cell: "2小时()", wantErr: "no stages"},
	} {
		got, err := taxonomy.ParseLimit(tc.cell)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLimit(%q) = %+v, %v; want error %q", tc.cell, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLimit(%q): %v", tc.cell, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseLimit(%q) (-want +got):\n%s", tc.cell, diff)
		}
		// What FormatLimit writes, ParseLimit reads back.
		again, err := taxonomy.ParseLimit(taxonomy.FormatLimit(got))
		if err != nil || !cmp.Equal(got, again) {
			t.Errorf("round trip of %q via %q = %+v, %v", tc.cell, taxonomy.FormatLimit(got), again, err)
		}
	}
}

func TestValidateTimeLimits(t *testing.T) {
	t.Parallel()
	wh := func(a float64) limit { return limit{Amount: a, Unit: taxonomy.UnitWorkHour} }
	wd := func(a float64) limit { return limit{Amount: a, Unit: taxonomy.UnitWorkDay} }
	area := func(l limit, a string) limit { l.AreaClass = a; return l }
	stage := func(name string, l limit) limit { l.Stage = name; return l }
	staged := func(total limit, stages ...limit) limit { total.Stages = stages; return total }
	for _, tc := range []struct {
		name   string
		limits []limit
		want   string // "" valid, else a substring of a violation's field
	}{
		{"one for every area", []limit{wh(4)}, ""},
		{"per area class", []limit{area(wh(4), "A"), area(wh(4), "B"), area(wd(1), "C")}, ""},
		{"natural minutes", []limit{{Amount: 30, Unit: taxonomy.UnitNaturalMinute}}, ""},
		{"staged 私搭乱建", []limit{staged(wd(28), stage("停工", wh(4)), stage("处罚", wd(7)), stage("拆除", wd(20)))}, ""},
		{"staged exactly the total", []limit{staged(wd(27.5), stage("停工", wh(4)), stage("处罚", wd(7)), stage("拆除", wd(20)))}, ""},
		{"none", nil, "time_limits"},
		{"zero amount", []limit{wh(0)}, "amount"},
		{"negative amount", []limit{wd(-1)}, "amount"},
		{"too long", []limit{wd(400)}, "amount"},
		{"unknown unit", []limit{{Amount: 1, Unit: "week"}}, "unit"},
		{"unknown area class", []limit{area(wh(4), "D")}, "area_class"},
		{"area class twice", []limit{area(wh(4), "A"), area(wh(2), "A")}, "area_class"},
		{"every area with A", []limit{wh(4), area(wh(2), "A")}, "time_limits"},
		{"stage name on a limit", []limit{stage("处置", wh(4))}, "stage"},
		{"stages over the total", []limit{staged(wd(20), stage("停工", wh(4)), stage("处罚", wd(7)), stage("拆除", wd(20)))}, "stages"},
		{"stage without a name", []limit{staged(wd(28), wd(7))}, "stage"},
		{"stage twice", []limit{staged(wd(28), stage("处罚", wd(7)), stage("处罚", wd(7)))}, "stage"},
		{"natural stage in working total", []limit{staged(wd(2), stage("到场", limit{Amount: 1, Unit: taxonomy.UnitNaturalHour}))}, "unit"},
		{"nested stages", []limit{staged(wd(28), staged(stage("拆除", wd(20)), stage("清运", wd(1))))}, "stages"},
		{"zero stage", []limit{staged(wd(28), stage("停工", wh(0)))}, "amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vs := taxonomy.ValidateTimeLimits(tc.limits)
			if tc.want == "" {
				if len(vs) > 0 {
					t.Fatalf("violations %v", vs)
				}
				return
			}
			for _, v := range vs {
				if strings.Contains(v.Field, tc.want) && v.ZH != "" && v.EN != "" {
					return
				}
			}
			t.Fatalf("violations %v, want one on %q", vs, tc.want)
		})
	}
}

func TestUpsertFilingCondition(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		a := e.tenant(t, "450126")
		e.seed(t, a, taxonomy.SchemeGB47678)
		ctx := as(a)
		good := taxonomy.FilingCondition{Kind: taxonomy.Event, ClassCode: "06036", Code: "0603601", FilingText: "人行道上乱堆杂物",
			TimeLimits: []limit{{AreaClass: "A", Amount: 4, Unit: taxonomy.UnitWorkHour}, {AreaClass: "B", Amount: 1, Unit: taxonomy.UnitWorkDay}}}
		for _, tc := range []struct {
			name    string
			edit    func(*taxonomy.FilingCondition)
			reason  string
			created bool
		}{
			{"created", func(*taxonomy.FilingCondition) {}, "", true},
			{"replaced", func(c *taxonomy.FilingCondition) { c.ClosingText = "已清理"; c.Urgency = taxonomy.Urgent }, "", false},
			{"unknown class", func(c *taxonomy.FilingCondition) { c.ClassCode = "06099" }, "CLASS_NOT_FOUND", false},
			{"on a major", func(c *taxonomy.FilingCondition) { c.ClassCode = "06" }, "CODE_INVALID", false},
			{"bad code", func(c *taxonomy.FilingCondition) { c.Code = "06 036" }, "INVALID_ARGUMENT", false},
			{"empty text", func(c *taxonomy.FilingCondition) { c.FilingText = "  " }, "INVALID_ARGUMENT", false},
			{"bad urgency", func(c *taxonomy.FilingCondition) { c.Urgency = "soon" }, "INVALID_ARGUMENT", false},
			{"bad limits", func(c *taxonomy.FilingCondition) { c.TimeLimits = []limit{{Amount: 0, Unit: "work_day"}} }, "INVALID_ARGUMENT", false},
		} {
			c := good
			tc.edit(&c)
			got, created, err := e.uc.UpsertFilingCondition(ctx, a.Code, c)
			if reason(err) != tc.reason || (err == nil && (created != tc.created || got.Version != 1)) {
				t.Errorf("%s: created %v, %v", tc.name, created, err)
			}
		}
		conds, err := e.uc.ListFilingConditions(ctx, a.Code, taxonomy.Event, "06036", 0)
		if err != nil || len(conds) != 1 || conds[0].ClosingText != "已清理" || conds[0].Urgency != taxonomy.Urgent || len(conds[0].TimeLimits) != 2 {
			t.Fatalf("conditions = %+v, %v", conds, err)
		}
		if _, err := e.uc.ListFilingConditions(context.Background(), a.Code, taxonomy.Event, "06036", 0); reason(err) != "UNAUTHENTICATED" {
			t.Errorf("without a viewer: %v", err)
		}
	})
}
