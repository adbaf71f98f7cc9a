package taxonomy

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Time-limit units. Working units follow the tenant's working calendar;
// natural units run around the clock (emergencies).
const (
	UnitWorkHour      = "work_hour"      // 工作时
	UnitWorkDay       = "work_day"       // 工作日
	UnitNaturalMinute = "natural_minute" // 分钟
	UnitNaturalHour   = "natural_hour"   // 小时
)

// Area classes a limit may name; "" is every area.
const (
	AreaA = "A" // e.g. 核心区 / 一类区域
	AreaB = "B" // e.g. 一般区 / 二类区域
	AreaC = "C" // e.g. 城乡结合部、郊区
)

// Bounds of a filing condition's limits.
const (
	MaxTimeLimits = 4  // one per area class, or one for every area
	MaxStages     = 10 // 停工 → 处罚 → 拆除 has 3
	MaxStageName  = 32 // characters
)

// unitInfo says how a unit compares with the others and how a cell names it.
type unitInfo struct {
	// minutes is the unit's length for comparing stages with their total
	// only; deadlines themselves come from the working calendar. A working
	// day counts as 8 working hours here.
	minutes float64
	working bool
	// max bounds an amount: a month of natural time, a year of working time.
	max  float64
	cell string // how the classification table writes it
}

func unitOf(unit string) (unitInfo, bool) {
	switch unit {
	case UnitWorkHour:
		return unitInfo{minutes: 60, working: true, max: 8 * 365, cell: "工作时"}, true
	case UnitWorkDay:
		return unitInfo{minutes: 8 * 60, working: true, max: 365, cell: "工作日"}, true
	case UnitNaturalMinute:
		return unitInfo{minutes: 1, max: 31 * 24 * 60, cell: "分钟"}, true
	case UnitNaturalHour:
		return unitInfo{minutes: 60, max: 31 * 24, cell: "小时"}, true
	}
	return unitInfo{}, false
}

// cellUnits maps the words cities write after an amount to units, longest
// first so that 工作小时 is not read as 小时.
func cellUnits() []struct{ word, unit string } {
	return []struct{ word, unit string }{
		{"个工作小时", UnitWorkHour}, {"工作小时", UnitWorkHour}, {"个工作时", UnitWorkHour}, {"工作时", UnitWorkHour},
		{"个工作日", UnitWorkDay}, {"工作日", UnitWorkDay}, {"个工作天", UnitWorkDay}, {"工作天", UnitWorkDay},
		{"自然分钟", UnitNaturalMinute}, {"分钟", UnitNaturalMinute},
		{"个自然小时", UnitNaturalHour}, {"自然小时", UnitNaturalHour}, {"个小时", UnitNaturalHour}, {"小时", UnitNaturalHour},
	}
}

// Violation is one broken rule, in both languages.
type Violation struct {
	Field string
	ZH    string
	EN    string
}

func (v Violation) Error() string { return v.Field + ": " + v.EN }

// ValidateTimeLimits checks the limits of one filing condition: at least
// one, each area class at most once ("" only alone), positive bounded
// amounts in known units, and staged sub-limits that run one after another
// (named, unique, in the same kind of time as their total, adding up to at
// most the total).
func ValidateTimeLimits(limits []TimeLimit) []Violation {
	var out []Violation
	if len(limits) == 0 {
		return []Violation{{"time_limits", "至少需要一个处置时限", "at least one time limit is required"}}
	}
	if len(limits) > MaxTimeLimits {
		out = append(out, Violation{"time_limits", fmt.Sprintf("处置时限最多 %d 个", MaxTimeLimits),
			fmt.Sprintf("at most %d time limits", MaxTimeLimits)})
	}
	seen := map[string]bool{}
	for i, l := range limits {
		f := fmt.Sprintf("time_limits[%d]", i)
		switch l.AreaClass {
		case "", AreaA, AreaB, AreaC:
		default:
			out = append(out, Violation{f + ".area_class", "区域类别只能是 A、B、C 或留空（全部区域）：" + l.AreaClass,
				"the area class must be A, B, C or empty (every area): " + l.AreaClass})
		}
		if seen[l.AreaClass] {
			out = append(out, Violation{f + ".area_class", "区域类别 " + areaName(l.AreaClass, true) + " 重复",
				"area class " + areaName(l.AreaClass, false) + " appears twice"})
		}
		seen[l.AreaClass] = true
		if l.Stage != "" {
			out = append(out, Violation{f + ".stage", "处置时限本身不能带环节名称，分阶段时限请写在 stages 中",
				"a time limit itself has no stage name; put staged sub-limits in stages"})
		}
		out = append(out, checkAmount(f, l)...)
		out = append(out, checkStages(f, l)...)
	}
	if seen[""] && len(limits) > 1 {
		out = append(out, Violation{"time_limits", "“全部区域”的时限不能与 A/B/C 类区域的时限同时出现",
			"a limit for every area cannot be combined with limits for area classes A/B/C"})
	}
	return out
}

func areaName(a string, zh bool) string {
	if a == "" {
		if zh {
			return "（全部区域）"
		}
		return "(every area)"
	}
	return a
}

func checkAmount(f string, l TimeLimit) []Violation {
	u, ok := unitOf(l.Unit)
	if !ok {
		return []Violation{{f + ".unit", "未知的时限单位 " + strconv.Quote(l.Unit) + "（应为 work_hour、work_day、natural_minute 或 natural_hour）",
			"unknown time-limit unit " + strconv.Quote(l.Unit) + " (use work_hour, work_day, natural_minute or natural_hour)"}}
	}
	switch {
	case math.IsNaN(l.Amount) || l.Amount <= 0:
		return []Violation{{f + ".amount", "时限必须大于 0", "the amount must be greater than 0"}}
	case l.Amount > u.max:
		return []Violation{{f + ".amount", fmt.Sprintf("时限过长：最多 %g%s", u.max, u.cell),
			fmt.Sprintf("the limit is too long: at most %g %s", u.max, l.Unit)}}
	}
	return nil
}

func checkStages(f string, l TimeLimit) []Violation {
	if len(l.Stages) == 0 {
		return nil
	}
	var out []Violation
	if len(l.Stages) > MaxStages {
		out = append(out, Violation{f + ".stages", fmt.Sprintf("分阶段时限最多 %d 个", MaxStages), fmt.Sprintf("at most %d stages", MaxStages)})
	}
	total, totalOK := unitOf(l.Unit)
	sum := 0.0
	names := map[string]bool{}
	for j, s := range l.Stages {
		sf := fmt.Sprintf("%s.stages[%d]", f, j)
		name := strings.TrimSpace(s.Stage)
		switch {
		case name == "":
			out = append(out, Violation{sf + ".stage", "分阶段时限必须有环节名称（如 停工、处罚、拆除）", "a stage needs a name (such as 停工, 处罚, 拆除)"})
		case utf8.RuneCountInString(name) > MaxStageName || strings.ContainsAny(name, "()（）/／,，、;；0123456789"):
			out = append(out, Violation{sf + ".stage", "环节名称过长或含有数字、括号、分隔符：" + name, "the stage name is too long or holds digits, brackets or separators: " + name})
		case names[name]:
			out = append(out, Violation{sf + ".stage", "环节 " + name + " 重复", "stage " + name + " appears twice"})
		}
		names[name] = true
		if s.AreaClass != "" && s.AreaClass != l.AreaClass {
			out = append(out, Violation{sf + ".area_class", "分阶段时限沿用所属时限的区域类别，不能另设", "a stage takes its limit's area class; it cannot name another"})
		}
		if len(s.Stages) > 0 {
			out = append(out, Violation{sf + ".stages", "分阶段时限不能再分阶段", "a stage cannot have stages of its own"})
		}
		if vs := checkAmount(sf, s); len(vs) > 0 {
			out = append(out, vs...)
			continue
		}
		u, _ := unitOf(s.Unit)
		if totalOK && u.working != total.working {
			out = append(out, Violation{sf + ".unit", "分阶段时限与总时限必须同为工作时间或同为自然时间",
				"a stage and its total must both be working time or both natural time"})
			continue
		}
		sum += s.Amount * u.minutes
	}
	if totalOK && len(out) == 0 && sum > l.Amount*total.minutes*(1+1e-9) {
		out = append(out, Violation{f + ".stages", fmt.Sprintf("各阶段时限之和超过总时限 %s（按每工作日 8 工作时计）", FormatLimit(TimeLimit{Amount: l.Amount, Unit: l.Unit})),
			fmt.Sprintf("the stages add up to more than the total %g %s (counting 8 working hours a working day)", l.Amount, l.Unit)})
	}
	return out
}

// FormatLimit writes a limit as a classification-table cell: "4工作时",
// "30分钟", or a staged limit "28工作日(停工4工作时/处罚7工作日/拆除20工作日)".
func FormatLimit(l TimeLimit) string {
	var b strings.Builder
	b.WriteString(formatAmount(l.Amount, l.Unit))
	if len(l.Stages) > 0 {
		b.WriteByte('(')
		for i, s := range l.Stages {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(s.Stage)
			b.WriteString(formatAmount(s.Amount, s.Unit))
		}
		b.WriteByte(')')
	}
	return b.String()
}

func formatAmount(a float64, unit string) string {
	u, ok := unitOf(unit)
	if !ok {
		return strconv.FormatFloat(a, 'f', -1, 64) + unit
	}
	return strconv.FormatFloat(a, 'f', -1, 64) + u.cell
}

// ParseLimit reads a classification-table cell ("4工作时", "1 工作日",
// "30分钟", "2小时", "0.5工作日", "28工作日（停工4工作时，处罚7工作日，拆除20工作日）").
// Full-width digits and brackets are accepted. It checks the syntax only;
// ValidateTimeLimits checks the values.
func ParseLimit(cell string) (TimeLimit, error) {
	s := normalizeCell(cell)
	if s == "" {
		return TimeLimit{}, Violation{"", "时限为空", "the time limit is empty"}
	}
	head, staged, hasStages := strings.Cut(s, "(")
	l, err := parseAmountUnit(head)
	if err != nil {
		return TimeLimit{}, err
	}
	if !hasStages {
		return l, nil
	}
	inner, ok := strings.CutSuffix(staged, ")")
	if !ok || strings.ContainsAny(inner, "()") {
		return TimeLimit{}, Violation{"", "分阶段时限的括号不匹配：" + cell, "unbalanced brackets in a staged limit: " + cell}
	}
	for _, part := range strings.FieldsFunc(inner, func(r rune) bool { return strings.ContainsRune("/,、;", r) }) {
		part = strings.TrimSpace(part)
		i := strings.IndexFunc(part, func(r rune) bool { return r >= '0' && r <= '9' })
		if i <= 0 {
			return TimeLimit{}, Violation{"", "分阶段时限应写作“环节名称+时限”，如 停工4工作时：" + part,
				"a stage is written as name + limit, such as 停工4工作时: " + part}
		}
		st, err := parseAmountUnit(part[i:])
		if err != nil {
			return TimeLimit{}, err
		}
		st.Stage = strings.TrimSpace(part[:i])
		l.Stages = append(l.Stages, st)
	}
	if len(l.Stages) == 0 {
		return TimeLimit{}, Violation{"", "括号内没有分阶段时限：" + cell, "no stages inside the brackets: " + cell}
	}
	return l, nil
}

func parseAmountUnit(s string) (TimeLimit, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i == 0 || s == "" {
		return TimeLimit{}, Violation{"", "时限应以数字开头，如 4工作时、1工作日、30分钟、2小时：" + s,
			"a limit starts with a number, such as 4工作时, 1工作日, 30分钟, 2小时: " + s}
	}
	if i < 0 {
		return TimeLimit{}, Violation{"", "时限缺少单位（工作时、工作日、分钟或小时）：" + s,
			"the limit has no unit (工作时, 工作日, 分钟 or 小时): " + s}
	}
	amount, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.IsInf(amount, 0) {
		return TimeLimit{}, Violation{"", "时限数值无法识别：" + s, "the amount is not a number: " + s}
	}
	word := strings.TrimSpace(s[i:])
	for _, u := range cellUnits() {
		if word == u.word {
			return TimeLimit{Amount: amount, Unit: u.unit}, nil
		}
	}
	return TimeLimit{}, Violation{"", "未知的时限单位“" + word + "”（应为 工作时、工作日、分钟 或 小时）",
		"unknown unit \"" + word + "\" (use 工作时, 工作日, 分钟 or 小时)"}
}

// normalizeCell maps full-width digits, dots, brackets and separators to
// their ASCII forms and drops spaces, as spreadsheets typed on Chinese
// input methods mix both.
func normalizeCell(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '．':
			b.WriteByte('.')
		case r == '（':
			b.WriteByte('(')
		case r == '）':
			b.WriteByte(')')
		case r == '／':
			b.WriteByte('/')
		case r == '，':
			b.WriteByte(',')
		case r == '；':
			b.WriteByte(';')
		case r == ' ' || r == '\t' || r == '\u3000':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sameLimits reports whether two lists of limits are equal.
func sameLimits(a, b []TimeLimit) bool {
	return slices.EqualFunc(a, b, func(x, y TimeLimit) bool {
		return x.AreaClass == y.AreaClass && x.Stage == y.Stage && x.Amount == y.Amount && x.Unit == y.Unit && sameLimits(x.Stages, y.Stages)
	})
}

func cloneLimits(ls []TimeLimit) []TimeLimit {
	if ls == nil {
		return nil
	}
	out := make([]TimeLimit, len(ls))
	for i, l := range ls {
		l.Stages = cloneLimits(l.Stages)
		out[i] = l
	}
	return out
}
