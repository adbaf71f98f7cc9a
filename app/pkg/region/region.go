// Package region knows the GB/T 2260 administrative division codes (行政区划代码)
// that identify CityOps tenants, and the rules for placing a tenant under its
// parent (national → province → city → county).
//
// It is pure Go with no I/O so that the same rules run in the manifest loader,
// in the onboarding command and in the platform when a tenant is created
// through the API. Messages come in Simplified Chinese and English because the
// operators who read them are Chinese while most log readers are not.
package region

import "fmt"

// Level is the administrative level of a tenant.
type Level string

// The four tenant levels. County covers every county-level unit (区, 县,
// 县级市, 旗 …) and development-zone management areas (开发区).
const (
	National Level = "national"
	Province Level = "province"
	City     Level = "city"
	County   Level = "county"
)

// NationalCode is the code of the national platform (全国). GB/T 2260 has no
// code for the country as a whole; 000000 is the conventional placeholder
// that the national 运管服 platform uses.
const NationalCode = "000000"

// Levels lists every level from the top down.
var Levels = []Level{National, Province, City, County}

// ParseLevel parses a level name. It is strict (no case folding, no Chinese
// aliases) because manifests are reviewed text and one spelling keeps them
// greppable.
func ParseLevel(s string) (Level, error) {
	l := Level(s)
	if !l.Valid() {
		return "", fmt.Errorf("region: unknown level %q (want national, province, city or county)", s)
	}
	return l, nil
}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool {
	switch l {
	case National, Province, City, County:
		return true
	}
	return false
}

// ZH returns the Chinese name of the level as used in messages.
func (l Level) ZH() string {
	switch l {
	case National:
		return "国家级"
	case Province:
		return "省级"
	case City:
		return "市级"
	case County:
		return "县级"
	}
	return string(l)
}

// String returns the level name.
func (l Level) String() string { return string(l) }

// Node is what the placement rules need to know about a tenant.
type Node struct {
	Code  string
	Level Level
	// ManagementArea marks a development zone (开发区, 新区) that a city
	// manages like a district but that has no GB/T 2260 code.
	ManagementArea bool
}

// Violation is one broken rule. Field names the offending tenant attribute
// ("code", "level" or "parent") so that callers can point at the right line of
// a manifest or the right input of a form.
type Violation struct {
	Field string
	ZH    string
	EN    string
}

// Error returns the English message prefixed with the field, so that a
// Violation returned by ValidateCode can be used as a plain error.
func (v *Violation) Error() string { return v.Field + ": " + v.EN }

// violation formats a message whose Chinese and English texts take the same
// arguments in the same order.
func violation(field, zh, en string, args ...any) Violation {
	return Violation{Field: field, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}
}

// ValidateCode checks the structure of a tenant code. The returned error, if
// any, is a *Violation with Field "code".
//
// A GB/T 2260 code is six digits: 000000 for the nation, XX0000 for a
// province, XXYY00 for a prefecture-level city and XXYYZZ for a county-level
// unit. The first digit is the large region (1–8), so 0XXXXX other than
// 000000 and 9XXXXX are rejected. XX00ZZ is rejected too: every county-level
// unit belongs to a prefecture-level group, even those directly under a
// province (省直辖县, e.g. 429004 仙桃市 in group 4290).
//
// A management-area code is not part of any standard, so only its shape is
// checked: 6–12 characters of [0-9A-Z]. It may look like a GB code; keeping it
// out of the GB code space is the job of the registry that hands them out.
func ValidateCode(code string, managementArea bool) error {
	if managementArea {
		if len(code) < 6 || len(code) > 12 || !isCharset(code) {
			v := violation("code",
				"管理区代码 %q 无效：应为 6–12 位数字或大写字母",
				"management-area code %q is invalid: want 6-12 characters of 0-9 and A-Z", code)
			return &v
		}
		return nil
	}
	if _, ok := LevelOfCode(code); !ok {
		v := violation("code",
			"行政区划代码 %q 无效：应为 GB/T 2260 的 6 位数字代码（国家 000000、省 XX0000、市 XXYY00、县 XXYYZZ）",
			"region code %q is not a valid GB/T 2260 code: want 6 digits (national 000000, province XX0000, city XXYY00, county XXYYZZ)", code)
		return &v
	}
	return nil
}

// LevelOfCode returns the level that the structure of a GB/T 2260 code
// implies, and false if code is not structurally valid (see ValidateCode).
// It does not know whether the code is currently in use: 450127 (横县, replaced
// by 450181 横州市 in 2021) is still reported as a county.
func LevelOfCode(code string) (Level, bool) {
	if len(code) != 6 {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	if code == NationalCode {
		return National, true
	}
	if code[0] < '1' || code[0] > '8' {
		return "", false
	}
	yy, zz := code[2:4], code[4:6]
	switch {
	case yy == "00" && zz == "00":
		return Province, true
	case zz == "00":
		return City, true
	case yy == "00":
		return "", false
	default:
		return County, true
	}
}

func isCharset(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// CheckNode checks the rules that concern a tenant on its own: a valid level,
// a well-formed code, a code whose structure matches the level, and that a
// management area is county-level. Use it when the parent is not known yet;
// CheckPlacement includes these checks.
func CheckNode(n Node) []Violation {
	var out []Violation
	if !n.Level.Valid() {
		out = append(out, violation("level",
			"级别 %q 无效：应为 national、province、city 或 county",
			"level %q is invalid: want national, province, city or county", string(n.Level)))
	}
	if err := ValidateCode(n.Code, n.ManagementArea); err != nil {
		out = append(out, *err.(*Violation))
		return out
	}
	if n.ManagementArea {
		// A management area is run by a city like a district: it sits where a
		// county would and has no children, whatever its code looks like.
		if n.Level.Valid() && n.Level != County {
			out = append(out, violation("level",
				"管理区（开发区）必须是县级（county），不能是 %s",
				"a management area (development zone) must be county-level, not %s", string(n.Level)))
		}
		return out
	}
	if got, _ := LevelOfCode(n.Code); n.Level.Valid() && got != n.Level {
		out = append(out, Violation{Field: "level",
			ZH: fmt.Sprintf("代码 %s 按结构属于%s，与声明的级别 %s 不符", n.Code, got.ZH(), n.Level),
			EN: fmt.Sprintf("code %s is structurally %s-level, which contradicts the declared level %s", n.Code, got, n.Level)})
	}
	return out
}

// CheckParent checks only the relation between child and parent (nil for no
// parent): which level may sit under which, and that a GB code lies inside
// its parent's code range. It assumes CheckNode was run on both nodes and
// skips code comparisons that a malformed code would make meaningless.
func CheckParent(child Node, parent *Node) []Violation {
	var out []Violation
	if child.Level == National {
		if parent != nil {
			out = append(out, violation("parent",
				"国家级租户不能有上级（当前上级为 %s）",
				"the national tenant has no parent (got %s)", parent.Code))
		}
		return out
	}
	if parent == nil {
		if child.Level.Valid() {
			out = append(out, Violation{Field: "parent",
				ZH: fmt.Sprintf("%s租户必须有上级租户", child.Level.ZH()),
				EN: fmt.Sprintf("a %s tenant needs a parent tenant", child.Level)})
		}
		return out
	}
	if parent.Code == child.Code {
		out = append(out, violation("parent",
			"租户 %s 不能以自身为上级", "tenant %s cannot be its own parent", child.Code))
		return out
	}
	if !allowedParent(child, *parent) {
		out = append(out, Violation{Field: "parent",
			ZH: fmt.Sprintf("%s%s不能位于%s %s 之下（%s）",
				child.Level.ZH(), kindZH(child), parent.Level.ZH(), parent.Code, rulesZH(child)),
			EN: fmt.Sprintf("a %s %s cannot be placed under %s %s (%s)",
				child.Level, kindEN(child), parent.Level, parent.Code, rulesEN(child))})
		return out
	}
	if child.ManagementArea || parent.ManagementArea {
		return out
	}
	if _, ok := LevelOfCode(child.Code); !ok {
		return out
	}
	if _, ok := LevelOfCode(parent.Code); !ok {
		return out
	}
	switch parent.Level {
	case Province:
		if child.Code[:2] != parent.Code[:2] {
			out = append(out, violation("code",
				"代码 %s 不属于上级省 %s：前 2 位应为 %s",
				"code %s is not inside province %s: the first 2 digits must be %s",
				child.Code, parent.Code, parent.Code[:2]))
		}
	case City:
		if child.Code[:4] != parent.Code[:4] {
			out = append(out, violation("code",
				"代码 %s 不属于上级市 %s：前 4 位应为 %s",
				"code %s is not inside city %s: the first 4 digits must be %s",
				child.Code, parent.Code, parent.Code[:4]))
		}
	}
	return out
}

// CheckPlacement checks every rule for child placed under parent (nil for a
// tenant without parent): CheckNode on the child, then CheckParent.
// Management areas are exempt from the code structure and code range rules
// but not from the level rules.
func CheckPlacement(child Node, parent *Node) []Violation {
	out := CheckNode(child)
	return append(out, CheckParent(child, parent)...)
}

// allowedParent encodes the hierarchy. A county may sit directly under a
// province (省直辖县级行政单位); a management area may not, because it is
// defined by the city that runs it.
func allowedParent(child, parent Node) bool {
	if parent.ManagementArea {
		return false
	}
	switch child.Level {
	case Province:
		return parent.Level == National
	case City:
		return parent.Level == Province
	case County:
		if child.ManagementArea {
			return parent.Level == City
		}
		return parent.Level == City || parent.Level == Province
	}
	// An invalid level was already reported by CheckNode.
	return true
}

func kindZH(n Node) string {
	if n.ManagementArea {
		return "管理区"
	}
	return "租户"
}

func kindEN(n Node) string {
	if n.ManagementArea {
		return "management area"
	}
	return "tenant"
}

func rulesZH(n Node) string {
	switch {
	case n.ManagementArea:
		return "管理区的上级必须是市"
	case n.Level == Province:
		return "省的上级必须是国家"
	case n.Level == City:
		return "市的上级必须是省"
	default:
		return "县的上级必须是市，或省直辖"
	}
}

func rulesEN(n Node) string {
	switch {
	case n.ManagementArea:
		return "a management area's parent must be a city"
	case n.Level == Province:
		return "a province's parent must be the national tenant"
	case n.Level == City:
		return "a city's parent must be a province"
	default:
		return "a county's parent must be a city or a province"
	}
}
