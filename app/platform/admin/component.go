package admin

import (
	"context"
	"fmt"
	"os"

	"github.com/cityops/cityops/app/pkg/viewer"
	componentbiz "github.com/cityops/cityops/app/platform/internal/biz/component"
	componentdata "github.com/cityops/cityops/app/platform/internal/data/component"
)

// ComponentImportReport is what a component import did.
type ComponentImportReport = componentbiz.ImportReport

// ComponentProgress is how far a component import is.
type ComponentProgress = componentbiz.Progress

// ComponentRejection is one row a component import left out.
type ComponentRejection = componentbiz.Rejection

// ComponentHit is a component found near a point.
type ComponentHit = componentbiz.Hit

// ComponentFormatOf picks a census file's format from its name ("csv",
// "geojson"); ok is false for other extensions.
func ComponentFormatOf(name string) (string, bool) {
	f, ok := componentbiz.FormatOf(name)
	return string(f), ok
}

// components builds the component use cases over the admin's database; the
// class check reads the tenant's taxonomy, the grid check is left out
// (codes are checked for shape).
func (a *Admin) components() *componentbiz.Usecase {
	return componentbiz.NewUsecase(componentdata.NewRepo(a.db), componentdata.NewJobRepo(a.db), a.tenants(),
		componentdata.NewClassChecker(a.db), nil, a.db, componentbiz.Config{})
}

// ImportComponents imports a census file (CSV or GeoJSON) into the tenant
// code, as the platform: progress after each committed batch, onReject for
// every rejected row. Run again on the same file after an interruption, it
// resumes where the last committed batch ended.
func (a *Admin) ImportComponents(ctx context.Context, code, path, crs string, progress func(ComponentProgress), onReject func(ComponentRejection)) (*ComponentImportReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ctx = viewer.SystemContext(ctx, "cityctl component import")
	return a.components().Import(ctx, componentbiz.ImportInput{
		TenantCode: code, Name: path, Source: f, Size: st.Size(), CRS: crs, Progress: progress, OnReject: onReject,
	})
}

// ExportComponents writes every component of the tenant to path (CSV or
// GeoJSON by its extension) and returns how many were written.
func (a *Admin) ExportComponents(ctx context.Context, code, path string) (n int64, err error) {
	format, ok := componentbiz.FormatOf(path)
	if !ok {
		return 0, fmt.Errorf("export components: %s: use a .csv or .geojson file name", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	ctx = viewer.SystemContext(ctx, "cityctl component export")
	n, _, err = a.components().Export(ctx, componentbiz.ExportInput{TenantCode: code, Format: format}, f)
	return n, err
}

// NearbyComponents returns the tenant's components within radiusM metres
// of a WGS84 point, nearest first.
func (a *Admin) NearbyComponents(ctx context.Context, code string, lon, lat, radiusM float64, limit int) ([]ComponentHit, error) {
	ctx = viewer.SystemContext(ctx, "cityctl component nearby")
	return a.components().Nearby(ctx, componentbiz.NearbyInput{TenantCode: code, Lon: lon, Lat: lat, RadiusM: radiusM, Limit: limit})
}
