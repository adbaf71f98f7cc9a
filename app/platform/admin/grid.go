package admin

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cityops/cityops/app/pkg/viewer"
	gridbiz "github.com/cityops/cityops/app/platform/internal/biz/grid"
	griddata "github.com/cityops/cityops/app/platform/internal/data/grid"
)

// GridImportReport says what a grid import found and did.
type GridImportReport = gridbiz.ImportReport

// GridProblem is one problem of a grid import file.
type GridProblem = gridbiz.Problem

// GridProgress is where a grid import stands.
type GridProgress = gridbiz.Progress

// GridLocation is where a point falls in a tenant's grids.
type GridLocation = gridbiz.Location

// GridCoverage is how a tenant's unit grids tile its territory.
type GridCoverage = gridbiz.Coverage

// GridImportOptions are the switches of `cityctl grid import`.
type GridImportOptions struct {
	Replace     bool
	ToleranceM2 float64
	DryRun      bool
	// Progress is called while the file is read and at each later phase.
	Progress func(GridProgress)
}

// grids is the grid use case over the admin's database. cityctl runs one
// command per process, so it needs no Locator of its own to keep fresh.
func (a *Admin) grids() *gridbiz.Usecase {
	return gridbiz.NewUsecase(griddata.NewRepo(a.db.Ent), a.db, nil, gridbiz.Config{})
}

// ImportGrids validates the GeoJSON read from r (the file name, for the
// audit trail) and loads it into the tenant code in one transaction,
// streaming it. Problems come back in the report, and then nothing was
// written. An applied import is audited.
func (a *Admin) ImportGrids(ctx context.Context, code string, r io.Reader, name string, o GridImportOptions) (*GridImportReport, error) {
	ctx = viewer.SystemContext(ctx, "cityctl grid import")
	t, err := a.tenants().Get(ctx, code)
	if err != nil {
		return nil, err
	}
	rep, err := a.grids().Import(ctx, gridbiz.ImportInput{Tenant: t, Source: r, Replace: o.Replace,
		ToleranceM2: o.ToleranceM2, DryRun: o.DryRun, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	if rep.Applied {
		u, r, w := rep.UnitGrids, rep.Regions, rep.WorkGrids
		err = a.AppendAudit(ctx, AuditEntry{At: time.Now(), TenantID: t.ID, TenantCode: t.Code, Actor: "system",
			ActorName: "cityctl grid import", Operation: "cityctl.grid.import", Target: "tenants/" + t.Code + "/grids",
			Outcome: "ok", Detail: fmt.Sprintf("file=%s replace=%v revision=%d unit_grids=%d/%d/%d/%d regions=%d/%d work_grids=%d/%d",
				name, o.Replace, rep.Revision, u.Created, u.Updated, u.Closed, u.Unchanged, r.Created, r.Updated, w.Created, w.Updated)})
	}
	return rep, err
}

// ExportGrids writes the tenant's regions, current unit grids and work
// grids to w as one GeoJSON FeatureCollection and returns the count.
func (a *Admin) ExportGrids(ctx context.Context, code string, w io.Writer) (int, error) {
	ctx = viewer.SystemContext(ctx, "cityctl grid export")
	t, err := a.tenants().Get(ctx, code)
	if err != nil {
		return 0, err
	}
	return a.grids().Export(ctx, t, w)
}

// LocateGrid answers where a point (in crs: WGS84, CGCS2000 or GCJ02)
// falls in the tenant's grids.
func (a *Admin) LocateGrid(ctx context.Context, code string, lon, lat float64, crs string) (*GridLocation, error) {
	ctx = viewer.SystemContext(ctx, "cityctl grid locate")
	t, err := a.tenants().Get(ctx, code)
	if err != nil {
		return nil, err
	}
	loc, stop := gridbiz.NewLocator(griddata.NewRepo(a.db.Ent), gridbiz.Config{})
	defer stop()
	return loc.LocateCRS(ctx, t.ID, lon, lat, crs)
}

// GridCoverageOf reports how the tenant's current unit grids tile its
// territory (gaps, overlaps beyond toleranceM2; 0 means 1 m²).
func (a *Admin) GridCoverageOf(ctx context.Context, code string, toleranceM2 float64) (*GridCoverage, error) {
	ctx = viewer.SystemContext(ctx, "cityctl grid coverage")
	t, err := a.tenants().Get(ctx, code)
	if err != nil {
		return nil, err
	}
	return a.grids().Coverage(ctx, t, toleranceM2)
}
