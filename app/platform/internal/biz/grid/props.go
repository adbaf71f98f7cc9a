package grid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Problem is one thing wrong with one feature of an import, in both
// languages: the operator reads Chinese, logs and foreign readers English.
type Problem struct {
	// FeatureIndex is the 0-based index in the FeatureCollection; -1 for
	// the file as a whole.
	FeatureIndex int
	// Code is the feature's code, when it has one.
	Code string
	// Field is what is wrong: "geometry.coordinates[0]", "properties.code" …
	Field string
	// Rule is a stable machine code (geo's problem codes, or one of ours:
	// "code_invalid", "duplicate", "unknown_community", "overlap", …).
	Rule string
	ZH   string
	EN   string
}

// Localize formats the problem for lang ("en…" English, else Chinese).
func (p Problem) Localize(lang string) string {
	msg, feat := p.ZH, fmt.Sprintf("第 %d 个要素", p.FeatureIndex)
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		msg, feat = p.EN, fmt.Sprintf("feature %d", p.FeatureIndex)
	}
	if p.FeatureIndex < 0 {
		feat = "file"
		if !strings.HasPrefix(strings.ToLower(lang), "en") {
			feat = "文件"
		}
	}
	if p.Code != "" {
		feat += " (" + p.Code + ")"
	}
	if p.Field != "" {
		feat += " " + p.Field
	}
	return feat + ": " + msg
}

// Rules of our own (geo's codes cover the geometry).
const (
	RuleCodeInvalid      = "code_invalid"
	RuleForeignCode      = "foreign_code"
	RuleInconsistentCode = "inconsistent_code"
	RuleDuplicate        = "duplicate"
	RuleUnknownKind      = "unknown_kind"
	RuleUnknownStreet    = "unknown_street"
	RuleUnknownCommunity = "unknown_community"
	RuleUnknownUnitGrid  = "unknown_unit_grid"
	RuleMissing          = "missing"
	RuleTooLong          = "too_long"
	RuleOverlap          = "overlap"
	RuleGeometryKind     = "geometry_kind"
)

// codeString accepts a code written as a JSON string or as a JSON number:
// GIS tools often export 15-digit grid codes as numbers, which still fit a
// float64 exactly, and json.Number keeps them verbatim.
type codeString string

func (c *codeString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*c = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = codeString(strings.TrimSpace(s))
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("a code must be a string or a number")
		}
		if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
			return fmt.Errorf("a code written as a number must be a whole number")
		}
		*c = codeString(n.String())
	}
	return nil
}

// props are the properties a feature of a grid import may carry.
type props struct {
	Kind          string       `json:"kind"`
	Code          codeString   `json:"code"`
	Name          string       `json:"name"`
	StreetCode    codeString   `json:"street_code"`
	CommunityCode codeString   `json:"community_code"`
	AreaClass     string       `json:"area_class"`
	LandUse       codeString   `json:"land_use"`
	Responsible   string       `json:"responsible"`
	UnitGrids     []codeString `json:"unit_grids"`
	Assignees     []string     `json:"assignees"`
	Department    codeString   `json:"department_code"`
}

// Feature kinds of an import file.
const (
	featStreet         = "street"
	featCommunity      = "community"
	featUnit           = "unit"
	featPatrol         = "patrol"
	featResponsibility = "responsibility"
)

var (
	streetRE    = regexp.MustCompile(`^[0-9]{9}$`)
	communityRE = regexp.MustCompile(`^[0-9]{12}$`)
	// Unit grid codes: digits per CJ/T 213; some local systems append
	// letters in the sequence part, which GB/T 47678 practice allows
	// (DOMAIN §2.1), so the sequence may hold [0-9A-Z].
	unitRE = regexp.MustCompile(`^[0-9]{12}[0-9A-Z]{3}$`)
	workRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$`)
)

// jurisdiction is the code prefix every street, community and grid code of
// a tenant must start with: the county's 6 digits; for a city (or a
// management area, which sits under one) the city's first 4, so its
// districts' grids belong to it; for a province its first 2.
type jurisdiction struct {
	prefix string
	tenant string
}

func jurisdictionOf(t *tenant.Tenant) jurisdiction {
	n := 6
	switch {
	case t.ManagementArea, t.Level == region.City:
		n = 4
	case t.Level == region.Province:
		n = 2
	case t.Level == region.National:
		n = len(t.Code) + 1 // nothing matches: the national tenant has no grids
	}
	p := t.Code
	if n <= len(p) {
		p = p[:n]
	}
	return jurisdiction{prefix: p, tenant: t.Code}
}

// owns reports whether code lies in the tenant's jurisdiction.
func (j jurisdiction) owns(code string) bool {
	return len(j.prefix) <= len(code) && strings.HasPrefix(code, j.prefix) && len(j.prefix) < 7
}

func (j jurisdiction) foreign(idx int, field, code string) Problem {
	return Problem{FeatureIndex: idx, Code: code, Field: field, Rule: RuleForeignCode,
		ZH: fmt.Sprintf("编码 %s 不属于本租户 %s 的辖区（应以 %s 开头）", code, j.tenant, j.prefix),
		EN: fmt.Sprintf("code %s does not belong to tenant %s (it must start with %s)", code, j.tenant, j.prefix)}
}

func codeProblem(idx int, field, code, zh, en string) Problem {
	return Problem{FeatureIndex: idx, Code: code, Field: field, Rule: RuleCodeInvalid, ZH: zh, EN: en}
}

func checkLen(idx int, code, field, v string, max int) *Problem {
	if n := len([]rune(v)); n > max {
		return &Problem{FeatureIndex: idx, Code: code, Field: field, Rule: RuleTooLong,
			ZH: fmt.Sprintf("长度 %d 超过上限 %d", n, max), EN: fmt.Sprintf("length %d exceeds the limit of %d", n, max)}
	}
	return nil
}
