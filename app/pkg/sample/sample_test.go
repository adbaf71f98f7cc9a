package sample

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/pkg/geo"
)

func TestGenerateIsDeterministicAndWellFormed(t *testing.T) {
	t.Parallel()
	o := Options{Seed: 7, Cells: 600, Districts: []string{"450102", "450103"}, PatrolGrids: 6, Departments: []string{"NN-XNQ", "NN-QXQ"}}
	a, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(o)
	var ga, gb bytes.Buffer
	if err := a.WriteGrids(&ga); err != nil {
		t.Fatal(err)
	}
	_ = b.WriteGrids(&gb)
	if !bytes.Equal(ga.Bytes(), gb.Bytes()) {
		t.Fatal("the same seed must give the same territory")
	}
	if len(a.Grids) != 600 {
		t.Fatalf("%d grids, want 600", len(a.Grids))
	}
	seen := map[string]bool{}
	for _, g := range a.Grids {
		if len(g.Code) != 15 || !strings.HasPrefix(g.Code, g.Community) || !strings.HasPrefix(g.Community, g.Street) ||
			!strings.HasPrefix(g.Street, g.District) || seen[g.Code] {
			t.Fatalf("bad or duplicate grid code %+v", g)
		}
		seen[g.Code] = true
	}
	// Work grid codes are unique across districts too.
	resp := map[string]bool{}
	for code := range a.Resp {
		if resp[code] {
			t.Fatalf("duplicate responsibility grid %s", code)
		}
		resp[code] = true
	}
	if len(a.Resp) != len(a.Streets) {
		t.Fatalf("%d responsibility grids for %d streets", len(a.Resp), len(a.Streets))
	}
	// Every feature parses back and validates.
	n := 0
	for f, err := range geo.ParseFeatureCollection(bytes.NewReader(ga.Bytes())) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if f.Geometry != nil {
			if _, ps := geo.ValidatePolygonal("geometry", *f.Geometry); len(ps) > 0 {
				t.Fatalf("feature %d: %v", n, ps)
			}
		}
	}
	if n < 600+len(a.Streets)+len(a.Communities)+len(a.Patrol) {
		t.Fatalf("only %d features", n)
	}
	var comps bytes.Buffer
	if err := a.WriteComponents(&comps, 7, 2000); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&comps).ReadAll()
	if err != nil || len(rows) != 2001 || rows[0][0] != "标识码" {
		t.Fatalf("components csv: %d rows, %v", len(rows), err)
	}
	ids := map[string]bool{}
	for _, r := range rows[1:] {
		if len(r[0]) != 17 || r[0][6:11] != r[2] || ids[r[0]] {
			t.Fatalf("bad or duplicate component id %q (class %s)", r[0], r[2])
		}
		ids[r[0]] = true
	}
}

func TestGenerateRejectsBadDistricts(t *testing.T) {
	t.Parallel()
	if _, err := Generate(Options{Cells: 10}); err == nil {
		t.Fatal("no districts must be an error")
	}
	if _, err := Generate(Options{Cells: 10, Districts: []string{"4501"}}); err == nil {
		t.Fatal("a short district code must be an error")
	}
}
