package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGeometryRoundTrip(t *testing.T) {
	t.Parallel()
	sq := rect(108.3, 22.8, 108.301, 22.801)
	tests := []struct {
		name string
		g    Geometry
	}{
		{"point", PointGeometry(108.320000000000007, 22.8212345678901234)},
		{"multipoint", Geometry{Type: TypeMultiPoint, MultiPoint: []Position{{108.1, 22.1}, {108.2, 22.2}}}},
		{"linestring", Geometry{Type: TypeLineString, LineString: []Position{{108.1, 22.1}, {108.2, 22.2}}}},
		{"multilinestring", Geometry{Type: TypeMultiLineString, MultiLineString: [][]Position{{{108.1, 22.1}, {108.2, 22.2}}, {{108.3, 22.3}, {108.4, 22.4}}}}},
		{"polygon", PolygonGeometry(sq)},
		{"polygon with hole", PolygonGeometry(poly(
			[]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}},
			[]Position{{2, 2}, {2, 4}, {4, 4}, {4, 2}}))},
		{"multipolygon", MultiPolygonGeometry(MultiPolygon{sq, rect(108.4, 22.8, 108.401, 22.801)})},
		{"collection", Geometry{Type: TypeGeometryCollection, Geometries: []Geometry{PointGeometry(108.3, 22.8), PolygonGeometry(sq)}}},
		{"tiny and huge numbers", PointGeometry(1e-9, 1.5e300)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseGeometry(b)
			if err != nil {
				t.Fatalf("ParseGeometry(%s): %v", b, err)
			}
			if d := cmp.Diff(tc.g, got); d != "" {
				t.Errorf("round trip of %s (-want +got):\n%s", b, d)
			}
		})
	}
}

func TestParseGeometryAltitudeAndSpacing(t *testing.T) {
	t.Parallel()
	g, err := ParseGeometry([]byte(` { "coordinates" : [ 108.32 , 22.82 , 75.5 ] , "type" : "Point" , "bbox": [1,2,3,4]} `))
	if err != nil {
		t.Fatal(err)
	}
	if g.Point != (Position{108.32, 22.82}) {
		t.Errorf("point = %v", g.Point)
	}
}

func TestParseGeometryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in   string
		code, path string
	}{
		{"not json", `{"type":`, CodeInvalidJSON, ""},
		{"array", `[1,2]`, CodeWrongType, ""},
		{"unknown type", `{"type":"Circle","coordinates":[1,2]}`, CodeWrongType, "type"},
		{"no coordinates", `{"type":"Point"}`, CodeWrongType, "coordinates"},
		{"string coordinate", `{"type":"Point","coordinates":[108,"22"]}`, CodeWrongType, "coordinates[1]"},
		{"one number", `{"type":"Point","coordinates":[108]}`, CodeWrongType, "coordinates"},
		{"too shallow polygon", `{"type":"Polygon","coordinates":[[108,22],[109,22]]}`, CodeWrongType, "coordinates[0][0]"},
		{"bad nested position", `{"type":"MultiPolygon","coordinates":[[[[108,22],[109,22],[109,23],[108]]]]}`, CodeWrongType, "coordinates[0][0][3]"},
		{"object in coordinates", `{"type":"LineString","coordinates":[[1,2],{"a":1}]}`, CodeWrongType, "coordinates[1]"},
		{"collection without geometries", `{"type":"GeometryCollection"}`, CodeWrongType, "geometries"},
		{"bad member of collection", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"Point","coordinates":null}]}`, CodeWrongType, "geometries[1].coordinates"},
		{"type not a string", `{"type":7,"coordinates":[1,2]}`, CodeWrongType, "type"},
		{"too deep", strings.Repeat(`{"type":"GeometryCollection","geometries":[`, 20) + strings.Repeat(`]}`, 20), CodeTooDeep, strings.TrimSuffix(strings.Repeat("geometries[0].", 8), ".")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseGeometry([]byte(tc.in))
			var ps Problems
			if !errors.As(err, &ps) || len(ps) != 1 {
				t.Fatalf("error = %v, want one Problem", err)
			}
			if ps[0].Code != tc.code || ps[0].Path != tc.path {
				t.Errorf("got %s at %q, want %s at %q (%s)", ps[0].Code, ps[0].Path, tc.code, tc.path, ps[0].EN)
			}
			checkBilingual(t, ps)
		})
	}
}

func TestParseGeometryKeepsOverflowForValidate(t *testing.T) {
	t.Parallel()
	g, err := ParseGeometry([]byte(`{"type":"Point","coordinates":[1e400,22.8]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(g.Point[0], 1) {
		t.Fatalf("lon = %v, want +Inf", g.Point[0])
	}
	_, ps := Validate("", g)
	if d := cmp.Diff([]string{CodeInvalidNumber}, ps.Codes()); d != "" {
		t.Error(d)
	}
	if _, err := json.Marshal(g); err == nil {
		t.Error("marshalling +Inf succeeded")
	}
}

func TestFeature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		wantID any
		geom   bool
		props  map[string]any
	}{
		{`{"type":"Feature","id":"450126001001001","geometry":null,"properties":null}`, "450126001001001", false, nil},
		{`{"type":"Feature","id":3205080101000001,"geometry":{"type":"Point","coordinates":[108.3,22.8]},"properties":{"code":3205080101000001,"name":"井盖"}}`,
			json.Number("3205080101000001"), true, map[string]any{"code": json.Number("3205080101000001"), "name": "井盖"}},
		{`{"type":"Feature","geometry":{"type":"Point","coordinates":[108.3,22.8]}}`, nil, true, nil},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			f, err := ParseFeature([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if f.ID != tc.wantID || (f.Geometry != nil) != tc.geom {
				t.Errorf("id = %#v, geometry = %v", f.ID, f.Geometry)
			}
			m, err := f.PropertiesMap()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.props, m); d != "" {
				t.Error(d)
			}
			// Round trip.
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := ParseFeature(b)
			if err != nil {
				t.Fatalf("reparse %s: %v", b, err)
			}
			if d := cmp.Diff(f, g); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
	for _, bad := range []string{
		`{"type":"Feature","id":true}`,
		`{"type":"Feature","properties":[1]}`,
		`{"type":"Point","coordinates":[1,2]}`,
	} {
		if _, err := ParseFeature([]byte(bad)); err == nil {
			t.Errorf("ParseFeature(%s) succeeded", bad)
		}
	}
}

// featureStream generates an endless FeatureCollection without ever
// holding it: reading a prefix of it only works if the parser streams.
type featureStream struct {
	buf []byte
	n   int
}

func (s *featureStream) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) {
		if s.n == 0 {
			s.buf = append(s.buf, `{"type":"FeatureCollection","bbox":[1,2,3,4],"features":[`...)
		} else {
			s.buf = append(s.buf, ',')
		}
		s.buf = fmt.Appendf(s.buf, `{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":[108.%d,22.8]},"properties":{"n":%d}}`, s.n, s.n%1000, s.n)
		s.n++
	}
	k := copy(p, s.buf)
	s.buf = s.buf[k:]
	return k, nil
}

func TestParseFeatureCollectionStreams(t *testing.T) {
	t.Parallel()
	src := &featureStream{}
	count := 0
	for f, err := range ParseFeatureCollection(src) {
		if err != nil {
			t.Fatal(err)
		}
		if f.ID != json.Number(fmt.Sprint(count)) {
			t.Fatalf("feature %d has id %v", count, f.ID)
		}
		count++
		if count == 20000 {
			break
		}
	}
	// The source generated only what the decoder's buffer asked for.
	if src.n > count+1000 {
		t.Errorf("source produced %d features for %d read: not streaming", src.n, count)
	}
}

// chunkReader returns at most n bytes per Read, to exercise token
// boundaries falling anywhere.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func TestParseFeatureCollection(t *testing.T) {
	t.Parallel()
	const ok = `{"type":"Feature","geometry":{"type":"Point","coordinates":[108.3,22.8]},"properties":{}}`
	tests := []struct {
		name     string
		in       string
		features int
		code     string
		path     string
	}{
		{"empty", `{"type":"FeatureCollection","features":[]}`, 0, "", ""},
		{"type last, foreign members", `{"features":[` + ok + `,` + ok + `],"name":{"x":[1,2]},"crs":null,"type":"FeatureCollection"}`, 2, "", ""},
		{"bad geometry path", `{"type":"FeatureCollection","features":[` + ok + `,` + ok + `,{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1,2],[3]]]}}]}`, 2, CodeWrongType, "features[2].geometry.coordinates[0][1]"},
		{"wrong type", `{"type":"Feature","features":[]}`, 0, CodeWrongType, "type"},
		{"missing type", `{"features":[` + ok + `]}`, 1, CodeWrongType, ""},
		{"truncated", `{"type":"FeatureCollection","features":[` + ok + `,`, 1, CodeInvalidJSON, "features[1]"},
		{"not an object", `[]`, 0, CodeInvalidJSON, ""},
		{"features not array", `{"type":"FeatureCollection","features":{}}`, 0, CodeInvalidJSON, "features"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			var gotErr error
			for _, err := range ParseFeatureCollection(chunkReader{strings.NewReader(tc.in), 7}) {
				if err != nil {
					gotErr = err
					continue
				}
				n++
			}
			if n != tc.features {
				t.Errorf("features = %d, want %d", n, tc.features)
			}
			if tc.code == "" {
				if gotErr != nil {
					t.Fatalf("error %v", gotErr)
				}
				return
			}
			var ps Problems
			if !errors.As(gotErr, &ps) || len(ps) != 1 || ps[0].Code != tc.code || ps[0].Path != tc.path {
				t.Fatalf("error = %#v, want %s at %q", gotErr, tc.code, tc.path)
			}
			checkBilingual(t, ps)
		})
	}
}

func TestFeatureCollectionMarshal(t *testing.T) {
	t.Parallel()
	g := PolygonGeometry(rect(108.3, 22.8, 108.301, 22.801))
	fc := FeatureCollection{Features: []Feature{
		{ID: "a", Geometry: &g, Properties: json.RawMessage(`{ "name" : "网格" }`)},
		{ID: json.Number("7")},
	}}
	b, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	var back FeatureCollection
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	fc.Features[0].Properties = json.RawMessage(`{"name":"网格"}`)
	if d := cmp.Diff(fc, back); d != "" {
		t.Errorf("(-want +got):\n%s\n%s", d, b)
	}
}
