package taxonomy

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The reference data shipped with the platform. The files carry their
// sources and confidence tags in their header comments.
//
//go:embed data/*.csv
var dataFS embed.FS

// Scheme identifiers (as cityctl and the API name them) and the standards
// stored in TaxonomyClass.scheme.
const (
	SchemeGB47678   = "gb47678-2026"
	SchemeCJT214    = "cjt214-2007"
	StandardGB47678 = "GB/T 47678.5-2026"
	StandardCJT214  = "CJ/T 214-2007"
	// SchemeLocal marks a tenant's own classes.
	SchemeLocal = "LOCAL"
)

// Scheme is a national classification scheme: how its codes are built and
// which codes a tenant may take for its own classes.
type Scheme struct {
	ID       string
	Standard string
	// MinorDigits is the length of the minor part of a minor code: 3 in
	// GB/T 47678.5-2026 (01001), 2 in CJ/T 214-2007 (0101).
	MinorDigits int
	// LocalMinorFrom..LocalMinorTo is the range of minor suffixes a tenant
	// may use for local minors inside a national major. The 2026 scheme
	// uses at most 077, so 900–999 leaves room for future national codes;
	// legacy systems use 9x for local items and 99 for 其他, so 90–98.
	LocalMinorFrom, LocalMinorTo int
	file                         string
}

// MinorLen is the length of a minor code.
func (s Scheme) MinorLen() int { return 2 + s.MinorDigits }

// DetailLen is the length of a 细类 code: its minor's code and two digits
// (up to 99 细类 per minor; Chengdu's whole table has 77).
func (s Scheme) DetailLen() int { return s.MinorLen() + 2 }

// ExtensionMajorFrom is the first major code a tenant may add: 90–99 are
// extension majors in both schemes (e.g. 扩展事件), never national ones.
const ExtensionMajorFrom = 90

// Schemes lists the national schemes the platform ships, the default first.
func Schemes() []Scheme {
	return []Scheme{
		{ID: SchemeGB47678, Standard: StandardGB47678, MinorDigits: 3, LocalMinorFrom: 900, LocalMinorTo: 999, file: "data/gb47678-2026.csv"},
		{ID: SchemeCJT214, Standard: StandardCJT214, MinorDigits: 2, LocalMinorFrom: 90, LocalMinorTo: 98, file: "data/cjt214-2007.csv"},
	}
}

// SchemeByID returns a scheme by its identifier or its standard's name.
func SchemeByID(id string) (Scheme, bool) {
	for _, s := range Schemes() {
		if s.ID == id || s.Standard == id {
			return s, true
		}
	}
	return Scheme{}, false
}

// CrosswalkEntry maps one legacy minor class to its GB/T 47678.5-2026
// counterpart of the same kind.
type CrosswalkEntry struct {
	Kind         Kind
	LegacyCode   string
	LegacyName   string
	NationalCode string // "" when there is none; Note says why
	NationalName string
	// Match is exact, renamed, approximate or none.
	Match string
	Note  string
}

type classKey struct {
	kind Kind
	code string
}

// Reference is the parsed reference data: the classes of each national
// scheme, the legacy → 2026 crosswalk and the sample filing conditions.
// It is built once per Usecase and only read afterwards.
type Reference struct {
	classes   map[string][]Class // by scheme ID, in file order
	index     map[string]map[classKey]int
	crosswalk []CrosswalkEntry
	byLegacy  map[classKey]CrosswalkEntry
	samples   []FilingCondition // GB/T 47678.5-2026 codes
}

// LoadReference parses the embedded reference files.
func LoadReference() (*Reference, error) {
	r := &Reference{classes: map[string][]Class{}, index: map[string]map[classKey]int{}, byLegacy: map[classKey]CrosswalkEntry{}}
	for _, s := range Schemes() {
		cs, err := loadClasses(s)
		if err != nil {
			return nil, err
		}
		r.classes[s.ID] = cs
		idx := make(map[classKey]int, len(cs))
		for i, c := range cs {
			idx[classKey{c.Kind, c.Code}] = i
		}
		r.index[s.ID] = idx
	}
	if err := r.loadCrosswalk(); err != nil {
		return nil, err
	}
	if err := r.loadSamples(); err != nil {
		return nil, err
	}
	return r, nil
}

// readData returns the records of an embedded CSV file without its
// leading # comment lines and its header.
func readData(name string, header []string) ([][]string, error) {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("taxonomy reference %s: %w", name, err)
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.Comment = '#'
	cr.FieldsPerRecord = len(header)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("taxonomy reference %s: %w", name, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		return nil, fmt.Errorf("taxonomy reference %s: header is not %v", name, header)
	}
	return recs[1:], nil
}

func loadClasses(s Scheme) ([]Class, error) {
	recs, err := readData(s.file, []string{"kind", "level", "code", "parent_code", "name_zh"})
	if err != nil {
		return nil, err
	}
	out := make([]Class, 0, len(recs))
	for i, rec := range recs {
		c := Class{Kind: Kind(rec[0]), Level: Level(rec[1]), Code: rec[2], ParentCode: rec[3], NameZH: rec[4],
			Scheme: s.Standard, Active: true}
		lvl, ok := s.LevelOf(c.Code)
		if !c.Kind.Valid() || !ok || lvl != c.Level || s.ParentOf(c.Code) != c.ParentCode || c.NameZH == "" {
			return nil, fmt.Errorf("taxonomy reference %s: record %d (%v) is malformed", s.file, i+1, rec)
		}
		if s.ID == SchemeGB47678 {
			c.NationalCode = c.Code
		}
		out = append(out, c)
	}
	return out, nil
}

func (r *Reference) loadCrosswalk() error {
	recs, err := readData("data/crosswalk-cjt214-gb47678.csv",
		[]string{"kind", "legacy_code", "legacy_name", "national_code", "national_name", "match", "note"})
	if err != nil {
		return err
	}
	for i, rec := range recs {
		e := CrosswalkEntry{Kind: Kind(rec[0]), LegacyCode: rec[1], LegacyName: rec[2], NationalCode: rec[3],
			NationalName: rec[4], Match: rec[5], Note: rec[6]}
		if _, ok := r.Lookup(SchemeCJT214, e.Kind, e.LegacyCode); !ok {
			return fmt.Errorf("taxonomy crosswalk: record %d: no legacy %s class %s", i+1, e.Kind, e.LegacyCode)
		}
		if e.NationalCode != "" {
			if _, ok := r.Lookup(SchemeGB47678, e.Kind, e.NationalCode); !ok {
				return fmt.Errorf("taxonomy crosswalk: record %d: no 2026 %s class %s", i+1, e.Kind, e.NationalCode)
			}
		}
		r.crosswalk = append(r.crosswalk, e)
		r.byLegacy[classKey{e.Kind, e.LegacyCode}] = e
	}
	legacy := r.classes[SchemeCJT214]
	for i := range legacy {
		c := &legacy[i]
		if e, ok := r.byLegacy[classKey{c.Kind, c.Code}]; ok {
			c.NationalCode = e.NationalCode
		}
	}
	return nil
}

func (r *Reference) loadSamples() error {
	raw, err := dataFS.ReadFile("data/filing-conditions-sample.csv")
	if err != nil {
		return fmt.Errorf("taxonomy samples: %w", err)
	}
	// The sample is in the import table's own format, so it is read by the
	// same parser as a city's file, after its comment lines.
	var body bytes.Buffer
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "#") {
			body.WriteString(line)
		}
	}
	t, probs := ParseTable(body.Bytes(), ParseOptions{Format: FormatCSV, Reference: r})
	if len(probs) > 0 {
		return fmt.Errorf("taxonomy samples: %w", probs)
	}
	for _, c := range t.Conditions {
		if _, ok := r.Lookup(SchemeGB47678, c.Kind, c.ClassCode); !ok {
			return fmt.Errorf("taxonomy samples: no 2026 %s class %s", c.Kind, c.ClassCode)
		}
	}
	r.samples = t.Conditions
	return nil
}

// Classes returns a copy of the classes of a scheme, in file order.
func (r *Reference) Classes(schemeID string) []Class { return slices.Clone(r.classes[schemeID]) }

// Lookup returns a class of a national scheme.
func (r *Reference) Lookup(schemeID string, kind Kind, code string) (Class, bool) {
	i, ok := r.index[schemeID][classKey{kind, code}]
	if !ok {
		return Class{}, false
	}
	return r.classes[schemeID][i], true
}

// Crosswalk returns the legacy → 2026 entries, in file order.
func (r *Reference) Crosswalk() []CrosswalkEntry { return slices.Clone(r.crosswalk) }

// SampleConditions returns the sample filing conditions for a scheme. The
// samples are written against GB/T 47678.5-2026; for the legacy scheme
// each goes to every legacy class the crosswalk maps onto its class. A
// 2026 matter in majors 01–05 is a component problem, which legacy
// systems file under the component class, so those go to legacy
// components as well.
func (r *Reference) SampleConditions(schemeID string) []FilingCondition {
	if schemeID == SchemeGB47678 {
		out := make([]FilingCondition, 0, len(r.samples))
		for _, c := range r.samples {
			c.TimeLimits = cloneLimits(c.TimeLimits)
			out = append(out, c)
		}
		return out
	}
	var out []FilingCondition
	for _, s := range r.samples {
		componentProblem := s.Kind == Event && len(s.ClassCode) == 5 && s.ClassCode[:2] <= "05"
		for _, e := range r.crosswalk {
			if e.NationalCode != s.ClassCode || !(e.Kind == s.Kind || (componentProblem && e.Kind == Component)) {
				continue
			}
			c := s
			c.Kind, c.ClassCode = e.Kind, e.LegacyCode
			c.Code = e.LegacyCode + s.Code[len(s.Code)-2:]
			c.TimeLimits = cloneLimits(s.TimeLimits)
			out = append(out, c)
		}
	}
	return out
}

// IsNational reports whether code is a class of the scheme (or a code the
// transcription of the scheme is known to lack, which stays reserved).
func (r *Reference) IsNational(schemeID string, kind Kind, code string) bool {
	if _, ok := r.Lookup(schemeID, kind, code); ok {
		return true
	}
	return schemeID == SchemeGB47678 && slices.Contains(MissingGB47678(kind), code)
}

// MissingGB47678 returns the codes of a kind that the transcription of
// GB/T 47678.5-2026 lacks (DOMAIN §3.2). They exist in the standard, so no
// tenant may take them for a local class.
func MissingGB47678(kind Kind) []string {
	out := []string{"01016", "05001", "05004", "05005", "05006", "05007", "05008"}
	if kind == Event {
		out = append(out, "06031", "07005", "09007")
	}
	return out
}

// LevelOf returns the level a code of this scheme has by its length.
func (s Scheme) LevelOf(code string) (Level, bool) {
	if !allDigits(code) {
		return "", false
	}
	switch len(code) {
	case 2:
		return Major, true
	case s.MinorLen():
		return Minor, true
	case s.DetailLen():
		return Detail, true
	}
	return "", false
}

// ParentOf returns the parent code of a code of this scheme: the major of
// a minor, the minor of a 细类, "" for a major or a malformed code.
func (s Scheme) ParentOf(code string) string {
	lvl, ok := s.LevelOf(code)
	switch {
	case !ok || lvl == Major:
		return ""
	case lvl == Minor:
		return code[:2]
	}
	return code[:s.MinorLen()]
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// suffix returns the numeric value of code after its first n bytes.
func suffix(code string, n int) int {
	v, err := strconv.Atoi(code[n:])
	if err != nil {
		return -1
	}
	return v
}
