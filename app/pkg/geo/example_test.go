package geo_test

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/cityops/cityops/app/pkg/geo"
)

// A position from a WeChat mini-program (GCJ-02) is converted before it is
// stored or looked up.
func ExampleToWGS84() {
	lon, lat, err := geo.ToWGS84(121.531541859215, 31.17530398364597, "GCJ02")
	fmt.Printf("%.7f %.7f %v\n", lon, lat, err)
	_, _, err = geo.ToWGS84(108.32, 22.82, "BD09")
	fmt.Println(err)
	// Output:
	// 121.5272106 31.1774276 <nil>
	// geo: unknown coordinate system "BD09" (want WGS84, CGCS2000 or GCJ02)
}

// Validation problems carry a stable code, a path into the document and a
// message in both languages.
func ExampleValidate() {
	g, err := geo.ParseGeometry([]byte(`{"type":"Polygon","coordinates":[[[22.82,108.32],[22.82,108.33],[22.83,108.33],[22.82,108.32]]]}`))
	if err != nil {
		panic(err)
	}
	_, problems := geo.Validate(geo.FeaturePath(12), g)
	for _, p := range problems {
		fmt.Println(p.Code, p.Path)
		fmt.Println(p.Localize("en"))
	}
	// Output:
	// swapped_lon_lat features[12].geometry.coordinates[0][0]
	// features[12].geometry.coordinates[0][0]: position [22.82, 108.32] looks like [lat, lon]: GeoJSON wants [lon, lat], and [108.32, 22.82] is inside China (4 positions here have the same problem)
}

// A tenant's grid index is rebuilt in the background and swapped in
// atomically; readers never lock and never see a half-built index.
func ExamplePolygonIndex() {
	var current atomic.Pointer[geo.PolygonIndex] // one per tenant, owned by the caller

	rebuild := func(s geo.Sample) {
		items := make([]geo.PolygonItem, len(s.Cells))
		for i, c := range s.Cells {
			items[i] = geo.PolygonItem{ID: int32(i + 1), Geom: geo.PolygonGeometry(c.Polygon)}
		}
		ix, err := geo.NewPolygonIndex(items)
		if err != nil {
			panic(err)
		}
		current.Store(ix)
	}
	rebuild(geo.SampleTerritory(1, 100))

	ix := current.Load()
	id, ok := ix.Locate(108.32, 22.82)
	fmt.Println(id > 0, ok)
	nid, d, _ := ix.Nearest(108.40, 22.82)
	fmt.Println(nid > 0, d > 7000 && d < 8500)

	rebuild(geo.SampleTerritory(1, 400)) // e.g. after a grid import
	fmt.Println(current.Load().Len())
	// Output:
	// true true
	// true true
	// 400
}

// Streaming a large FeatureCollection and validating each feature as it
// arrives keeps memory flat however big the file is.
func ExampleParseFeatureCollection() {
	src := strings.NewReader(`{"type":"FeatureCollection","features":[
	  {"type":"Feature","id":"450126001001001","properties":{"name":"一号网格"},
	   "geometry":{"type":"Polygon","coordinates":[[[108.32,22.82],[108.321,22.82],[108.321,22.821],[108.32,22.821],[108.32,22.82]]]}},
	  {"type":"Feature","id":"450126001001002","properties":{"name":"二号网格"},
	   "geometry":{"type":"Polygon","coordinates":[[[108.321,22.82],[108.322,22.82],[108.322,22.821],[108.321,22.82]]]}}]}`)
	i := 0
	for f, err := range geo.ParseFeatureCollection(src) {
		if err != nil {
			fmt.Println(err)
			break
		}
		g, problems := geo.ValidatePolygonal(geo.FeaturePath(i), *f.Geometry)
		fmt.Printf("%v %.0f m² %d problems\n", f.ID, g.AreaM2(), len(problems))
		i++
	}
	// Output:
	// 450126001001001 11368 m² 0 problems
	// 450126001001002 5684 m² 0 problems
}
