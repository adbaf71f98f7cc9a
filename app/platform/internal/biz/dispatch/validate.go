package dispatch

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Violation is one broken rule of a dispatch rule: the field (as the API
// names it) and a bilingual detail.
type Violation struct {
	Field  string
	ZH, EN string
}

func (v Violation) err() error { return Invalid(v.Field, v.ZH, v.EN) }

// Limits of a rule's fields (bytes, as the columns store them).
const (
	MaxNameBytes   = 128
	MaxNoteBytes   = 256
	MaxAreaBytes   = 16
	MaxCoDeps      = 16
	MaxRotation    = 32
	MaxPriorityAbs = 1_000_000
)

var (
	ruleCodeRE  = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)
	classCodeRE = regexp.MustCompile(`^[0-9]{2,9}$`)
	condCodeRE  = regexp.MustCompile(`^[0-9A-Za-z._-]{1,32}$`)
	// deptCodeRE admits the manifest's department codes and the 18-char
	// 统一社会信用代码 components carry as unit codes.
	deptCodeRE = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)
	gridCodeRE = regexp.MustCompile(`^[0-9A-Z]{15}$`)
	digitsRE   = regexp.MustCompile(`^[0-9]+$`)
)

// ValidRuleCode reports whether s may be a rule code: 1–64 letters,
// digits, dots, dashes or underscores, starting with a letter or digit. The
// engine's own codes ("component:…", "territory:…") contain a colon, so
// they never collide with a rule's.
func ValidRuleCode(s string) bool { return ruleCodeRE.MatchString(s) }

// ValidClassCode reports whether s may be a class code (2–9 digits).
func ValidClassCode(s string) bool { return classCodeRE.MatchString(s) }

// ParseClock parses "HH:MM" (also "H:MM" and "HH:MM:SS" with zero seconds)
// into minutes after midnight and the canonical "HH:MM".
func ParseClock(s string) (int, string, bool) {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "：", ":")
	if strings.Count(s, ":") == 2 && strings.HasSuffix(s, ":00") {
		s = strings.TrimSuffix(s, ":00")
	}
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digitsRE.MatchString(h) || !digitsRE.MatchString(m) {
		return 0, "", false
	}
	hh, mm := atoi(h), atoi(m)
	if hh > 23 || mm > 59 {
		return 0, "", false
	}
	return hh*60 + mm, fmt.Sprintf("%02d:%02d", hh, mm), true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// normalize trims the rule's text fields and fills the defaults of the
// enumerations (matrix, any, none).
func (r *Rule) normalize() {
	for _, p := range []*string{&r.Code, &r.Name, &r.ClassCode, &r.FilingConditionCode, &r.RegionCode, &r.AreaClass,
		&r.TimeFrom, &r.TimeTo, &r.DepartmentCode, &r.Note} {
		*p = strings.TrimSpace(*p)
	}
	if r.Kind == "" {
		r.Kind = KindMatrix
	}
	if r.RegionLevel == "" {
		r.RegionLevel = LevelAny
	}
	if r.RotationPeriod == "" {
		r.RotationPeriod = RotationNone
	}
	trimAll := func(in []string) []string {
		out := make([]string, 0, len(in))
		for _, s := range in {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	r.CoDepartmentCodes = trimAll(r.CoDepartmentCodes)
	r.RotationDepartments = trimAll(r.RotationDepartments)
	if _, c, ok := ParseClock(r.TimeFrom); ok {
		r.TimeFrom = c
	}
	if _, c, ok := ParseClock(r.TimeTo); ok {
		r.TimeTo = c
	}
	if r.RotationAnchor != nil {
		t := r.RotationAnchor.UTC().Truncate(time.Microsecond)
		r.RotationAnchor = &t
	}
}

// check returns every rule the rule's fields break that needs no
// database. Call normalize first.
func (r *Rule) check() []Violation {
	var vs []Violation
	add := func(field, zh, en string, args ...any) {
		vs = append(vs, Violation{Field: field, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)})
	}
	if !ValidRuleCode(r.Code) {
		add("code", "规则编号须为 1–64 位字母、数字、点、横线或下划线，且以字母或数字开头：%q", "the rule code is 1–64 letters, digits, dots, dashes or underscores starting with a letter or digit: %q", r.Code)
	}
	if len(r.Name) > MaxNameBytes {
		add("name", "规则名称过长（最多 %d 字节，约 %d 个汉字）", "the name is too long (at most %d bytes, about %d Chinese characters)", MaxNameBytes, MaxNameBytes/3)
	}
	if len(r.Note) > MaxNoteBytes {
		add("note", "备注过长（最多 %d 字节，约 %d 个汉字）", "the note is too long (at most %d bytes, about %d Chinese characters)", MaxNoteBytes, MaxNoteBytes/3)
	}
	if !r.Kind.Valid() {
		add("kind", "类型只能是 矩阵 或 兜底：%q", "the kind must be matrix or fallback: %q", r.Kind)
	}
	if r.ClassCode != "" && !ValidClassCode(r.ClassCode) {
		add("class_code", "小类代码须为 2–9 位数字：%q", "the class code is 2–9 digits: %q", r.ClassCode)
	}
	if r.FilingConditionCode != "" {
		switch {
		case !condCodeRE.MatchString(r.FilingConditionCode):
			add("filing_condition_code", "立案条件编码须为 1–32 位字母、数字、点、横线或下划线：%q", "the filing condition code is 1–32 letters, digits, dots, dashes or underscores: %q", r.FilingConditionCode)
		case r.ClassCode == "":
			add("filing_condition_code", "立案条件属于某个小类，须同时填写小类代码", "a filing condition belongs to a class: give the class code too")
		}
	}
	r.checkRegion(add)
	if len(r.AreaClass) > MaxAreaBytes || strings.ContainsAny(r.AreaClass, " \t\r\n,，") {
		add("area_class", "区域类别最多 %d 字节，且不能含空格或逗号：%q", "the area class is at most %d bytes without spaces or commas: %q", MaxAreaBytes, r.AreaClass)
	}
	r.checkWindow(add)
	r.checkDepartments(add)
	if r.Priority > MaxPriorityAbs || r.Priority < -MaxPriorityAbs {
		add("priority", "优先级应在 ±%d 之间", "the priority lies within ±%d", MaxPriorityAbs)
	}
	return vs
}

func (r *Rule) checkRegion(add func(field, zh, en string, args ...any)) {
	switch {
	case !r.RegionLevel.Valid():
		add("region_level", "区域层级只能是 全部、区县、街道、社区 或 网格：%q", "the region level must be any, district, street, community or grid: %q", r.RegionLevel)
	case r.RegionLevel == LevelAny && r.RegionCode != "":
		add("region_code", "区域层级为“全部”时不能填写区域代码", "a rule for any region has no region code")
	case r.RegionLevel == LevelAny:
	case r.RegionCode == "":
		add("region_code", "区域层级为%s时须填写区域代码", "a %s rule needs a region code", levelZH(r.RegionLevel), r.RegionLevel)
	case r.RegionLevel == LevelGrid && !gridCodeRE.MatchString(r.RegionCode):
		add("region_code", "网格代码须为 15 位数字或大写字母：%q", "a grid code is 15 digits or capital letters: %q", r.RegionCode)
	case r.RegionLevel != LevelGrid && (len(r.RegionCode) != r.RegionLevel.codeLen() || !digitsRE.MatchString(r.RegionCode)):
		add("region_code", "%s代码须为 %d 位数字：%q", "a %s code is %d digits: %q", levelZH(r.RegionLevel), r.RegionLevel.codeLen(), r.RegionCode)
	}
}

func (r *Rule) checkWindow(add func(field, zh, en string, args ...any)) {
	if r.TimeFrom == "" && r.TimeTo == "" {
		return
	}
	from, _, okFrom := ParseClock(r.TimeFrom)
	to, _, okTo := ParseClock(r.TimeTo)
	switch {
	case r.TimeFrom == "" || r.TimeTo == "":
		add("time_from", "开始时间和结束时间须同时填写（都不填表示全天）", "give both the start and the end time (neither means all day)")
	case !okFrom:
		add("time_from", "开始时间须为 HH:MM（00:00–23:59）：%q", "the start time is HH:MM (00:00–23:59): %q", r.TimeFrom)
	case !okTo:
		add("time_to", "结束时间须为 HH:MM（00:00–23:59）：%q", "the end time is HH:MM (00:00–23:59): %q", r.TimeTo)
	case from == to:
		add("time_to", "开始时间与结束时间相同；全天请都不填", "the start equals the end; leave both empty for all day")
	}
}

func (r *Rule) checkDepartments(add func(field, zh, en string, args ...any)) {
	if r.RotationPeriod.Valid() && r.RotationPeriod != RotationNone {
		switch {
		case r.DepartmentCode != "":
			add("department_code", "轮换规则的主办单位由轮换单位依次担任，主办单位须为空", "a rotation rule takes its department from the rotation; leave the department empty")
		case len(r.RotationDepartments) < 2:
			add("rotation_departments", "轮换规则至少需要 2 个轮换单位", "a rotation needs at least two departments")
		case len(r.RotationDepartments) > MaxRotation:
			add("rotation_departments", "轮换单位最多 %d 个", "at most %d rotation departments", MaxRotation)
		}
		if r.RotationAnchor == nil {
			add("rotation_anchor", "轮换规则须填写轮换起始时间", "a rotation needs its anchor (the start of the first turn)")
		}
	} else {
		switch {
		case !r.RotationPeriod.Valid():
			add("rotation_period", "轮换周期只能是 日、周 或 月（不轮换则不填）：%q", "the rotation period must be day, week or month (empty for none): %q", r.RotationPeriod)
		case r.DepartmentCode == "":
			add("department_code", "须填写主办单位（或设置轮换）", "give the department (or a rotation)")
		}
		if len(r.RotationDepartments) > 0 {
			add("rotation_period", "填写了轮换单位却没有轮换周期", "rotation departments without a rotation period")
		}
		if r.RotationAnchor != nil {
			add("rotation_anchor", "没有轮换周期时不能填写轮换起始", "an anchor without a rotation period")
		}
	}
	if r.DepartmentCode != "" && !deptCodeRE.MatchString(r.DepartmentCode) {
		add("department_code", "单位代码须为 1–64 位字母、数字、横线或下划线：%q", "a department code is 1–64 letters, digits, dashes or underscores: %q", r.DepartmentCode)
	}
	for i, c := range r.RotationDepartments {
		if !deptCodeRE.MatchString(c) {
			add("rotation_departments", "单位代码须为 1–64 位字母、数字、横线或下划线：%q", "a department code is 1–64 letters, digits, dashes or underscores: %q", c)
		} else if slices.Contains(r.RotationDepartments[:i], c) {
			add("rotation_departments", "轮换单位重复：%s", "a rotation department appears twice: %s", c)
		}
	}
	if len(r.CoDepartmentCodes) > MaxCoDeps {
		add("co_department_codes", "协办单位最多 %d 个", "at most %d co-departments", MaxCoDeps)
	}
	for i, c := range r.CoDepartmentCodes {
		switch {
		case !deptCodeRE.MatchString(c):
			add("co_department_codes", "单位代码须为 1–64 位字母、数字、横线或下划线：%q", "a department code is 1–64 letters, digits, dashes or underscores: %q", c)
		case slices.Contains(r.CoDepartmentCodes[:i], c):
			add("co_department_codes", "协办单位重复：%s", "a co-department appears twice: %s", c)
		case c == r.DepartmentCode:
			add("co_department_codes", "协办单位不能同时是主办单位：%s", "the department cannot also be a co-department: %s", c)
		}
	}
}

// departmentCodes are every department code the rule names.
func (r *Rule) departmentCodes() []string {
	out := make([]string, 0, 1+len(r.CoDepartmentCodes)+len(r.RotationDepartments))
	if r.DepartmentCode != "" {
		out = append(out, r.DepartmentCode)
	}
	out = append(out, r.RotationDepartments...)
	return append(out, r.CoDepartmentCodes...)
}

// checkActive reports the departments the rule names that are not active
// departments of the tenant.
func (r *Rule) checkActive(active map[string]bool) []Violation {
	var vs []Violation
	miss := func(field string, codes ...string) {
		var missing []string
		for _, c := range codes {
			if c != "" && !active[c] && !slices.Contains(missing, c) {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			list := strings.Join(missing, ",")
			vs = append(vs, Violation{Field: field, ZH: "责任单位不存在或已停用：" + list, EN: "no active department " + list})
		}
	}
	miss("department_code", r.DepartmentCode)
	miss("rotation_departments", r.RotationDepartments...)
	miss("co_department_codes", r.CoDepartmentCodes...)
	return vs
}

func levelZH(l RegionLevel) string {
	switch l {
	case LevelAny:
		return "全部"
	case LevelGrid:
		return "网格"
	case LevelCommunity:
		return "社区"
	case LevelStreet:
		return "街道"
	case LevelDistrict:
		return "区县"
	}
	return string(l)
}
