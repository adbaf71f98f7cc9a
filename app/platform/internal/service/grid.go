package service

import (
	"bytes"
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// GridService serves cityops.registry.v1.GridService over HTTP and gRPC.
type GridService struct {
	registryv1.UnimplementedGridServiceServer
	tenants *tenant.Usecase
	uc      *biz.Usecase
	locator *biz.Locator
}

// NewGridService returns the grid API over its use cases.
func NewGridService(tenants *tenant.Usecase, uc *biz.Usecase, locator *biz.Locator) *GridService {
	return &GridService{tenants: tenants, uc: uc, locator: locator}
}

var (
	_ registryv1.GridServiceServer     = (*GridService)(nil)
	_ registryv1.GridServiceHTTPServer = (*GridService)(nil)
)

const formatGeoJSON = "geojson"

func bboxToProto(b biz.BBox) *registryv1.BBox {
	return &registryv1.BBox{MinLon: b.MinLon, MinLat: b.MinLat, MaxLon: b.MaxLon, MaxLat: b.MaxLat}
}

func unitGridToProto(g *biz.UnitGrid) *registryv1.UnitGrid {
	out := &registryv1.UnitGrid{
		Code: g.Code, CommunityCode: g.CommunityCode, StreetCode: g.StreetCode, AreaClass: g.AreaClass,
		LandUse: g.LandUse, Responsible: g.Responsible, Geometry: g.Geometry, Bbox: bboxToProto(g.BBox),
		AreaM2: g.AreaM2, ValidFrom: timestamppb.New(g.ValidFrom),
	}
	if g.ValidTo != nil {
		out.ValidTo = timestamppb.New(*g.ValidTo)
	}
	return out
}

func gapsToProto(gs []biz.Gap) []*registryv1.Gap {
	out := make([]*registryv1.Gap, 0, len(gs))
	for _, g := range gs {
		out = append(out, &registryv1.Gap{AreaM2: g.AreaM2, Bbox: bboxToProto(g.BBox), SampleLon: g.SampleLon, SampleLat: g.SampleLat})
	}
	return out
}

func overlapsToProto(os []biz.OverlapInfo) []*registryv1.Overlap {
	out := make([]*registryv1.Overlap, 0, len(os))
	for _, o := range os {
		out = append(out, &registryv1.Overlap{A: o.A, B: o.B, AreaM2: o.AreaM2})
	}
	return out
}

func countsToProto(c biz.Counts) *registryv1.ImportCounts {
	return &registryv1.ImportCounts{Created: int32(c.Created), Updated: int32(c.Updated), Closed: int32(c.Closed), Unchanged: int32(c.Unchanged)}
}

// collect renders features as one FeatureCollection string.
func collect(n int, feature func(i int) ([]byte, error)) (string, error) {
	var buf bytes.Buffer
	fw := biz.NewFeatureCollectionWriter(&buf)
	for i := range n {
		fw.Write(feature(i))
	}
	if err := fw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// ImportGrids validates and applies a GeoJSON file.
func (s *GridService) ImportGrids(ctx context.Context, req *registryv1.ImportGridsRequest) (*registryv1.ImportReport, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	rep, err := s.uc.Import(ctx, biz.ImportInput{Tenant: t, Source: bytes.NewReader(req.GetGeojson()),
		Replace: req.GetReplace(), ToleranceM2: req.GetToleranceM2(), DryRun: req.GetDryRun()})
	if err != nil {
		return nil, err
	}
	out := &registryv1.ImportReport{
		Features: int32(rep.Features), UnitGrids: countsToProto(rep.UnitGrids), Regions: countsToProto(rep.Regions),
		WorkGrids: countsToProto(rep.WorkGrids), Revision: rep.Revision, DryRun: rep.DryRun, Applied: rep.Applied, Stale: rep.Stale,
	}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, &registryv1.ImportProblem{FeatureIndex: int32(p.FeatureIndex), Code: p.Code,
			Field: p.Field, Rule: p.Rule, ReasonZh: p.ZH, ReasonEn: p.EN})
	}
	if c := rep.Coverage; c != nil {
		out.Territory, out.TerritoryAreaM2, out.CoveredAreaM2 = c.Territory, c.TerritoryAreaM2, c.CoveredAreaM2
		out.Gaps, out.Overlaps = gapsToProto(c.Gaps), overlapsToProto(c.Overlaps)
	}
	return out, nil
}

// Locate answers where a point falls.
func (s *GridService) Locate(ctx context.Context, req *registryv1.LocateRequest) (*registryv1.Location, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	loc, err := s.locator.LocateCRS(ctx, t.ID, req.GetLon(), req.GetLat(), req.GetCrs())
	if err != nil {
		return nil, err
	}
	out := &registryv1.Location{
		Lon: loc.Lon, Lat: loc.Lat, UnitGridCode: loc.UnitGridCode, CommunityCode: loc.CommunityCode,
		CommunityName: loc.CommunityName, StreetCode: loc.StreetCode, StreetName: loc.StreetName,
		DistrictCode: loc.DistrictCode, AreaClass: loc.AreaClass, PatrolGridCodes: loc.PatrolGrids, Revision: loc.Revision,
	}
	for _, r := range loc.ResponsibilityGrids {
		out.ResponsibilityGrids = append(out.ResponsibilityGrids, &registryv1.ResponsibilityGrid{Code: r.Code, DepartmentCode: r.DepartmentCode})
	}
	return out, nil
}

// GetUnitGrid returns one version of a unit grid.
func (s *GridService) GetUnitGrid(ctx context.Context, req *registryv1.GetUnitGridRequest) (*registryv1.GetUnitGridResponse, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	var asOf *time.Time
	if req.GetAsOf() != nil {
		at := req.GetAsOf().AsTime()
		asOf = &at
	}
	g, err := s.uc.GetUnitGrid(ctx, t, req.GetCode(), asOf)
	if err != nil {
		return nil, err
	}
	if req.GetFormat() == formatGeoJSON {
		f, err := biz.UnitGridFeature(g)
		if err != nil {
			return nil, err
		}
		return &registryv1.GetUnitGridResponse{Geojson: string(f)}, nil
	}
	return &registryv1.GetUnitGridResponse{UnitGrid: unitGridToProto(g)}, nil
}

// ListUnitGrids lists current unit grids.
func (s *GridService) ListUnitGrids(ctx context.Context, req *registryv1.ListUnitGridsRequest) (*registryv1.ListUnitGridsResponse, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	geojson := req.GetFormat() == formatGeoJSON
	f := biz.UnitGridFilter{CommunityCode: req.GetCommunityCode(), StreetCode: req.GetStreetCode(),
		AreaClass: req.GetAreaClass(), WithoutGeometry: req.GetWithoutGeometry() && !geojson}
	if b := req.GetBbox(); b != nil {
		f.BBox = &biz.BBox{MinLon: b.GetMinLon(), MinLat: b.GetMinLat(), MaxLon: b.GetMaxLon(), MaxLat: b.GetMaxLat()}
	}
	rows, next, err := s.uc.ListUnitGrids(ctx, t, biz.ListInput{Filter: f, PageSize: int(req.GetPageSize()),
		PageToken: req.GetPageToken(), GeoJSON: geojson})
	if err != nil {
		return nil, err
	}
	out := &registryv1.ListUnitGridsResponse{NextPageToken: next}
	if geojson {
		out.Geojson, err = collect(len(rows), func(i int) ([]byte, error) { return biz.UnitGridFeature(rows[i]) })
		return out, err
	}
	out.UnitGrids = make([]*registryv1.UnitGrid, 0, len(rows))
	for _, g := range rows {
		out.UnitGrids = append(out.UnitGrids, unitGridToProto(g))
	}
	return out, nil
}

// ListRegions lists streets and communities.
func (s *GridService) ListRegions(ctx context.Context, req *registryv1.ListRegionsRequest) (*registryv1.ListRegionsResponse, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	rows, err := s.uc.Regions(ctx, t, biz.Level(req.GetLevel()))
	if err != nil {
		return nil, err
	}
	out := &registryv1.ListRegionsResponse{}
	if req.GetFormat() == formatGeoJSON {
		out.Geojson, err = collect(len(rows), func(i int) ([]byte, error) { return biz.RegionFeature(rows[i]) })
		return out, err
	}
	for _, r := range rows {
		out.Regions = append(out.Regions, &registryv1.Region{Level: string(r.Level), Code: r.Code, ParentCode: r.ParentCode,
			NameZh: r.NameZH, Geometry: r.Geometry})
	}
	return out, nil
}

// ListWorkGrids lists patrol and responsibility grids.
func (s *GridService) ListWorkGrids(ctx context.Context, req *registryv1.ListWorkGridsRequest) (*registryv1.ListWorkGridsResponse, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	rows, err := s.uc.WorkGrids(ctx, t, biz.WorkKind(req.GetKind()))
	if err != nil {
		return nil, err
	}
	out := &registryv1.ListWorkGridsResponse{}
	if req.GetFormat() == formatGeoJSON {
		out.Geojson, err = collect(len(rows), func(i int) ([]byte, error) { return biz.WorkGridFeature(rows[i]) })
		return out, err
	}
	for _, w := range rows {
		out.WorkGrids = append(out.WorkGrids, &registryv1.WorkGrid{Kind: string(w.Kind), Code: w.Code, NameZh: w.NameZH,
			Geometry: w.Geometry, UnitGridCodes: w.UnitGridCodes, Assignees: w.Assignees, DepartmentCode: w.DepartmentCode})
	}
	return out, nil
}

// GetCoverage reports gaps and overlaps of the current unit grids.
func (s *GridService) GetCoverage(ctx context.Context, req *registryv1.GetCoverageRequest) (*registryv1.CoverageReport, error) {
	t, err := s.tenants.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	c, err := s.uc.Coverage(ctx, t, req.GetToleranceM2())
	if err != nil {
		return nil, err
	}
	out := &registryv1.CoverageReport{Territory: c.Territory, TerritoryAreaM2: c.TerritoryAreaM2, CoveredAreaM2: c.CoveredAreaM2,
		UnitGrids: int32(c.UnitGrids), Revision: c.Revision}
	if req.GetFormat() == formatGeoJSON {
		out.Geojson, err = collect(len(c.Gaps), func(i int) ([]byte, error) { return biz.GapFeature(c.Gaps[i]) })
		return out, err
	}
	out.Gaps, out.Overlaps = gapsToProto(c.Gaps), overlapsToProto(c.Overlaps)
	return out, nil
}
