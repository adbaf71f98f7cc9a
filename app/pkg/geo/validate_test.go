package geo

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	sq := []Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}}
	pg := func(rings ...[]Position) Geometry { return PolygonGeometry(poly(rings...)) }
	tests := []struct {
		name  string
		g     Geometry
		codes []string
		path  string // of the first problem
	}{
		{"valid grid", pg(sq), nil, ""},
		{"valid clockwise grid (normalized)", pg([]Position{{0, 0}, {0, 10}, {10, 10}, {10, 0}}), nil, ""},
		{"valid with hole", pg(sq, []Position{{2, 2}, {4, 2}, {4, 4}, {2, 4}}), nil, ""},
		{"hole touching shell at a vertex", pg(sq, []Position{{0, 0}, {4, 2}, {2, 4}}), nil, ""},
		{"collinear vertices on a straight edge (T-junction)", pg([]Position{{0, 0}, {5, 0}, {10, 0}, {10, 10}, {0, 10}}), nil, ""},
		{"repeated consecutive vertex", pg([]Position{{0, 0}, {10, 0}, {10, 0}, {10, 10}, {0, 10}}), nil, ""},
		{"concave", pg([]Position{{0, 0}, {10, 0}, {10, 10}, {5, 3}, {0, 10}}), nil, ""},
		{"unclosed ring", PolygonGeometry(Polygon{Ring{{108.3, 22.8}, {108.31, 22.8}, {108.31, 22.81}, {108.3, 22.81}}}),
			[]string{CodeRingNotClosed}, "coordinates[0]"},
		{"too few points", PolygonGeometry(Polygon{Ring{{108.3, 22.8}, {108.31, 22.8}, {108.3, 22.8}}}),
			[]string{CodeTooFewPoints}, "coordinates[0]"},
		{"bowtie", pg([]Position{{0, 0}, {10, 10}, {10, 0}, {0, 10}}), []string{CodeSelfIntersection}, "coordinates[0][2]"},
		{"spike back along an edge", pg([]Position{{0, 0}, {10, 0}, {10, 10}, {10, 5}, {0, 10}}), []string{CodeSelfIntersection}, "coordinates[0][2]"},
		{"spike at the closing vertex", pg([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 12}}), []string{CodeSelfIntersection}, "coordinates[0][4]"},
		{"figure eight through a vertex", pg([]Position{{0, 0}, {10, 0}, {5, 5}, {10, 10}, {0, 10}, {5, 5}}), []string{CodeSelfIntersection}, "coordinates[0][4]"},
		{"edge touching a non-adjacent vertex", pg([]Position{{0, 0}, {10, 0}, {10, 10}, {5, 0}, {0, 10}}), []string{CodeSelfIntersection}, "coordinates[0][2]"},
		{"collinear all", pg([]Position{{0, 0}, {5, 0}, {10, 0}}), []string{CodeDegenerateRing}, "coordinates[0]"},
		{"hole outside shell", pg(sq, []Position{{8, 8}, {12, 8}, {12, 12}, {8, 12}}), []string{CodeHoleOutsideShell}, "coordinates[1]"},
		{"hole entirely outside", pg(sq, []Position{{20, 20}, {22, 20}, {22, 22}}), []string{CodeHoleOutsideShell}, "coordinates[1]"},
		{"holes overlap", pg(sq, []Position{{1, 1}, {5, 1}, {5, 5}, {1, 5}}, []Position{{3, 3}, {7, 3}, {7, 7}, {3, 7}}), []string{CodeHolesOverlap}, "coordinates[2]"},
		{"swapped", PolygonGeometry(Polygon{Ring{{22.8, 108.3}, {22.8, 108.31}, {22.81, 108.31}, {22.8, 108.3}}}),
			[]string{CodeSwappedLonLat}, "coordinates[0][0]"},
		{"outside china", PointGeometry(2.35, 48.85), []string{CodeOutsideChina}, "coordinates"},
		{"projected metres", PointGeometry(37_000_000, 2_500_000), []string{CodeOutsideChina}, "coordinates"},
		{"NaN", PolygonGeometry(Polygon{Ring{{108.3, 22.8}, {math.NaN(), 22.8}, {108.31, 22.81}, {108.3, 22.8}}}),
			[]string{CodeInvalidNumber}, "coordinates[0][1]"},
		{"NaN first", PolygonGeometry(Polygon{Ring{{math.NaN(), 22.8}, {108.31, 22.8}, {108.31, 22.81}, {math.NaN(), 22.8}}}),
			[]string{CodeInvalidNumber}, "coordinates[0][0]"},
		{"line too short", Geometry{Type: TypeLineString, LineString: []Position{{108.3, 22.8}}}, []string{CodeTooFewPoints}, "coordinates"},
		{"empty multipolygon", Geometry{Type: TypeMultiPolygon}, []string{CodeEmptyGeometry}, "coordinates"},
		{"multipolygon parts overlap", MultiPolygonGeometry(MultiPolygon{poly(sq), poly([]Position{{5, 5}, {15, 5}, {15, 15}, {5, 15}})}),
			[]string{CodePartsOverlap}, "coordinates[1]"},
		{"multipolygon parts touch", MultiPolygonGeometry(MultiPolygon{poly(sq), poly([]Position{{10, 0}, {20, 0}, {20, 10}, {10, 10}})}), nil, ""},
		{"collection member", Geometry{Type: TypeGeometryCollection, Geometries: []Geometry{PointGeometry(108.3, 22.8), PointGeometry(0, 0)}},
			[]string{CodeOutsideChina}, "geometries[1].coordinates"},
		{"unknown type", Geometry{Type: "Circle"}, []string{CodeWrongType}, "type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, ps := Validate("", tc.g)
			if d := cmp.Diff(tc.codes, ps.Codes(), cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })); d != "" {
				t.Fatalf("codes (-want +got):\n%s\n%s", d, ps.Localize("en"))
			}
			if len(ps) > 0 && ps[0].Path != tc.path {
				t.Errorf("path = %q, want %q", ps[0].Path, tc.path)
			}
			checkBilingual(t, ps)
			for _, p := range out.Polygons() {
				for i, r := range p {
					if a := RingAreaM2(r); (i == 0) != (a > 0) && len(ps) == 0 {
						t.Errorf("ring %d has signed area %v after normalization", i, a)
					}
				}
			}
		})
	}
}

func TestValidateDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	cw := Polygon{Ring{{108.3, 22.8}, {108.3, 22.81}, {108.31, 22.81}, {108.31, 22.8}, {108.3, 22.8}}}
	orig := PolygonGeometry(Polygon{append(Ring(nil), cw[0]...)})
	out, ps := Validate("features[3].geometry", PolygonGeometry(cw))
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	if d := cmp.Diff(orig.Polygon, cw); d != "" {
		t.Errorf("input modified:\n%s", d)
	}
	if RingAreaM2(out.Polygon[0]) <= 0 {
		t.Error("exterior ring not made counter-clockwise")
	}
}

func TestValidatePathsAndCaps(t *testing.T) {
	t.Parallel()
	// One swapped ring: one problem with a count, not one per vertex.
	r := Ring{{22.8, 108.3}, {22.8, 108.31}, {22.81, 108.31}, {22.81, 108.3}, {22.8, 108.3}}
	_, ps := Validate(FeaturePath(12), PolygonGeometry(Polygon{r}))
	if len(ps) != 1 || ps[0].Path != "features[12].geometry.coordinates[0][0]" ||
		!strings.Contains(ps[0].EN, "5 positions") || !strings.Contains(ps[0].ZH, "交换后") {
		t.Fatalf("problems = %#v", ps)
	}
	// Many bad rings: the list is capped.
	var mp MultiPolygon
	for range 150 {
		mp = append(mp, Polygon{Ring{{1, 1}, {2, 1}, {1, 1}}})
	}
	_, ps = Validate("", MultiPolygonGeometry(mp))
	if len(ps) != maxProblems+1 || ps[len(ps)-1].Code != CodeTooManyProblems {
		t.Errorf("got %d problems, last %v", len(ps), ps[len(ps)-1])
	}
}

func TestValidatePolygonal(t *testing.T) {
	t.Parallel()
	for _, g := range []Geometry{
		PointGeometry(108.3, 22.8),
		{Type: TypeGeometryCollection, Geometries: []Geometry{PolygonGeometry(rect(108.3, 22.8, 108.31, 22.81))}},
	} {
		_, ps := ValidatePolygonal("features[0].geometry", g)
		if len(ps) != 1 || ps[0].Code != CodeUnsupportedType || ps[0].Path != "features[0].geometry.type" {
			t.Errorf("%s: %v", g.Type, ps)
		}
	}
	if _, ps := ValidatePolygonal("", PolygonGeometry(rect(108.3, 22.8, 108.31, 22.81))); len(ps) != 0 {
		t.Error(ps)
	}
}

func TestProblemLocalize(t *testing.T) {
	t.Parallel()
	p := Problem{Path: "features[1].geometry", Code: CodeWrongType, ZH: "类型错误", EN: "wrong type"}
	tests := map[string]string{
		"en":    "features[1].geometry: wrong type",
		"en-US": "features[1].geometry: wrong type",
		"zh-CN": "features[1].geometry: 类型错误",
		"":      "features[1].geometry: 类型错误",
	}
	for lang, want := range tests {
		if got := p.Localize(lang); got != want {
			t.Errorf("Localize(%q) = %q, want %q", lang, got, want)
		}
	}
	if got := (Problems{p, p}).Error(); got != "features[1].geometry: 类型错误\nfeatures[1].geometry: 类型错误" {
		t.Errorf("Error() = %q", got)
	}
}
