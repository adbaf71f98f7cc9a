package taxonomy_test

import (
	"slices"
	"testing"

	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
)

func loadRef(t testing.TB) *taxonomy.Reference {
	t.Helper()
	ref, err := taxonomy.LoadReference()
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

type counts struct{ componentMajors, componentMinors, eventMajors, eventMinors int }

func countOf(cs []taxonomy.Class) counts {
	var c counts
	for _, x := range cs {
		switch {
		case x.Kind == taxonomy.Component && x.Level == taxonomy.Major:
			c.componentMajors++
		case x.Kind == taxonomy.Component:
			c.componentMinors++
		case x.Level == taxonomy.Major:
			c.eventMajors++
		default:
			c.eventMinors++
		}
	}
	return c
}

// The shipped lists hold exactly what DOMAIN §3 lists: 153 components and
// 250 matters in GB/T 47678.5-2026, and the legacy practice lists.
func TestReferenceCounts(t *testing.T) {
	t.Parallel()
	ref := loadRef(t)
	for _, tc := range []struct {
		scheme string
		want   counts
	}{
		{taxonomy.SchemeGB47678, counts{5, 153, 10, 250}},
		{taxonomy.SchemeCJT214, counts{5, 77, 5, 54}},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			t.Parallel()
			cs := ref.Classes(tc.scheme)
			if got := countOf(cs); got != tc.want {
				t.Errorf("counts = %+v, want %+v", got, tc.want)
			}
			s, _ := taxonomy.SchemeByID(tc.scheme)
			seen := map[string]bool{}
			for _, c := range cs {
				key := string(c.Kind) + "/" + c.Code
				if seen[key] {
					t.Errorf("%s appears twice", key)
				}
				seen[key] = true
				if c.Level != taxonomy.Major {
					if _, ok := ref.Lookup(tc.scheme, c.Kind, c.ParentCode); !ok || c.ParentCode != s.ParentOf(c.Code) {
						t.Errorf("%s %s: major %q missing", c.Kind, c.Code, c.ParentCode)
					}
				}
			}
		})
	}
}

// Codes are unique per kind, not across kinds: 01001 is a component and
// a matter, and the matters 01–05 mirror the components.
func TestReferenceMattersMirrorComponents(t *testing.T) {
	t.Parallel()
	ref := loadRef(t)
	for _, c := range ref.Classes(taxonomy.SchemeGB47678) {
		if c.Kind != taxonomy.Component || c.Level != taxonomy.Minor {
			continue
		}
		m, ok := ref.Lookup(taxonomy.SchemeGB47678, taxonomy.Event, c.Code)
		if !ok || m.NameZH != c.NameZH+"异常" {
			t.Errorf("matter %s = %+v, want %s异常", c.Code, m, c.NameZH)
		}
	}
	for _, k := range taxonomy.Kinds() {
		for _, code := range taxonomy.MissingGB47678(k) {
			if _, ok := ref.Lookup(taxonomy.SchemeGB47678, k, code); ok {
				t.Errorf("%s %s is listed as missing but shipped", k, code)
			}
			if !ref.IsNational(taxonomy.SchemeGB47678, k, code) {
				t.Errorf("%s %s is not reserved", k, code)
			}
		}
	}
}

func TestReferenceCrosswalk(t *testing.T) {
	t.Parallel()
	ref := loadRef(t)
	entries := ref.Crosswalk()
	byLegacy := map[string]taxonomy.CrosswalkEntry{}
	for _, e := range entries {
		key := string(e.Kind) + "/" + e.LegacyCode
		if _, dup := byLegacy[key]; dup {
			t.Errorf("%s mapped twice", key)
		}
		byLegacy[key] = e
		legacy, ok := ref.Lookup(taxonomy.SchemeCJT214, e.Kind, e.LegacyCode)
		if !ok || legacy.NameZH != e.LegacyName {
			t.Errorf("%s: legacy class %+v does not match %q", key, legacy, e.LegacyName)
		}
		switch {
		case e.NationalCode == "":
			if e.Match != "none" || e.Note == "" {
				t.Errorf("%s: unmapped without reason: %+v", key, e)
			}
		default:
			n, ok := ref.Lookup(taxonomy.SchemeGB47678, e.Kind, e.NationalCode)
			if !ok || n.Level != taxonomy.Minor || n.NameZH != e.NationalName {
				t.Errorf("%s: target %s %s missing or misnamed (%+v)", key, e.Kind, e.NationalCode, n)
			}
			if (e.Match == "exact") != (e.LegacyName == e.NationalName) || !slices.Contains([]string{"exact", "renamed", "approximate"}, e.Match) {
				t.Errorf("%s: match %q for %s → %s", key, e.Match, e.LegacyName, e.NationalName)
			}
		}
	}
	// Every legacy minor is covered, and the seeded legacy classes carry
	// the mapping.
	for _, c := range ref.Classes(taxonomy.SchemeCJT214) {
		if c.Level == taxonomy.Major {
			continue
		}
		e, ok := byLegacy[string(c.Kind)+"/"+c.Code]
		if !ok {
			t.Errorf("legacy %s %s %s has no crosswalk entry", c.Kind, c.Code, c.NameZH)
			continue
		}
		if c.NationalCode != e.NationalCode {
			t.Errorf("legacy %s %s national code %q, want %q", c.Kind, c.Code, c.NationalCode, e.NationalCode)
		}
	}
	if e := byLegacy["component/0101"]; e.NationalCode != "01001" || e.NationalName != "供水井盖" {
		t.Errorf("0101 上水井盖 → %+v", e)
	}
}

func TestReferenceSamples(t *testing.T) {
	t.Parallel()
	ref := loadRef(t)
	for _, tc := range []struct {
		scheme string
		want   int
	}{{taxonomy.SchemeGB47678, 13}, {taxonomy.SchemeCJT214, 13}} {
		conds := ref.SampleConditions(tc.scheme)
		if len(conds) != tc.want {
			t.Errorf("%s: %d sample conditions, want %d", tc.scheme, len(conds), tc.want)
		}
		for _, c := range conds {
			cls, ok := ref.Lookup(tc.scheme, c.Kind, c.ClassCode)
			if !ok || cls.Level != taxonomy.Minor {
				t.Errorf("%s: condition %s on unknown class %s %s", tc.scheme, c.Code, c.Kind, c.ClassCode)
			}
			c := c
			if err := taxonomy.ValidateFilingCondition(&c); err != nil {
				t.Errorf("%s: condition %s: %v", tc.scheme, c.Code, err)
			}
		}
	}
	// The staged example of DOMAIN §5.2, and a legacy component problem
	// filed under the legacy component class.
	var staged, sewer bool
	for _, c := range ref.SampleConditions(taxonomy.SchemeCJT214) {
		if c.Kind == taxonomy.Event && c.ClassCode == "0101" && c.Code == "010101" {
			l := c.TimeLimits[0]
			staged = len(c.TimeLimits) == 1 && taxonomy.FormatLimit(l) == "28工作日(停工4工作时/处罚7工作日/拆除20工作日)"
		}
		if c.Kind == taxonomy.Component && c.ClassCode == "0102" && c.Urgency == taxonomy.Urgent {
			sewer = len(c.TimeLimits) == 3
		}
	}
	if !staged || !sewer {
		t.Errorf("legacy samples: staged 私搭乱建 %v, 污水井盖 on the component %v", staged, sewer)
	}
}
