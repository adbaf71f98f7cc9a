package component

import (
	"fmt"
	"strings"
	"time"

	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Problem is one broken rule of one value, with a stable reason key and a
// message in both languages.
type Problem struct {
	Field  string // canonical column key: obj_id, class_code, …
	Reason string
	ZH, EN string
}

// Error returns the English message.
func (p *Problem) Error() string { return p.Field + ": " + p.EN }

func problem(field, reason, zh, en string, args ...any) *Problem {
	return &Problem{Field: field, Reason: reason, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}
}

// Reasons a row is rejected (ComponentImportRejection.reason).
const (
	ReasonIDInvalid          = "id_invalid"
	ReasonRegionMismatch     = "region_mismatch"
	ReasonClassMismatch      = "class_mismatch"
	ReasonClassNotFound      = "class_not_found"
	ReasonGridInvalid        = "grid_invalid"
	ReasonGridNotFound       = "grid_not_found"
	ReasonStatusInvalid      = "status_invalid"
	ReasonDateInvalid        = "date_invalid"
	ReasonCreditCodeInvalid  = "credit_code_invalid"
	ReasonCoordinatesMissing = "coordinates_missing"
	ReasonCoordinatesInvalid = "coordinates_invalid"
	ReasonCoordinatesSwapped = "coordinates_swapped"
	ReasonOutsideChina       = "outside_china"
	ReasonCRSInvalid         = "crs_invalid"
	ReasonTooLong            = "too_long"
	ReasonDuplicateID        = "duplicate_id"
	ReasonMalformedRow       = "malformed_row"
	ReasonGeometryInvalid    = "geometry_invalid"
)

// ID is a parsed component id (标识码).
type ID struct {
	Scheme    string
	Admin     string // 6-digit GB/T 2260 code
	ClassCode string // 4 digits (legacy) or 5 (2026)
	Serial    string // 6 digits
}

// ParseID splits a 16-digit legacy (admin 6 + major 2 + minor 2 + serial 6)
// or 17-digit 2026 (admin 6 + major 2 + minor 3 + serial 6) id.
func ParseID(s string) (ID, *Problem) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ID{}, problem("obj_id", ReasonIDInvalid, "标识码 %q 只能由数字组成", "id %q must be digits only", s)
		}
	}
	switch len(s) {
	case 16:
		return ID{Scheme: SchemeLegacy, Admin: s[:6], ClassCode: s[6:10], Serial: s[10:]}, nil
	case 17:
		return ID{Scheme: Scheme2026, Admin: s[:6], ClassCode: s[6:11], Serial: s[11:]}, nil
	}
	return ID{}, problem("obj_id", ReasonIDInvalid,
		"标识码 %q 应为 16 位（CJ/T 214）或 17 位（GB/T 47678.5-2026），实为 %d 位",
		"id %q must have 16 digits (CJ/T 214) or 17 (GB/T 47678.5-2026), not %d", s, len(s))
}

// Region says which 6-digit administrative codes a tenant's ids may start
// with: its own code for a county; any district of the city (same first 4
// digits) for a city; the province's for a province; any for the nation. A
// management area (开发区) has no GB code, so it takes its parent city's.
type Region struct {
	prefix string
	exact  bool
	label  string
}

// RegionOf returns the id region of t.
func RegionOf(t *tenant.Tenant) Region {
	code, level := t.Code, t.Level
	if t.ManagementArea {
		code, level = t.ParentCode, region.City
	}
	switch {
	case len(code) != 6:
		return Region{label: t.Code}
	case level == region.County:
		return Region{prefix: code, exact: true, label: code}
	case level == region.City:
		return Region{prefix: code[:4], label: code[:4] + "xx"}
	case level == region.Province:
		return Region{prefix: code[:2], label: code[:2] + "xxxx"}
	}
	return Region{label: "000000"}
}

// Contains reports whether admin belongs to the region.
func (r Region) Contains(admin string) bool {
	if r.exact {
		return admin == r.prefix
	}
	return strings.HasPrefix(admin, r.prefix)
}

// CheckID validates an id against the tenant's region and, when given, the
// row's class code.
func CheckID(objID, classCode string, r Region) (ID, *Problem) {
	id, p := ParseID(objID)
	if p != nil {
		return id, p
	}
	if !r.Contains(id.Admin) {
		return id, problem("obj_id", ReasonRegionMismatch,
			"标识码 %s 的行政区划代码 %s 不属于本租户（%s）", "id %s has region code %s, which is not this tenant's (%s)",
			objID, id.Admin, r.label)
	}
	if classCode != "" && classCode != id.ClassCode {
		return id, problem("class_code", ReasonClassMismatch,
			"小类代码 %s 与标识码 %s 中的分类 %s 不一致", "class code %s does not match the class %s within id %s",
			classCode, objID, id.ClassCode)
	}
	return id, nil
}

// statusWords maps every accepted spelling to a status.
var statusWords = map[string]Status{
	"完好": StatusGood, "破损": StatusDamaged, "丢失": StatusLost, "废弃": StatusAbandoned, "移除": StatusRemoved,
	"good": StatusGood, "damaged": StatusDamaged, "lost": StatusLost, "abandoned": StatusAbandoned, "removed": StatusRemoved,
}

// ParseStatus accepts a status in Chinese or English (any case); empty is
// good (完好), the census default.
func ParseStatus(s string) (Status, *Problem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return StatusGood, nil
	}
	if st, ok := statusWords[strings.ToLower(s)]; ok {
		return st, nil
	}
	return "", problem("status", ReasonStatusInvalid,
		"部件状态 %q 无效（应为 完好、破损、丢失、废弃、移除 之一）",
		"status %q is not valid (want good, damaged, lost, abandoned or removed)", s)
}

// ZH returns the Chinese word of a status.
func (s Status) ZH() string {
	for w, st := range statusWords {
		if st == s && w[0] >= 0x80 {
			return w
		}
	}
	return string(s)
}

// Valid reports whether s is one of the five statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusGood, StatusDamaged, StatusLost, StatusAbandoned, StatusRemoved:
		return true
	}
	return false
}

// dateLayouts are what census files carry: the standard's YYYYMMDD and
// the dashes and slashes spreadsheets turn it into.
var dateLayouts = []string{"20060102", "2006-01-02", "2006/1/2", "2006-1-2", "2006/01/02", "2006.01.02"}

// ParseDate normalizes a date to YYYYMMDD; empty stays empty.
func ParseDate(field, s string) (string, *Problem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if isYYYYMMDD(s) {
		return s, nil // what the first layout would parse and format back
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil && t.Year() >= 1900 && t.Year() <= 2200 {
			return t.Format("20060102"), nil
		}
	}
	return "", problem(field, ReasonDateInvalid, "日期 %q 无效（应为 YYYYMMDD）", "date %q is not valid (want YYYYMMDD)", s)
}

// isYYYYMMDD reports whether s is a valid date of the standard's form in
// ParseDate's years, without time.Parse (a census has a date in every
// row).
func isYYYYMMDD(s string) bool {
	if len(s) != 8 || !allIn(s, digits) {
		return false
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := time.Month(int(s[4]-'0')*10 + int(s[5]-'0'))
	d := int(s[6]-'0')*10 + int(s[7]-'0')
	if y < 1900 || y > 2200 || m < time.January || m > time.December || d < 1 {
		return false
	}
	// Day 0 of the next month is the last day of this one.
	return d <= time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// charset is a set of ASCII bytes.
type charset [256]bool

func newCharset(chars string) *charset {
	var c charset
	for i := range len(chars) {
		c[chars[i]] = true
	}
	return &c
}

// allIn reports whether every byte of s is in c (strings.Trim(s, chars) ==
// "" for an ASCII set, without building the set each call).
func allIn(s string, c *charset) bool {
	for i := range len(s) {
		if !c[s[i]] {
			return false
		}
	}
	return true
}

var (
	digits        = newCharset("0123456789")
	creditChars   = newCharset(creditCharset)
	gridCodeChars = newCharset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
)

// creditCharset is the alphabet of 统一社会信用代码 (GB 32100-2015): digits
// and capitals without I, O, S, V, Z.
const creditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// CheckCreditCode checks a 统一社会信用代码 when given: 18 characters of
// its alphabet. The check digit is not verified: census files carry codes
// typed by hand, and a wrong digit is for the department to fix, not a
// reason to drop the component.
func CheckCreditCode(field, s string) *Problem {
	if s == "" {
		return nil
	}
	if len(s) != 18 || !allIn(s, creditChars) {
		return problem(field, ReasonCreditCodeInvalid,
			"统一社会信用代码 %q 无效（应为 18 位数字或大写字母）",
			"unified social credit code %q is not valid (want 18 digits or capital letters)", s)
	}
	return nil
}

// CheckGridCode checks the shape of a unit grid code (15 of [0-9A-Z]; see
// DOMAIN §2.1).
func CheckGridCode(s string) *Problem {
	if s == "" {
		return nil
	}
	if len(s) != 15 || !allIn(s, gridCodeChars) {
		return problem("grid_code", ReasonGridInvalid,
			"单元网格标识码 %q 无效（应为 15 位数字或大写字母）", "unit grid code %q is not valid (want 15 digits or capital letters)", s)
	}
	return nil
}

// China's extent with a margin (Zengmu Ansha to Heilongjiang, Pamirs to the
// Wusuli), used to catch coordinates that are not Chinese or were swapped.
const (
	chinaMinLon, chinaMaxLon = 73.4, 135.1
	chinaMinLat, chinaMaxLat = 3.8, 53.6
)

// InChina reports whether lon/lat lies in China's extent.
func InChina(lon, lat float64) bool {
	return lon >= chinaMinLon && lon <= chinaMaxLon && lat >= chinaMinLat && lat <= chinaMaxLat
}

// CheckPoint rejects a point outside China, recognizing swapped lat/lon.
func CheckPoint(lon, lat float64) *Problem {
	if InChina(lon, lat) {
		return nil
	}
	if InChina(lat, lon) {
		return problem("lon", ReasonCoordinatesSwapped,
			"经纬度疑似颠倒：经度 %g、纬度 %g（经度应在 73–135 之间）",
			"longitude and latitude look swapped: lon %g, lat %g (longitude must lie within 73–135)", lon, lat)
	}
	return problem("lon", ReasonOutsideChina, "坐标 (%g, %g) 不在中国境内", "the point (%g, %g) lies outside China", lon, lat)
}

// maxLen are the stored byte lengths of the text attributes (ent schema).
var maxLen = map[string]int{
	"name": 64, "main_dept_name": 100, "owner_name": 100, "maintainer_name": 100,
	"main_dept_code": 18, "owner_code": 18, "maintainer_code": 18,
	"street_code": 9, "community_code": 12, "data_source": 30, "note": 256,
}

func checkLen(field, v string) *Problem {
	if n, ok := maxLen[field]; ok && len(v) > n {
		return problem(field, ReasonTooLong, "内容过长（%d 字节，最多 %d）", "too long (%d bytes, at most %d)", len(v), n)
	}
	return nil
}
