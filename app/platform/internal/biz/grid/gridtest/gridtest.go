// Package gridtest builds hand-made territories as GeoJSON for the tests of
// the grid import and Locator: a small county of 2 streets, 3 communities
// and 20 unit grids (one with a hole), 2 patrol grids and 1 responsibility
// grid, and a lattice of any size for benchmarks.
package gridtest

import (
	"encoding/json"
	"fmt"
)

// Feature is one GeoJSON feature as a map, so tests can break any member.
type Feature = map[string]any

// Territory is a lattice of square unit grids Cols × Rows, Step degrees a
// side, with its south-west corner at Lon0/Lat0. Columns belong to
// communities in blocks of ColsPerCommunity, communities to streets in
// blocks of CommunitiesPerStreet.
type Territory struct {
	County               string
	Lon0, Lat0, Step     float64
	Cols, Rows           int
	ColsPerCommunity     []int // widths of the communities, west to east
	CommunitiesPerStreet int
	// Donut is the cell (col, row) that has a square hole of HoleFrac of
	// its side in its centre; negative for none.
	DonutCol, DonutRow int
	HoleFrac           float64
}

// Small is the hand-made county: 5 × 4 cells of 0.001° (about 100 m) near
// 宾阳县; communities of 2, 1 and 2 columns; the first two in street 001,
// the third in street 002; cell (3, 1) has a hole.
func Small(county string) Territory {
	return Territory{County: county, Lon0: 108.80, Lat0: 23.20, Step: 0.001, Cols: 5, Rows: 4,
		ColsPerCommunity: []int{2, 1, 2}, CommunitiesPerStreet: 2, DonutCol: 3, DonutRow: 1, HoleFrac: 0.4}
}

// Lattice is a benchmark territory of cols × rows cells with communities
// 10 columns wide, 2 per street.
func Lattice(county string, cols, rows int) Territory {
	var widths []int
	for c := 0; c < cols; c += 10 {
		widths = append(widths, min(10, cols-c))
	}
	return Territory{County: county, Lon0: 108.70, Lat0: 23.10, Step: 0.001, Cols: cols, Rows: rows,
		ColsPerCommunity: widths, CommunitiesPerStreet: 2, DonutCol: -1, DonutRow: -1}
}

// community returns the community index of a column and its first column.
func (t Territory) community(col int) (k, first int) {
	for i, w := range t.ColsPerCommunity {
		if col < first+w {
			return i, first
		}
		first += w
	}
	panic("gridtest: column outside the territory")
}

// StreetCode is the 9-digit code of street s (0-based).
func (t Territory) StreetCode(s int) string { return fmt.Sprintf("%s%03d", t.County, s+1) }

// CommunityCode is the 12-digit code of community k (0-based).
func (t Territory) CommunityCode(k int) string {
	s := k / t.CommunitiesPerStreet
	return fmt.Sprintf("%s%03d", t.StreetCode(s), k%t.CommunitiesPerStreet+1)
}

// Code is the unit grid code of cell (col, row); row 0 is the southern
// row. Sequence numbers run west→east, north→south inside a community.
func (t Territory) Code(col, row int) string {
	k, first := t.community(col)
	w := t.ColsPerCommunity[k]
	seq := (t.Rows-1-row)*w + (col - first) + 1
	return fmt.Sprintf("%s%03d", t.CommunityCode(k), seq)
}

// Center is the centre of cell (col, row).
func (t Territory) Center(col, row int) (lon, lat float64) {
	return t.Lon0 + (float64(col)+0.5)*t.Step, t.Lat0 + (float64(row)+0.5)*t.Step
}

// Corner is the south-west corner of cell (col, row).
func (t Territory) Corner(col, row int) (lon, lat float64) {
	return t.Lon0 + float64(col)*t.Step, t.Lat0 + float64(row)*t.Step
}

// Rect is a closed counter-clockwise ring of a box.
func Rect(lon0, lat0, lon1, lat1 float64) [][2]float64 {
	return [][2]float64{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}
}

// Polygon is a GeoJSON Polygon geometry of rings.
func Polygon(rings ...[][2]float64) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": rings}
}

// CellGeometry is the geometry of cell (col, row), with the hole when it is
// the donut.
func (t Territory) CellGeometry(col, row int) map[string]any {
	lon, lat := t.Corner(col, row)
	outer := Rect(lon, lat, lon+t.Step, lat+t.Step)
	if col == t.DonutCol && row == t.DonutRow {
		m := t.Step * (1 - t.HoleFrac) / 2
		h := Rect(lon+m, lat+m, lon+t.Step-m, lat+t.Step-m)
		// Holes run clockwise (RFC 7946 §3.1.6).
		hole := [][2]float64{h[0], h[3], h[2], h[1], h[0]}
		return Polygon(outer, hole)
	}
	return Polygon(outer)
}

// HoleCenter is the centre of the donut's hole.
func (t Territory) HoleCenter() (lon, lat float64) { return t.Center(t.DonutCol, t.DonutRow) }

// Unit is the feature of cell (col, row).
func (t Territory) Unit(col, row int) Feature {
	code := t.Code(col, row)
	class := "A"
	if row == 0 {
		class = "B"
	}
	return Feature{"type": "Feature", "geometry": t.CellGeometry(col, row), "properties": map[string]any{
		"kind": "unit", "code": code, "community_code": code[:12], "street_code": code[:9],
		"area_class": class, "land_use": "R", "responsible": "",
	}}
}

// Features returns the territory's streets, communities, unit grids, and
// two patrol grids (P01: the first community's unit grids; P02: a polygon
// over the other columns) and one responsibility grid (R01: the last
// community's unit grids, department CGJ).
func (t Territory) Features() []Feature {
	var fs []Feature
	nk := len(t.ColsPerCommunity)
	ns := (nk + t.CommunitiesPerStreet - 1) / t.CommunitiesPerStreet
	top := t.Lat0 + float64(t.Rows)*t.Step
	colStart := func(k int) int {
		s := 0
		for i := 0; i < k; i++ {
			s += t.ColsPerCommunity[i]
		}
		return s
	}
	for s := 0; s < ns; s++ {
		k0 := s * t.CommunitiesPerStreet
		k1 := min(nk, k0+t.CommunitiesPerStreet)
		w0, _ := t.Corner(colStart(k0), 0)
		w1, _ := t.Corner(colStart(k1), 0)
		fs = append(fs, Feature{"type": "Feature", "geometry": Polygon(Rect(w0, t.Lat0, w1, top)),
			"properties": map[string]any{"kind": "street", "code": t.StreetCode(s), "name": fmt.Sprintf("第%d街道", s+1)}})
	}
	for k := 0; k < nk; k++ {
		w0, _ := t.Corner(colStart(k), 0)
		w1, _ := t.Corner(colStart(k)+t.ColsPerCommunity[k], 0)
		code := t.CommunityCode(k)
		fs = append(fs, Feature{"type": "Feature", "geometry": Polygon(Rect(w0, t.Lat0, w1, top)),
			"properties": map[string]any{"kind": "community", "code": code, "street_code": code[:9], "name": fmt.Sprintf("第%d社区", k+1)}})
	}
	for row := t.Rows - 1; row >= 0; row-- {
		for col := 0; col < t.Cols; col++ {
			fs = append(fs, t.Unit(col, row))
		}
	}
	var first, last []string
	for col := 0; col < t.Cols; col++ {
		k, _ := t.community(col)
		for row := 0; row < t.Rows; row++ {
			switch k {
			case 0:
				first = append(first, t.Code(col, row))
			case nk - 1:
				last = append(last, t.Code(col, row))
			}
		}
	}
	w0, _ := t.Corner(t.ColsPerCommunity[0], 0)
	w1, _ := t.Corner(t.Cols, 0)
	fs = append(fs,
		Feature{"type": "Feature", "geometry": nil, "properties": map[string]any{
			"kind": "patrol", "code": "P01", "name": "一号监督网格", "unit_grids": first, "assignees": []string{"li.ming"}}},
		Feature{"type": "Feature", "geometry": Polygon(Rect(w0, t.Lat0, w1, top)), "properties": map[string]any{
			"kind": "patrol", "code": "P02", "name": "二号监督网格", "assignees": []string{"zhao.lei"}}},
		Feature{"type": "Feature", "geometry": nil, "properties": map[string]any{
			"kind": "responsibility", "code": "R01", "name": "东区责任网格", "unit_grids": last, "department_code": "CGJ"}},
	)
	return fs
}

// Collection encodes features as a FeatureCollection.
func Collection(fs []Feature) []byte {
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
	if err != nil {
		panic(err)
	}
	return b
}

// GeoJSON is the territory as a FeatureCollection.
func (t Territory) GeoJSON() []byte { return Collection(t.Features()) }
