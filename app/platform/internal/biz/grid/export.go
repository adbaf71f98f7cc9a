package grid

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// The GeoJSON written here uses the same properties the import reads, so an
// export re-imports unchanged (the round trip is tested). Stored geometry
// text is already canonical GeoJSON and is copied as is, never re-encoded.

type featureOut struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties any             `json:"properties"`
}

type unitProps struct {
	Kind          string  `json:"kind"`
	Code          string  `json:"code"`
	CommunityCode string  `json:"community_code"`
	StreetCode    string  `json:"street_code"`
	AreaClass     string  `json:"area_class,omitempty"`
	LandUse       string  `json:"land_use,omitempty"`
	Responsible   string  `json:"responsible,omitempty"`
	AreaM2        float64 `json:"area_m2"`
	ValidFrom     string  `json:"valid_from,omitempty"`
	ValidTo       string  `json:"valid_to,omitempty"`
}

type regionProps struct {
	Kind       string `json:"kind"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	StreetCode string `json:"street_code,omitempty"`
}

type workProps struct {
	Kind           string   `json:"kind"`
	Code           string   `json:"code"`
	Name           string   `json:"name"`
	UnitGrids      []string `json:"unit_grids,omitempty"`
	Assignees      []string `json:"assignees,omitempty"`
	DepartmentCode string   `json:"department_code,omitempty"`
}

func rawGeometry(text string) json.RawMessage {
	if text == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(text)
}

// UnitGridFeature returns a unit grid as a GeoJSON Feature.
func UnitGridFeature(g *UnitGrid) ([]byte, error) {
	p := unitProps{Kind: featUnit, Code: g.Code, CommunityCode: g.CommunityCode, StreetCode: g.StreetCode,
		AreaClass: g.AreaClass, LandUse: g.LandUse, Responsible: g.Responsible, AreaM2: g.AreaM2}
	if !g.ValidFrom.IsZero() {
		p.ValidFrom = g.ValidFrom.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
	}
	if g.ValidTo != nil {
		p.ValidTo = g.ValidTo.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
	}
	return json.Marshal(featureOut{Type: "Feature", Geometry: rawGeometry(g.Geometry), Properties: p})
}

// RegionFeature returns a street or community as a GeoJSON Feature.
func RegionFeature(r *Region) ([]byte, error) {
	p := regionProps{Kind: string(r.Level), Code: r.Code, Name: r.NameZH}
	if r.Level == LevelCommunity {
		p.StreetCode = r.ParentCode
	}
	return json.Marshal(featureOut{Type: "Feature", Geometry: rawGeometry(r.Geometry), Properties: p})
}

// WorkGridFeature returns a patrol or responsibility grid as a GeoJSON
// Feature (geometry null when it is a set of unit grids).
func WorkGridFeature(w *WorkGrid) ([]byte, error) {
	p := workProps{Kind: string(w.Kind), Code: w.Code, Name: w.NameZH, UnitGrids: w.UnitGridCodes,
		Assignees: w.Assignees, DepartmentCode: w.DepartmentCode}
	return json.Marshal(featureOut{Type: "Feature", Geometry: rawGeometry(w.Geometry), Properties: p})
}

// GapFeature returns a coverage gap as a GeoJSON Feature: a point inside
// the gap, with its area and box.
func GapFeature(g Gap) ([]byte, error) {
	geom := fmt.Sprintf(`{"type":"Point","coordinates":[%s,%s]}`, num(g.SampleLon), num(g.SampleLat))
	return json.Marshal(featureOut{Type: "Feature", Geometry: json.RawMessage(geom), Properties: map[string]any{
		"kind": "gap", "area_m2": g.AreaM2, "bbox": []float64{g.BBox.MinLon, g.BBox.MinLat, g.BBox.MaxLon, g.BBox.MaxLat},
	}})
}

func num(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// FeatureCollectionWriter writes a FeatureCollection one feature at a
// time, so an export of 32,000 grids never builds the document in memory.
type FeatureCollectionWriter struct {
	w   *bufio.Writer
	n   int
	err error
}

// NewFeatureCollectionWriter starts a FeatureCollection on w.
func NewFeatureCollectionWriter(w io.Writer) *FeatureCollectionWriter {
	fw := &FeatureCollectionWriter{w: bufio.NewWriterSize(w, 64<<10)}
	_, fw.err = fw.w.WriteString(`{"type":"FeatureCollection","features":[`)
	return fw
}

// Write appends one encoded Feature.
func (fw *FeatureCollectionWriter) Write(feature []byte, err error) {
	if fw.err != nil {
		return
	}
	if err != nil {
		fw.err = err
		return
	}
	sep := "\n"
	if fw.n > 0 {
		sep = ",\n"
	}
	if _, fw.err = fw.w.WriteString(sep); fw.err != nil {
		return
	}
	_, fw.err = fw.w.Write(feature)
	fw.n++
}

// Close ends the collection and flushes; it returns the first error.
func (fw *FeatureCollectionWriter) Close() error {
	if fw.err != nil {
		return fw.err
	}
	if _, err := fw.w.WriteString("\n]}\n"); err != nil {
		return err
	}
	return fw.w.Flush()
}

// Export writes the tenant's streets, communities, current unit grids and
// work grids as one FeatureCollection that Import reads back unchanged,
// and returns how many features it wrote.
func (u *Usecase) Export(ctx context.Context, t *tenant.Tenant, w io.Writer) (int, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return 0, err
	}
	regions, err := u.repo.Regions(ctx, t.ID, "")
	if err != nil {
		return 0, err
	}
	units, err := u.repo.CurrentUnitGrids(ctx, t.ID, true)
	if err != nil {
		return 0, err
	}
	works, err := u.repo.WorkGrids(ctx, t.ID, "")
	if err != nil {
		return 0, err
	}
	fw := NewFeatureCollectionWriter(w)
	// Streets before communities before grids: the order a reader (and the
	// importer's messages) expects, parents first.
	for _, level := range []Level{LevelStreet, LevelCommunity} {
		for _, r := range regions {
			if r.Level == level {
				fw.Write(RegionFeature(r))
			}
		}
	}
	for _, g := range units {
		fw.Write(UnitGridFeature(g))
	}
	for _, wg := range works {
		fw.Write(WorkGridFeature(wg))
	}
	if err := fw.Close(); err != nil {
		return 0, fmt.Errorf("grid export: %w", err)
	}
	return fw.n, nil
}
