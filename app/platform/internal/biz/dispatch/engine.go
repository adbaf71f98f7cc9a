package dispatch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

// Stages of the resolution order (see the package documentation).
const (
	StageComponent = "component"
	StageMatrix    = "matrix"
	StageFallback  = "fallback"
	StageTerritory = "territory"
	StageNone      = "none"
)

// Prefixes of the rule codes the engine makes up for decisions no rule
// row took: they contain a colon, which rule codes cannot.
const (
	ComponentRulePrefix = "component:"
	TerritoryRulePrefix = "territory:"
)

// Decision is what the engine decides for a subject: the case loop's
// DispatchDecision, the stage that decided and whether the subject's class
// is switched to auto.
type Decision struct {
	caseflow.DispatchDecision
	Stage     string
	ClassAuto bool
}

// scored is a matching rule with the department it resolves to now.
type scored struct {
	rule       *Rule
	level      int
	spec       int
	department string
	co         []string
}

// specificity scores what a rule names besides its region, for ranking
// rules of the same region level and priority: a longer (narrower) class
// code first, then a filing condition, an area class, a time window.
func specificity(r *Rule) int {
	s := len(r.ClassCode) * 16
	if r.FilingConditionCode != "" {
		s += 4
	}
	if r.AreaClass != "" {
		s += 2
	}
	if r.TimeFrom != "" {
		s++
	}
	return s
}

// compareScored orders the better rule first: region level, priority,
// specificity, then code so the order is stable.
func compareScored(a, b *scored) int {
	if c := cmp.Compare(b.level, a.level); c != 0 {
		return c
	}
	if c := cmp.Compare(b.rule.Priority, a.rule.Priority); c != 0 {
		return c
	}
	if c := cmp.Compare(b.spec, a.spec); c != 0 {
		return c
	}
	return strings.Compare(a.rule.Code, b.rule.Code)
}

func sameRank(a, b *scored) bool {
	return a.level == b.level && a.rule.Priority == b.rule.Priority && a.spec == b.spec
}

// minuteOfDay is t's minutes after midnight in loc.
func minuteOfDay(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	return l.Hour()*60 + l.Minute()
}

// inWindow reports whether minute lies in [from, to), wrapping past
// midnight when to < from. A rule without a window always matches.
func (r *Rule) inWindow(minute int) bool {
	if r.TimeFrom == "" && r.TimeTo == "" {
		return true
	}
	from, _, ok1 := ParseClock(r.TimeFrom)
	to, _, ok2 := ParseClock(r.TimeTo)
	if !ok1 || !ok2 {
		return false
	}
	if from < to {
		return minute >= from && minute < to
	}
	return minute >= from || minute < to
}

// matches reports whether the enabled rule r applies to s (normalized) at
// minute of the day.
func (r *Rule) matches(s *Subject, minute int) bool {
	if !r.Enabled {
		return false
	}
	if r.ClassCode != "" && !(s.ClassCode != "" && strings.HasPrefix(s.ClassCode, r.ClassCode)) &&
		!(s.DetailCode != "" && strings.HasPrefix(s.DetailCode, r.ClassCode)) {
		return false
	}
	if r.FilingConditionCode != "" && r.FilingConditionCode != s.FilingConditionCode {
		return false
	}
	if r.AreaClass != "" && r.AreaClass != s.AreaClass {
		return false
	}
	var code string
	switch r.RegionLevel {
	case LevelAny:
	case LevelGrid:
		code = s.GridCode
	case LevelCommunity:
		code = s.CommunityCode
	case LevelStreet:
		code = s.StreetCode
	case LevelDistrict:
		code = s.DistrictCode
	default:
		return false
	}
	if r.RegionLevel != LevelAny && (code == "" || code != r.RegionCode) {
		return false
	}
	return r.inWindow(minute)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// addMonths moves t by n calendar months in its location, keeping the
// clock and clamping the day to the month's last (31 Jan + 1 = 28/29 Feb).
func addMonths(t time.Time, n int) time.Time {
	m := int(t.Month()) - 1 + n
	y := t.Year() + int(floorDiv(int64(m), 12))
	m = int(int64(m) - floorDiv(int64(m), 12)*12)
	last := time.Date(y, time.Month(m+2), 0, 0, 0, 0, 0, t.Location()).Day()
	return time.Date(y, time.Month(m+1), min(t.Day(), last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// PeriodsSince counts the whole rotation periods from anchor to t in loc;
// negative before the anchor. A turn begins at the anchor's clock time:
// with an anchor of 08:00 the day's department changes at 08:00. A month
// turn begins on the anchor's day of the month (or the month's last day).
func PeriodsSince(anchor, t time.Time, p RotationPeriod, loc *time.Location) int64 {
	switch p {
	case RotationDay:
		return floorDiv(int64(t.Sub(anchor)), int64(24*time.Hour))
	case RotationWeek:
		return floorDiv(int64(t.Sub(anchor)), int64(7*24*time.Hour))
	case RotationMonth:
		a, x := anchor.In(loc), t.In(loc)
		n := (x.Year()-a.Year())*12 + int(x.Month()) - int(a.Month())
		if x.Before(addMonths(a, n)) {
			n--
		}
		return int64(n)
	}
	return 0
}

// resolve returns the departments the rule gives the work to at t: its
// department, or the rotation's department of the turn (dropped from the
// co-departments should it be one of them).
func (r *Rule) resolve(t time.Time, loc *time.Location) (string, []string) {
	if r.RotationPeriod == RotationNone || r.RotationPeriod == "" || len(r.RotationDepartments) == 0 || r.RotationAnchor == nil {
		return r.DepartmentCode, slices.Clone(r.CoDepartmentCodes)
	}
	n := int64(len(r.RotationDepartments))
	i := PeriodsSince(*r.RotationAnchor, t, r.RotationPeriod, loc) % n
	if i < 0 {
		i += n
	}
	dep := r.RotationDepartments[i]
	co := make([]string, 0, len(r.CoDepartmentCodes))
	for _, c := range r.CoDepartmentCodes {
		if c != dep {
			co = append(co, c)
		}
	}
	return dep, co
}

// describe says in Chinese what a rule matched on; it is written into the
// case's timeline.
func (r *Rule) describe() string {
	var b strings.Builder
	b.WriteString("规则 ")
	b.WriteString(r.Code)
	if r.Name != "" {
		fmt.Fprintf(&b, "「%s」", r.Name)
	}
	parts := []string{}
	if r.Kind == KindFallback {
		parts = append(parts, "兜底")
	}
	if r.RegionLevel == LevelAny || r.RegionLevel == "" {
		parts = append(parts, "全部区域")
	} else {
		parts = append(parts, levelZH(r.RegionLevel)+" "+r.RegionCode)
	}
	if r.ClassCode != "" {
		parts = append(parts, "小类 "+r.ClassCode)
	}
	if r.FilingConditionCode != "" {
		parts = append(parts, "立案条件 "+r.FilingConditionCode)
	}
	if r.AreaClass != "" {
		parts = append(parts, "区域类别 "+r.AreaClass)
	}
	if r.TimeFrom != "" {
		parts = append(parts, r.TimeFrom+"–"+r.TimeTo)
	}
	if r.RotationPeriod != RotationNone && r.RotationPeriod != "" {
		parts = append(parts, map[RotationPeriod]string{RotationDay: "按日", RotationWeek: "按周", RotationMonth: "按月"}[r.RotationPeriod]+"轮换")
	}
	parts = append(parts, fmt.Sprintf("优先级 %d", r.Priority))
	b.WriteString("（")
	b.WriteString(strings.Join(parts, "，"))
	b.WriteString("）")
	return b.String()
}

// unit is one of a component's units in the 养护 → 权属 → 主管 order.
type unit struct {
	role, zh, code string
}

// decide runs the resolution order for s in the tenant, from the
// tenant's snapshot when it has one (no query but the component's), else
// from storage.
func (u *Usecase) decide(ctx context.Context, tenantID int, s Subject) (*Decision, error) {
	s.normalize()
	snap, err := u.snapshot(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var rd reads = storage{u}
	if snap != nil {
		rd = snap
	}
	d := &Decision{Stage: StageNone}
	if s.ClassCode != "" {
		on, err := rd.autoOn(ctx, tenantID, s.ClassCode)
		if err != nil {
			return nil, err
		}
		d.ClassAuto = on
	}
	var notes []string
	if s.ComponentObjID != "" && u.comps != nil {
		done, note, err := u.byComponent(ctx, rd, tenantID, &s, d)
		if err != nil || done {
			return d, err
		}
		notes = append(notes, note)
	}
	done, err := u.byRules(ctx, rd, tenantID, &s, d, notes)
	if err != nil || done {
		return d, err
	}
	return d, u.byTerritory(ctx, rd, tenantID, &s, d, notes)
}

// withSwitch finishes a decision that has a winner: automatic when the
// class is switched on and the departments are active.
func (d *Decision) withSwitch(classCode, why string, inactive []string) {
	switch {
	case len(inactive) > 0:
		d.Reason = why + "；责任单位不存在或已停用：" + strings.Join(inactive, ",") + "，需派遣员处理"
	case classCode == "":
		d.Reason = why + "；案件没有小类，需派遣员确认"
	case !d.ClassAuto:
		d.Reason = why + "；小类 " + classCode + " 未开启自动派遣，需派遣员确认"
	default:
		d.Auto = true
		d.Reason = "自动派遣：" + why
	}
}

func (u *Usecase) byComponent(ctx context.Context, rd reads, tenantID int, s *Subject, d *Decision) (bool, string, error) {
	c, err := u.comps.Get(ctx, tenantID, s.ComponentObjID)
	if err != nil {
		if registryv1.IsComponentNotFound(err) {
			return false, "部件 " + s.ComponentObjID + " 不在部件库中", nil
		}
		return false, "", fmt.Errorf("dispatch: component %s: %w", s.ComponentObjID, err)
	}
	units := []unit{{"maintainer", "养护单位", c.MaintainerCode}, {"owner", "权属单位", c.OwnerCode}, {"main", "主管部门", c.MainDeptCode}}
	var codes []string
	for _, x := range units {
		if x.code != "" {
			codes = append(codes, x.code)
		}
	}
	if len(codes) == 0 {
		return false, "部件 " + s.ComponentObjID + " 没有养护、权属或主管单位", nil
	}
	active, err := rd.active(ctx, tenantID, codes)
	if err != nil {
		return false, "", err
	}
	seen := map[string]bool{}
	for _, x := range units {
		if x.code == "" || !active[x.code] || seen[x.code] {
			continue
		}
		seen[x.code] = true
		d.Candidates = append(d.Candidates, caseflow.DispatchCandidate{
			RuleCode: ComponentRulePrefix + x.role, Department: x.code, CoDepartments: []string{},
			Reason: "部件 " + s.ComponentObjID + " 的" + x.zh + " " + x.code,
		})
	}
	if len(d.Candidates) == 0 {
		return false, "部件 " + s.ComponentObjID + " 的养护、权属、主管单位都不是在用的责任单位", nil
	}
	w := d.Candidates[0]
	d.Stage, d.RuleCode, d.Department, d.CoDepartments = StageComponent, w.RuleCode, w.Department, []string{}
	d.withSwitch(s.ClassCode, w.Reason, nil)
	return true, "", nil
}

func (u *Usecase) byRules(ctx context.Context, rd reads, tenantID int, s *Subject, d *Decision, notes []string) (bool, error) {
	rules, err := rd.candidates(ctx, tenantID, s)
	if err != nil {
		return false, err
	}
	minute := minuteOfDay(s.At, u.cfg.Location)
	var matrix, fallback []*scored
	for _, r := range rules {
		if !r.matches(s, minute) {
			continue
		}
		x := &scored{rule: r, level: r.RegionLevel.rank(), spec: specificity(r)}
		x.department, x.co = r.resolve(s.At, u.cfg.Location)
		if r.Kind == KindFallback {
			fallback = append(fallback, x)
		} else {
			matrix = append(matrix, x)
		}
	}
	tier, stage := matrix, StageMatrix
	if len(tier) == 0 {
		tier, stage = fallback, StageFallback
	}
	if len(tier) == 0 {
		return false, nil
	}
	slices.SortFunc(tier, compareScored)
	var codes []string
	for _, x := range tier {
		codes = append(codes, x.department)
		codes = append(codes, x.co...)
	}
	active, err := rd.active(ctx, tenantID, codes)
	if err != nil {
		return false, err
	}
	inactiveOf := func(x *scored) []string {
		var out []string
		for _, c := range append([]string{x.department}, x.co...) {
			if !active[c] && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out
	}
	for _, x := range tier {
		reason := rd.describe(x.rule)
		if in := inactiveOf(x); len(in) > 0 {
			reason += "；责任单位不存在或已停用：" + strings.Join(in, ",")
		}
		d.Candidates = append(d.Candidates, caseflow.DispatchCandidate{
			RuleCode: x.rule.Code, Department: x.department, CoDepartments: nonNil(x.co), Reason: reason,
		})
	}
	d.Stage = stage
	prefix := strings.Join(notes, "；")
	if prefix != "" {
		prefix += "；"
	}
	winners := 1
	for winners < len(tier) && sameRank(tier[0], tier[winners]) {
		winners++
	}
	if winners > 1 {
		tied := make([]string, winners)
		for i := range tied {
			tied[i] = tier[i].rule.Code
		}
		d.Reason = fmt.Sprintf("%s%d 条规则同等匹配（%s），需派遣员选择", prefix, winners, strings.Join(tied, "、"))
		return true, nil
	}
	w := tier[0]
	d.RuleCode, d.Department, d.CoDepartments = w.rule.Code, w.department, nonNil(w.co)
	d.withSwitch(s.ClassCode, prefix+rd.describe(w.rule), inactiveOf(w))
	return true, nil
}

func (u *Usecase) byTerritory(ctx context.Context, rd reads, tenantID int, s *Subject, d *Decision, notes []string) error {
	prefix := strings.Join(notes, "；")
	if prefix != "" {
		prefix += "；"
	}
	type place struct{ zh, code string }
	var places []place
	var codes []string
	for _, p := range []place{{"街道", s.StreetCode}, {"区县", s.DistrictCode}} {
		if p.code != "" {
			places = append(places, p)
			codes = append(codes, p.code)
		}
	}
	if len(codes) > 0 {
		active, err := rd.active(ctx, tenantID, codes)
		if err != nil {
			return err
		}
		for _, p := range places {
			if !active[p.code] {
				continue
			}
			why := "属地兜底：" + p.zh + " " + p.code + " 的责任单位（没有匹配的派遣规则；属地兜底不自动派遣，需派遣员确认）"
			d.Stage, d.RuleCode, d.Department, d.CoDepartments = StageTerritory, TerritoryRulePrefix+p.code, p.code, []string{}
			d.Candidates = []caseflow.DispatchCandidate{{RuleCode: d.RuleCode, Department: p.code, CoDepartments: []string{}, Reason: why}}
			d.Reason = prefix + why
			return nil
		}
	}
	d.Stage, d.Reason = StageNone, prefix+"没有匹配的派遣规则，需派遣员派遣"
	return nil
}

func uniq(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
