package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
)

type opt func(*dispatch.Rule)

func rule(code, dept string, opts ...opt) *dispatch.Rule {
	r := &dispatch.Rule{Code: code, DepartmentCode: dept, Kind: dispatch.KindMatrix, RegionLevel: dispatch.LevelAny,
		RotationPeriod: dispatch.RotationNone, Enabled: true}
	for _, o := range opts {
		o(r)
	}
	return r
}

func region(l dispatch.RegionLevel, code string) opt {
	return func(r *dispatch.Rule) { r.RegionLevel, r.RegionCode = l, code }
}
func class(c string) opt { return func(r *dispatch.Rule) { r.ClassCode = c } }
func prio(n int) opt     { return func(r *dispatch.Rule) { r.Priority = n } }
func window(from, to string) opt {
	return func(r *dispatch.Rule) { r.TimeFrom, r.TimeTo = from, to }
}
func cond(c string) opt      { return func(r *dispatch.Rule) { r.FilingConditionCode = c } }
func area(a string) opt      { return func(r *dispatch.Rule) { r.AreaClass = a } }
func fallback() opt          { return func(r *dispatch.Rule) { r.Kind = dispatch.KindFallback } }
func co(codes ...string) opt { return func(r *dispatch.Rule) { r.CoDepartmentCodes = codes } }
func disabled() opt          { return func(r *dispatch.Rule) { r.Enabled = false } }
func rotate(p dispatch.RotationPeriod, anchor time.Time, deps ...string) opt {
	return func(r *dispatch.Rule) {
		r.DepartmentCode, r.RotationPeriod, r.RotationAnchor, r.RotationDepartments = "", p, &anchor, deps
	}
}

const (
	grid      = "450126001001001"
	community = "450126001001"
	street    = "450126001"
	district  = "450126"
)

// active are the tenant's active departments: bureaus, the rotation
// teams, a street office coded by its street code and a maintenance
// company coded by its 统一社会信用代码.
var active = deps{"hw": true, "cgj": true, "szj": true, "ld": true, "yl": true, "a": true, "b": true, "c": true,
	street: true, "91450100MA5K00001X": true}

// newEngine is the use case over rules, the components and the class
// switches given (class 0101 on unless switches say otherwise).
func newEngine(t testing.TB, rules []*dispatch.Rule, cs comps, switches map[string]bool, now time.Time) *dispatch.Usecase {
	t.Helper()
	repo := newMemRepo()
	ctx := context.Background()
	for _, r := range rules {
		if _, err := repo.Create(ctx, 1, r); err != nil {
			t.Fatal(err)
		}
	}
	if switches == nil {
		switches = map[string]bool{"0101": true}
	}
	for c, on := range switches {
		if _, err := repo.SetSwitch(ctx, 1, &dispatch.Switch{ClassCode: c, Auto: on}); err != nil {
			t.Fatal(err)
		}
	}
	var components dispatch.Components
	if cs != nil {
		components = cs
	}
	return dispatch.NewUsecase(repo, active, components, tenants{}, noTx{}, dispatch.Config{Now: func() time.Time { return now }})
}

type want struct {
	auto             bool
	stage, rule, dep string
	co               []string
	cands            []string // candidate rule codes, best first
}

func got(d *dispatch.Decision) want {
	w := want{auto: d.Auto, stage: d.Stage, rule: d.RuleCode, dep: d.Department, co: d.CoDepartments}
	for _, c := range d.Candidates {
		w.cands = append(w.cands, c.RuleCode)
	}
	return w
}

func TestDecide(t *testing.T) {
	t.Parallel()
	base := dispatch.Subject{ClassCode: "0101", GridCode: grid, At: at("2026-11-23 10:00")}
	maint := &component.Component{ObjID: "4501260101000001", MaintainerCode: "yl", OwnerCode: "cgj", MainDeptCode: "szj"}
	tests := []struct {
		name     string
		rules    []*dispatch.Rule
		comps    comps
		switches map[string]bool
		edit     func(*dispatch.Subject)
		want     want
	}{
		{
			name:  "grid beats street beats any",
			rules: []*dispatch.Rule{rule("A", "szj"), rule("S", "cgj", region(dispatch.LevelStreet, street)), rule("G", "hw", region(dispatch.LevelGrid, grid))},
			want:  want{auto: true, stage: "matrix", rule: "G", dep: "hw", co: []string{}, cands: []string{"G", "S", "A"}},
		},
		{
			name:  "community beats street",
			rules: []*dispatch.Rule{rule("S", "cgj", region(dispatch.LevelStreet, street)), rule("C", "szj", region(dispatch.LevelCommunity, community))},
			want:  want{auto: true, stage: "matrix", rule: "C", dep: "szj", co: []string{}, cands: []string{"C", "S"}},
		},
		{
			name:  "region level comes before priority",
			rules: []*dispatch.Rule{rule("A", "szj", prio(100)), rule("D", "ld", region(dispatch.LevelDistrict, district))},
			want:  want{auto: true, stage: "matrix", rule: "D", dep: "ld", co: []string{}, cands: []string{"D", "A"}},
		},
		{
			name:  "higher priority wins at the same level",
			rules: []*dispatch.Rule{rule("S1", "cgj", region(dispatch.LevelStreet, street), prio(1)), rule("S2", "szj", region(dispatch.LevelStreet, street), prio(5))},
			want:  want{auto: true, stage: "matrix", rule: "S2", dep: "szj", co: []string{}, cands: []string{"S2", "S1"}},
		},
		{
			name:  "a priority tie is left to the dispatcher",
			rules: []*dispatch.Rule{rule("S1", "cgj", region(dispatch.LevelStreet, street), prio(3)), rule("S2", "szj", region(dispatch.LevelStreet, street), prio(3)), rule("A", "hw")},
			want:  want{stage: "matrix", cands: []string{"S1", "S2", "A"}},
		},
		{
			name:  "a narrower class breaks a tie",
			rules: []*dispatch.Rule{rule("MAJOR", "cgj", class("01")), rule("MINOR", "hw", class("0101")), rule("ANY", "szj")},
			want:  want{auto: true, stage: "matrix", rule: "MINOR", dep: "hw", co: []string{}, cands: []string{"MINOR", "MAJOR", "ANY"}},
		},
		{
			name:  "a 细类 rule matches the case's detail code",
			rules: []*dispatch.Rule{rule("DETAIL", "ld", class("010101")), rule("OTHER", "cgj", class("010102"))},
			edit:  func(s *dispatch.Subject) { s.DetailCode = "010101" },
			want:  want{auto: true, stage: "matrix", rule: "DETAIL", dep: "ld", co: []string{}, cands: []string{"DETAIL"}},
		},
		{
			name: "filing condition and area class narrow",
			rules: []*dispatch.Rule{rule("CLASS", "cgj", class("0101")), rule("COND", "hw", class("0101"), cond("0101-01"), area("A")),
				rule("OTHERCOND", "szj", class("0101"), cond("0101-02")), rule("AREAB", "ld", area("B"))},
			edit: func(s *dispatch.Subject) { s.FilingConditionCode, s.AreaClass = "0101-01", "A" },
			want: want{auto: true, stage: "matrix", rule: "COND", dep: "hw", co: []string{}, cands: []string{"COND", "CLASS"}},
		},
		{
			name:  "another class does not match",
			rules: []*dispatch.Rule{rule("OTHER", "cgj", class("0102")), rule("ANY", "szj")},
			want:  want{auto: true, stage: "matrix", rule: "ANY", dep: "szj", co: []string{}, cands: []string{"ANY"}},
		},
		{
			name:  "day window",
			rules: []*dispatch.Rule{rule("DAY", "cgj", window("08:00", "18:00")), rule("NIGHT", "hw", window("18:00", "08:00"))},
			want:  want{auto: true, stage: "matrix", rule: "DAY", dep: "cgj", co: []string{}, cands: []string{"DAY"}},
		},
		{
			name:  "night window wraps past midnight (23:00)",
			rules: []*dispatch.Rule{rule("DAY", "cgj", window("08:00", "18:00")), rule("NIGHT", "hw", window("18:00", "08:00"))},
			edit:  func(s *dispatch.Subject) { s.At = at("2026-11-23 23:00") },
			want:  want{auto: true, stage: "matrix", rule: "NIGHT", dep: "hw", co: []string{}, cands: []string{"NIGHT"}},
		},
		{
			name:  "night window wraps past midnight (03:00, UTC the day before)",
			rules: []*dispatch.Rule{rule("DAY", "cgj", window("08:00", "18:00")), rule("NIGHT", "hw", window("18:00", "08:00"))},
			edit:  func(s *dispatch.Subject) { s.At = at("2026-11-24 03:00").UTC() },
			want:  want{auto: true, stage: "matrix", rule: "NIGHT", dep: "hw", co: []string{}, cands: []string{"NIGHT"}},
		},
		{
			name:  "a window includes its start",
			rules: []*dispatch.Rule{rule("DAY", "cgj", window("08:00", "18:00")), rule("NIGHT", "hw", window("18:00", "08:00"))},
			edit:  func(s *dispatch.Subject) { s.At = at("2026-11-23 08:00") },
			want:  want{auto: true, stage: "matrix", rule: "DAY", dep: "cgj", co: []string{}, cands: []string{"DAY"}},
		},
		{
			name:  "a window excludes its end",
			rules: []*dispatch.Rule{rule("DAY", "cgj", window("08:00", "18:00")), rule("NIGHT", "hw", window("18:00", "08:00"))},
			edit:  func(s *dispatch.Subject) { s.At = at("2026-11-23 18:00") },
			want:  want{auto: true, stage: "matrix", rule: "NIGHT", dep: "hw", co: []string{}, cands: []string{"NIGHT"}},
		},
		{
			name:  "a windowed rule beats an all-day rule of the same rank",
			rules: []*dispatch.Rule{rule("ALLDAY", "cgj"), rule("NIGHT", "hw", window("22:00", "06:00"))},
			edit:  func(s *dispatch.Subject) { s.At = at("2026-11-23 23:30") },
			want:  want{auto: true, stage: "matrix", rule: "NIGHT", dep: "hw", co: []string{}, cands: []string{"NIGHT", "ALLDAY"}},
		},
		{
			name:  "a disabled rule is ignored",
			rules: []*dispatch.Rule{rule("G", "hw", region(dispatch.LevelGrid, grid), disabled()), rule("A", "szj")},
			want:  want{auto: true, stage: "matrix", rule: "A", dep: "szj", co: []string{}, cands: []string{"A"}},
		},
		{
			name:  "co-departments come along",
			rules: []*dispatch.Rule{rule("A", "cgj", co("szj", "ld"))},
			want:  want{auto: true, stage: "matrix", rule: "A", dep: "cgj", co: []string{"szj", "ld"}, cands: []string{"A"}},
		},
		{
			name:  "region codes come from the grid code",
			rules: []*dispatch.Rule{rule("S", "cgj", region(dispatch.LevelStreet, street)), rule("OTHER", "hw", region(dispatch.LevelStreet, "450126002"))},
			edit:  func(s *dispatch.Subject) { s.GridCode = grid },
			want:  want{auto: true, stage: "matrix", rule: "S", dep: "cgj", co: []string{}, cands: []string{"S"}},
		},
		{
			name:  "fallback when no matrix rule matches",
			rules: []*dispatch.Rule{rule("G2", "hw", region(dispatch.LevelGrid, "450126001001002")), rule("FB", "yl", fallback())},
			want:  want{auto: true, stage: "fallback", rule: "FB", dep: "yl", co: []string{}, cands: []string{"FB"}},
		},
		{
			name:  "no fallback when a matrix rule matches",
			rules: []*dispatch.Rule{rule("FB", "yl", fallback(), region(dispatch.LevelGrid, grid)), rule("A", "szj")},
			want:  want{auto: true, stage: "matrix", rule: "A", dep: "szj", co: []string{}, cands: []string{"A"}},
		},
		{
			name: "territory suggests the street's department, never automatically",
			want: want{stage: "territory", rule: "territory:" + street, dep: street, co: []string{}, cands: []string{"territory:" + street}},
		},
		{
			name: "nothing matches",
			edit: func(s *dispatch.Subject) { s.GridCode = "450181001001001" },
			want: want{stage: "none"},
		},
		{
			name:     "class switched off: a suggestion and its candidates only",
			rules:    []*dispatch.Rule{rule("G", "hw", region(dispatch.LevelGrid, grid)), rule("A", "szj")},
			switches: map[string]bool{"0101": false},
			want:     want{stage: "matrix", rule: "G", dep: "hw", co: []string{}, cands: []string{"G", "A"}},
		},
		{
			name:     "class without a switch",
			rules:    []*dispatch.Rule{rule("G", "hw", region(dispatch.LevelGrid, grid))},
			switches: map[string]bool{"0102": true},
			want:     want{stage: "matrix", rule: "G", dep: "hw", co: []string{}, cands: []string{"G"}},
		},
		{
			name:  "an inactive department is not dispatched to",
			rules: []*dispatch.Rule{rule("G", "gone", region(dispatch.LevelGrid, grid))},
			want:  want{stage: "matrix", rule: "G", dep: "gone", co: []string{}, cands: []string{"G"}},
		},
		{
			name:  "component: the maintainer (养护) first",
			rules: []*dispatch.Rule{rule("G", "hw", region(dispatch.LevelGrid, grid))},
			comps: comps{maint.ObjID: maint},
			edit:  func(s *dispatch.Subject) { s.ComponentObjID = maint.ObjID },
			want: want{auto: true, stage: "component", rule: "component:maintainer", dep: "yl", co: []string{},
				cands: []string{"component:maintainer", "component:owner", "component:main"}},
		},
		{
			name:  "component: the owner (权属) when the maintainer is no department",
			comps: comps{maint.ObjID: {ObjID: maint.ObjID, MaintainerCode: "91450100MA5K00009Y", OwnerCode: "91450100MA5K00001X", MainDeptCode: "szj"}},
			edit:  func(s *dispatch.Subject) { s.ComponentObjID = maint.ObjID },
			want: want{auto: true, stage: "component", rule: "component:owner", dep: "91450100MA5K00001X", co: []string{},
				cands: []string{"component:owner", "component:main"}},
		},
		{
			name:  "component: the main department (主管) last",
			comps: comps{maint.ObjID: {ObjID: maint.ObjID, OwnerCode: "nobody", MainDeptCode: "szj"}},
			edit:  func(s *dispatch.Subject) { s.ComponentObjID = maint.ObjID },
			want:  want{auto: true, stage: "component", rule: "component:main", dep: "szj", co: []string{}, cands: []string{"component:main"}},
		},
		{
			name:  "component: one unit in two roles is one candidate",
			comps: comps{maint.ObjID: {ObjID: maint.ObjID, MaintainerCode: "cgj", OwnerCode: "cgj", MainDeptCode: "szj"}},
			edit:  func(s *dispatch.Subject) { s.ComponentObjID = maint.ObjID },
			want: want{auto: true, stage: "component", rule: "component:maintainer", dep: "cgj", co: []string{},
				cands: []string{"component:maintainer", "component:main"}},
		},
		{
			name:  "component: no unit is a department, so the matrix decides",
			rules: []*dispatch.Rule{rule("G", "hw", region(dispatch.LevelGrid, grid))},
			comps: comps{maint.ObjID: {ObjID: maint.ObjID, MaintainerCode: "x", OwnerCode: "y"}},
			edit:  func(s *dispatch.Subject) { s.ComponentObjID = maint.ObjID },
			want:  want{auto: true, stage: "matrix", rule: "G", dep: "hw", co: []string{}, cands: []string{"G"}},
		},
		{
			name:  "component: unknown, so the matrix decides",
			rules: []*dispatch.Rule{rule("G", "hw", region(dispatch.LevelGrid, grid))},
			comps: comps{},
			edit:  func(s *dispatch.Subject) { s.ComponentObjID = "4501260101999999" },
			want:  want{auto: true, stage: "matrix", rule: "G", dep: "hw", co: []string{}, cands: []string{"G"}},
		},
		{
			name:     "component with the class switched off",
			comps:    comps{maint.ObjID: maint},
			switches: map[string]bool{},
			edit:     func(s *dispatch.Subject) { s.ComponentObjID = maint.ObjID },
			want: want{stage: "component", rule: "component:maintainer", dep: "yl", co: []string{},
				cands: []string{"component:maintainer", "component:owner", "component:main"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newEngine(t, tt.rules, tt.comps, tt.switches, at("2000-01-01 00:00"))
			s := base
			if tt.edit != nil {
				tt.edit(&s)
			}
			d, err := u.Preview(as(1), "450126", s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got(d), cmp.AllowUnexported(want{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decision (-want +got):\n%s\nreason: %s", diff, d.Reason)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
			if d.Auto != (d.Reason[:len("自动派遣")] == "自动派遣") {
				t.Errorf("auto %v but reason %q", d.Auto, d.Reason)
			}
		})
	}
}

func TestDecideRotation(t *testing.T) {
	t.Parallel()
	anchor := at("2026-01-01 08:00")
	monthAnchor := at("2026-01-31 08:00")
	tests := []struct {
		name   string
		period dispatch.RotationPeriod
		anchor time.Time
		at     string
		want   string
	}{
		{"day: first turn", dispatch.RotationDay, anchor, "2026-01-01 09:00", "a"},
		{"day: a turn ends at the anchor's clock", dispatch.RotationDay, anchor, "2026-01-02 07:59", "a"},
		{"day: second turn", dispatch.RotationDay, anchor, "2026-01-02 08:00", "b"},
		{"day: third turn", dispatch.RotationDay, anchor, "2026-01-03 12:00", "c"},
		{"day: back to the first", dispatch.RotationDay, anchor, "2026-01-04 08:00", "a"},
		{"day: before the anchor counts backwards", dispatch.RotationDay, anchor, "2025-12-31 09:00", "c"},
		{"day: a year on", dispatch.RotationDay, anchor, "2027-01-01 08:00", "c"}, // 365 days: 365 mod 3 = 2
		{"week: first", dispatch.RotationWeek, anchor, "2026-01-07 23:00", "a"},
		{"week: second", dispatch.RotationWeek, anchor, "2026-01-08 08:00", "b"},
		{"week: fourth", dispatch.RotationWeek, anchor, "2026-01-22 08:00", "a"},
		{"month: first", dispatch.RotationMonth, anchor, "2026-01-31 23:00", "a"},
		{"month: second", dispatch.RotationMonth, anchor, "2026-02-01 08:00", "b"},
		{"month: before the turn's day", dispatch.RotationMonth, at("2026-01-15 08:00"), "2026-02-14 23:59", "a"},
		{"month: on the turn's day", dispatch.RotationMonth, at("2026-01-15 08:00"), "2026-02-15 08:00", "b"},
		{"month: the 31st turns on the month's last day", dispatch.RotationMonth, monthAnchor, "2026-02-28 08:00", "b"},
		{"month: not before it", dispatch.RotationMonth, monthAnchor, "2026-02-28 07:00", "a"},
		{"month: back to the 31st", dispatch.RotationMonth, monthAnchor, "2026-03-30 08:00", "b"},
		{"month: a year on", dispatch.RotationMonth, anchor, "2027-01-01 08:00", "a"}, // 12 mod 3 = 0
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newEngine(t, []*dispatch.Rule{rule("R", "", rotate(tt.period, tt.anchor, "a", "b", "c"), co("b", "szj"))}, nil, nil, time.Time{})
			d, err := u.Preview(as(1), "450126", dispatch.Subject{ClassCode: "0101", At: at(tt.at)})
			if err != nil {
				t.Fatal(err)
			}
			if !d.Auto || d.RuleCode != "R" || d.Department != tt.want {
				t.Fatalf("decision %+v, want department %s", d, tt.want)
			}
			for _, c := range d.CoDepartments {
				if c == d.Department {
					t.Errorf("the department of the turn %s is also a co-department: %v", c, d.CoDepartments)
				}
			}
		})
	}
}

func TestPeriodsSince(t *testing.T) {
	t.Parallel()
	a := at("2026-01-31 08:00")
	for _, tt := range []struct {
		at   string
		p    dispatch.RotationPeriod
		want int64
	}{
		{"2026-01-31 08:00", dispatch.RotationMonth, 0},
		{"2026-02-28 07:59", dispatch.RotationMonth, 0},
		{"2026-02-28 08:00", dispatch.RotationMonth, 1},
		{"2026-03-31 08:00", dispatch.RotationMonth, 2},
		{"2026-01-30 08:00", dispatch.RotationMonth, -1},
		{"2025-12-31 08:00", dispatch.RotationMonth, -1},
		{"2025-12-31 07:00", dispatch.RotationMonth, -2},
		{"2026-01-30 08:00", dispatch.RotationDay, -1},
		{"2026-01-31 07:59", dispatch.RotationDay, -1},
		{"2026-02-07 08:00", dispatch.RotationWeek, 1},
		{"2026-02-07 07:59", dispatch.RotationWeek, 0},
		{"2026-02-07 07:59", dispatch.RotationNone, 0},
	} {
		if got := dispatch.PeriodsSince(a, at(tt.at), tt.p, cst); got != tt.want {
			t.Errorf("PeriodsSince(%s, %s, %s) = %d, want %d", a, tt.at, tt.p, got, tt.want)
		}
	}
}

// TestDecideForCase is the case loop's view: the filing time, not the
// clock, picks the window, and the decision maps to caseflow's.
func TestDecideForCase(t *testing.T) {
	t.Parallel()
	u := newEngine(t, []*dispatch.Rule{rule("DAY", "cgj", window("08:00", "18:00")), rule("NIGHT", "hw", window("18:00", "08:00"), co("ld"))},
		nil, nil, at("2026-11-23 10:00"))
	filed := at("2026-11-23 22:00").UTC()
	d, err := u.Decide(as(1), &caseflow.Case{TenantID: 1, ClassCode: "0101", GridCode: grid, FiledAt: &filed})
	if err != nil {
		t.Fatal(err)
	}
	want := &caseflow.DispatchDecision{Auto: true, RuleCode: "NIGHT", Department: "hw", CoDepartments: []string{"ld"},
		Candidates: []caseflow.DispatchCandidate{{RuleCode: "NIGHT", Department: "hw", CoDepartments: []string{"ld"}}}}
	if diff := cmp.Diff(want, d, cmpopts.IgnoreFields(caseflow.DispatchDecision{}, "Reason"), cmpopts.IgnoreFields(caseflow.DispatchCandidate{}, "Reason")); diff != "" {
		t.Errorf("decision (-want +got):\n%s", diff)
	}
	// Without a filing time the clock decides; without a tenant id the viewer's.
	d, err = u.Decide(as(1), &caseflow.Case{ClassCode: "0101", GridCode: grid})
	if err != nil || d.RuleCode != "DAY" {
		t.Fatalf("decide by the clock = %+v, %v", d, err)
	}
	if _, err := u.Decide(context.Background(), &caseflow.Case{ClassCode: "0101"}); err == nil {
		t.Fatal("decide without a viewer or tenant succeeded")
	}
}

func TestCounters(t *testing.T) {
	t.Parallel()
	u := newEngine(t, []*dispatch.Rule{rule("A", "cgj")}, nil, nil, time.Time{})
	ctx := as(1)
	for _, code := range []string{"A", "A", "A", "component:maintainer", "territory:450126001", "", "DELETED"} {
		if err := u.Dispatched(ctx, code); err != nil {
			t.Fatalf("dispatched %q: %v", code, err)
		}
	}
	if err := u.Returned(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	r, err := u.Get(ctx, "450126", "A")
	if err != nil || r.DispatchCount != 3 || r.ReturnCount != 1 || r.ReturnRate() != 1.0/3 {
		t.Fatalf("counters %+v, %v", r, err)
	}
}
