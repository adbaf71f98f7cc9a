package component

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/cityops/cityops/app/pkg/geo"
)

// ExportInput selects what to export.
type ExportInput struct {
	TenantCode string
	Filter     Filter
	Format     Format
	// MaxRows stops after this many rows (0: all) and reports truncated.
	MaxRows int64
}

// Export writes the tenant's components matching the filter to w, reading
// and writing a page at a time. CSV carries the Chinese column names and a
// UTF-8 BOM (so Excel on a Chinese Windows opens it right); GeoJSON is a
// FeatureCollection whose properties have the same names. Both import back
// unchanged. It returns the rows written and whether MaxRows cut it.
func (u *Usecase) Export(ctx context.Context, in ExportInput, w io.Writer) (int64, bool, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return 0, false, err
	}
	if err := in.Filter.check(); err != nil {
		return 0, false, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var enc interface {
		write(c *Component) error
		close() error
	}
	switch in.Format {
	case FormatCSV, "":
		enc, err = newCSVExport(bw)
	case FormatGeoJSON:
		enc, err = newGeoJSONExport(bw)
	default:
		return 0, false, invalid("format", "不支持的导出格式", "unsupported export format")
	}
	if err != nil {
		return 0, false, err
	}
	var n int64
	truncated := false
	for c, err := range u.repo.Each(ctx, t.ID, in.Filter) {
		if err != nil {
			return n, false, fmt.Errorf("export components: %w", err)
		}
		if in.MaxRows > 0 && n >= in.MaxRows {
			truncated = true
			break
		}
		if err := enc.write(c); err != nil {
			return n, false, fmt.Errorf("export components: %w", err)
		}
		n++
	}
	if err := enc.close(); err != nil {
		return n, truncated, fmt.Errorf("export components: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, truncated, fmt.Errorf("export components: %w", err)
	}
	return n, truncated, nil
}

// values returns the export columns of c, in exportCols order.
func values(c *Component) []string {
	out := make([]string, 0, len(exportCols))
	for _, k := range exportCols {
		var v string
		switch k {
		case colObjID:
			v = c.ObjID
		case colName:
			v = c.Name
		case colClassCode:
			v = c.ClassCode
		case colMainDeptCode:
			v = c.MainDeptCode
		case colMainDeptName:
			v = c.MainDeptName
		case colOwnerCode:
			v = c.OwnerCode
		case colOwnerName:
			v = c.OwnerName
		case colMaintainerCode:
			v = c.MaintainerCode
		case colMaintainerName:
			v = c.MaintainerName
		case colGridCode:
			v = c.GridCode
		case colStreetCode:
			v = c.StreetCode
		case colCommunityCode:
			v = c.CommunityCode
		case colStatus:
			v = c.Status.ZH()
		case colInitialDate:
			v = c.InitialDate
		case colChangeDate:
			v = c.ChangeDate
		case colDataSource:
			v = c.DataSource
		case colNote:
			v = c.Note
		case colLon:
			v = strconv.FormatFloat(c.Lon, 'f', 7, 64)
		case colLat:
			v = strconv.FormatFloat(c.Lat, 'f', 7, 64)
		case colCRS:
			v = CRSWGS84
		}
		out = append(out, v)
	}
	return out
}

type csvExport struct{ w *csv.Writer }

func newCSVExport(w io.Writer) (*csvExport, error) {
	if _, err := w.Write(utf8BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	header := make([]string, 0, len(exportCols))
	for _, k := range exportCols {
		header = append(header, columns[k].zh)
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &csvExport{w: cw}, nil
}

// write writes one row; lines and polygons keep only their representative
// point (CSV has no geometry column; use GeoJSON for them).
func (e *csvExport) write(c *Component) error { return e.w.Write(values(c)) }

func (e *csvExport) close() error {
	e.w.Flush()
	return e.w.Error()
}

type geoJSONExport struct {
	w     io.Writer
	first bool
}

func newGeoJSONExport(w io.Writer) (*geoJSONExport, error) {
	if _, err := io.WriteString(w, `{"type":"FeatureCollection","features":[`); err != nil {
		return nil, err
	}
	return &geoJSONExport{w: w, first: true}, nil
}

func (e *geoJSONExport) write(c *Component) error {
	b, err := FeatureJSON(c)
	if err != nil {
		return err
	}
	if !e.first {
		if _, err := io.WriteString(e.w, ",\n"); err != nil {
			return err
		}
	}
	e.first = false
	_, err = e.w.Write(b)
	return err
}

func (e *geoJSONExport) close() error {
	_, err := io.WriteString(e.w, "]}\n")
	return err
}

// FeatureJSON encodes a component as a GeoJSON Feature whose properties
// carry the census column names (without lon/lat, which the geometry has).
func FeatureJSON(c *Component) ([]byte, error) {
	g := geo.PointGeometry(c.Lon, c.Lat)
	if c.Geometry != "" {
		var err error
		if g, err = geo.ParseGeometry([]byte(c.Geometry)); err != nil {
			return nil, fmt.Errorf("component %s: stored geometry: %w", c.ObjID, err)
		}
	}
	props := make(map[string]string, len(exportCols))
	for i, v := range values(c) {
		k := exportCols[i]
		if k == colLon || k == colLat || k == colCRS {
			continue
		}
		props[columns[k].zh] = v
	}
	pb, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	return json.Marshal(geo.Feature{ID: c.ObjID, Geometry: &g, Properties: pb})
}

// FeatureCollectionJSON encodes components as one FeatureCollection.
func FeatureCollectionJSON(cs []*Component) ([]byte, error) {
	b := []byte(`{"type":"FeatureCollection","features":[`)
	for i, c := range cs {
		f, err := FeatureJSON(c)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, "]}"...), nil
}
