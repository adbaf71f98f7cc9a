package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// fuzzSeeds are the inputs every fuzzer starts from: valid grids and the
// ways real imports go wrong.
func fuzzSeeds() []string {
	grid, _ := json.Marshal(PolygonGeometry(SampleTerritory(1, 4).Cells[0].Polygon))
	return []string{
		string(grid),
		`{"type":"Polygon","coordinates":[[[108.32,22.82],[108.33,22.82],[108.33,22.83],[108.32,22.83],[108.32,22.82]]]}`,
		`{"type":"Polygon","coordinates":[[[108.32,22.82],[108.33,22.82],[108.33,22.83],[108.32,22.83]]]}`,                // unclosed
		`{"type":"Polygon","coordinates":[[[108.32,22.82],[108.33,22.83],[108.33,22.82],[108.32,22.83],[108.32,22.82]]]}`, // bowtie
		`{"type":"Polygon","coordinates":[[[22.82,108.32],[22.82,108.33],[22.83,108.33],[22.83,108.32],[22.82,108.32]]]}`, // swapped
		`{"type":"Polygon","coordinates":[[[108.32,22.82],[108.33,22.82],[108.33,22.83],[108.32,22.82]],[[108.325,22.821],[108.326,22.821],[108.326,22.822],[108.325,22.821]]]}`,
		`{"type":"Point","coordinates":[NaN,22.8]}`,
		`{"type":"Point","coordinates":[1e400,-1e400]}`,
		`{"type":"MultiPoint","coordinates":[[1.7976931348623157e308,4.9e-324],[-0,0]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[108.3,22.8],[108.4,22.8],[108.4,22.9],[108.3,22.8]]],[[[108.35,22.8],[108.45,22.8],[108.45,22.9],[108.35,22.8]]]]}`,
		`{"type":"LineString","coordinates":[[108.3,22.8],[108.4,22.9,10]]}`,
		`{"type":"MultiLineString","coordinates":[[[108.3,22.8],[108.4,22.9]],[]]}`,
		strings.Repeat(`{"type":"GeometryCollection","geometries":[`, 30) + strings.Repeat(`]}`, 30),
		`{"type":"Polygon","coordinates":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`,
		`{"type":"Polygon","coordinates":[[[108.32,22.82],[108.33,22.82],[108.33,22.82],[108.33,22.82],[108.32,22.82]]]}`,
	}
}

func FuzzParseGeometry(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGeometry(data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %v is not Problems", err)
			}
			return
		}
		// Whatever parsed and is finite must survive a round trip.
		b, err := json.Marshal(g)
		if err != nil {
			return // non-finite numbers cannot be written
		}
		g2, err := ParseGeometry(b)
		if err != nil {
			t.Fatalf("reparse of %s: %v", b, err)
		}
		b2, err := json.Marshal(g2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed %s to %s (%v)", b, b2, err)
		}
	})
}

func FuzzParseFeatureCollection(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"a":[1]},"geometry":` + s + `}]}`))
	}
	f.Add([]byte(`{"features":[{"type":"Feature","geometry":null}],"type":"FeatureCollection","bbox":[1,2,3,4]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":{},"geometry":null}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		for feat, err := range ParseFeatureCollection(bytes.NewReader(data)) {
			if err != nil {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) == 0 {
					t.Fatalf("error %v is not Problems", err)
				}
				continue
			}
			n++
			if _, err := feat.PropertiesMap(); err != nil {
				t.Fatalf("properties of a parsed feature do not decode: %v", err)
			}
			if feat.Geometry != nil {
				Validate(FeaturePath(n-1), *feat.Geometry)
			}
		}
	})
}

func FuzzValidate(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGeometry(data)
		if err != nil {
			return
		}
		out, ps := Validate("g", g)
		for _, p := range ps {
			if p.Code == "" || p.ZH == "" || p.EN == "" || !strings.HasPrefix(p.Path, "g") && p.Code != CodeTooManyProblems {
				t.Fatalf("malformed problem %#v", p)
			}
		}
		if len(ps) > maxProblems+1 {
			t.Fatalf("%d problems, cap is %d", len(ps), maxProblems)
		}
		// Valid polygons must be usable by everything downstream.
		if len(ps) == 0 && (out.Type == TypePolygon || out.Type == TypeMultiPolygon) {
			a := out.AreaM2()
			if math.IsNaN(a) || a <= 0 {
				t.Fatalf("valid polygon has area %v", a)
			}
			for _, p := range out.Polygons() {
				if o := Overlap(p, p); math.Abs(o-p.AreaM2()) > 1e-6*p.AreaM2()+1e-3 {
					t.Fatalf("self-overlap %v != area %v", o, p.AreaM2())
				}
			}
			ix, err := NewPolygonIndex([]PolygonItem{{1, out}})
			if err != nil {
				t.Fatal(err)
			}
			b := out.BBox()
			ix.Locate((b.MinLon+b.MaxLon)/2, (b.MinLat+b.MaxLat)/2)
			ix.Nearest(b.MinLon-0.01, b.MinLat)
			if _, err := Coverage(out, out.Polygons(), 1); err != nil {
				t.Fatal(err)
			}
		}
	})
}
