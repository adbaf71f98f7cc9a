package service

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/component"
)

// ComponentService serves cityops.registry.v1.ComponentService over HTTP
// and gRPC.
type ComponentService struct {
	registryv1.UnimplementedComponentServiceServer
	uc *biz.Usecase
}

// NewComponentService returns the component API over its use cases.
func NewComponentService(uc *biz.Usecase) *ComponentService { return &ComponentService{uc: uc} }

var (
	_ registryv1.ComponentServiceServer     = (*ComponentService)(nil)
	_ registryv1.ComponentServiceHTTPServer = (*ComponentService)(nil)
)

var componentStatusToProto = map[biz.Status]registryv1.ComponentStatus{
	biz.StatusGood:      registryv1.ComponentStatus_COMPONENT_STATUS_GOOD,
	biz.StatusDamaged:   registryv1.ComponentStatus_COMPONENT_STATUS_DAMAGED,
	biz.StatusLost:      registryv1.ComponentStatus_COMPONENT_STATUS_LOST,
	biz.StatusAbandoned: registryv1.ComponentStatus_COMPONENT_STATUS_ABANDONED,
	biz.StatusRemoved:   registryv1.ComponentStatus_COMPONENT_STATUS_REMOVED,
}

func componentStatusFromProto(s registryv1.ComponentStatus) biz.Status {
	for k, v := range componentStatusToProto {
		if v == s {
			return k
		}
	}
	return ""
}

func componentToProto(c *biz.Component) *registryv1.Component {
	return &registryv1.Component{
		ObjId: c.ObjID, Scheme: c.Scheme, ClassCode: c.ClassCode, Name: c.Name,
		MainDeptCode: c.MainDeptCode, MainDeptName: c.MainDeptName, OwnerCode: c.OwnerCode, OwnerName: c.OwnerName,
		MaintainerCode: c.MaintainerCode, MaintainerName: c.MaintainerName, GridCode: c.GridCode,
		StreetCode: c.StreetCode, CommunityCode: c.CommunityCode, Status: componentStatusToProto[c.Status],
		InitialDate: c.InitialDate, ChangeDate: c.ChangeDate, DataSource: c.DataSource, Note: c.Note,
		Lon: c.Lon, Lat: c.Lat, Geometry: c.Geometry,
		CreateTime: timestamppb.New(c.CreatedAt), UpdateTime: timestamppb.New(c.UpdatedAt),
	}
}

func componentFilterFromProto(f *registryv1.ComponentFilter) biz.Filter {
	out := biz.Filter{
		ClassCode: f.GetClassCode(), GridCode: f.GetGridCode(), OwnerCode: f.GetOwnerCode(),
		Status: componentStatusFromProto(f.GetStatus()),
	}
	// An unset box is all zeros; (0,0) lies in the Gulf of Guinea, never a
	// Chinese city's corner.
	if f.GetMinLon() != 0 || f.GetMinLat() != 0 || f.GetMaxLon() != 0 || f.GetMaxLat() != 0 {
		out.BBox = &biz.BBox{MinLon: f.GetMinLon(), MinLat: f.GetMinLat(), MaxLon: f.GetMaxLon(), MaxLat: f.GetMaxLat()}
	}
	return out
}

// GetComponent returns one component.
func (s *ComponentService) GetComponent(ctx context.Context, req *registryv1.GetComponentRequest) (*registryv1.Component, error) {
	c, err := s.uc.Get(ctx, req.GetTenantCode(), req.GetObjId())
	if err != nil {
		return nil, err
	}
	return componentToProto(c), nil
}

// ListComponents returns one page of components.
func (s *ComponentService) ListComponents(ctx context.Context, req *registryv1.ListComponentsRequest) (*registryv1.ListComponentsResponse, error) {
	rows, next, err := s.uc.List(ctx, biz.ListInput{
		TenantCode: req.GetTenantCode(), Filter: componentFilterFromProto(req.GetFilter()),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &registryv1.ListComponentsResponse{NextPageToken: next, Components: make([]*registryv1.Component, 0, len(rows))}
	for _, c := range rows {
		out.Components = append(out.Components, componentToProto(c))
	}
	if req.GetFormat() == registryv1.ComponentFormat_COMPONENT_FORMAT_GEOJSON {
		b, err := biz.FeatureCollectionJSON(rows)
		if err != nil {
			return nil, err
		}
		out.Geojson = string(b)
	}
	return out, nil
}

// Nearby returns the components near a point, nearest first.
func (s *ComponentService) Nearby(ctx context.Context, req *registryv1.NearbyRequest) (*registryv1.NearbyResponse, error) {
	hits, err := s.uc.Nearby(ctx, biz.NearbyInput{
		TenantCode: req.GetTenantCode(), Lon: req.GetLon(), Lat: req.GetLat(), RadiusM: req.GetRadiusM(),
		ClassCodes: req.GetClassCodes(), Limit: int(req.GetLimit()),
	})
	if err != nil {
		return nil, err
	}
	out := &registryv1.NearbyResponse{Hits: make([]*registryv1.NearbyHit, 0, len(hits))}
	for _, h := range hits {
		out.Hits = append(out.Hits, &registryv1.NearbyHit{Component: componentToProto(h.Component), DistanceM: h.DistanceM})
	}
	return out, nil
}

// UpdateComponentStatus records a new status.
func (s *ComponentService) UpdateComponentStatus(ctx context.Context, req *registryv1.UpdateComponentStatusRequest) (*registryv1.Component, error) {
	c, err := s.uc.UpdateStatus(ctx, biz.UpdateStatusInput{
		TenantCode: req.GetTenantCode(), ObjID: req.GetObjId(), Status: componentStatusFromProto(req.GetStatus()),
		ChangeDate: req.GetChangeDate(), Note: req.GetNote(),
	})
	if err != nil {
		return nil, err
	}
	return componentToProto(c), nil
}

// ImportComponents imports an uploaded file.
func (s *ComponentService) ImportComponents(ctx context.Context, req *registryv1.ImportComponentsRequest) (*registryv1.ComponentImportReport, error) {
	content := req.GetContent()
	rep, err := s.uc.Import(ctx, biz.ImportInput{
		TenantCode: req.GetTenantCode(), Name: filepath.Base(req.GetFileName()),
		Source: bytes.NewReader(content), Size: int64(len(content)), CRS: req.GetCrs(),
	})
	if err != nil {
		return nil, err
	}
	return componentReportToProto(rep), nil
}

func componentReportToProto(rep *biz.ImportReport) *registryv1.ComponentImportReport {
	out := &registryv1.ComponentImportReport{
		Checksum: rep.Checksum, Encoding: rep.Encoding, Rows: rep.Rows, Inserted: rep.Inserted,
		Updated: rep.Updated, Unchanged: rep.Unchanged, Rejected: rep.Rejected, Resumed: rep.Resumed,
		Rejections: make([]*registryv1.ComponentImportRejection, 0, len(rep.Rejections)),
	}
	for _, r := range rep.Rejections {
		out.Rejections = append(out.Rejections, &registryv1.ComponentImportRejection{
			Line: r.Line, Column: r.Column, Reason: r.Reason, MessageZh: r.ZH, MessageEn: r.EN,
		})
	}
	return out
}

// componentExportMaxRows is the most rows one API export returns.
const componentExportMaxRows = 50000

// ExportComponents returns the filtered components as a file.
func (s *ComponentService) ExportComponents(ctx context.Context, req *registryv1.ExportComponentsRequest) (*registryv1.ExportComponentsResponse, error) {
	format, ext, ctype := biz.FormatCSV, ".csv", "text/csv; charset=utf-8"
	if req.GetFormat() == registryv1.ComponentFormat_COMPONENT_FORMAT_GEOJSON {
		format, ext, ctype = biz.FormatGeoJSON, ".geojson", "application/geo+json"
	}
	limit := int64(req.GetMaxRows())
	if limit <= 0 || limit > componentExportMaxRows {
		limit = componentExportMaxRows
	}
	var buf bytes.Buffer
	n, truncated, err := s.uc.Export(ctx, biz.ExportInput{
		TenantCode: req.GetTenantCode(), Filter: componentFilterFromProto(req.GetFilter()), Format: format, MaxRows: limit,
	}, &buf)
	if err != nil {
		return nil, err
	}
	return &registryv1.ExportComponentsResponse{
		FileName: "components-" + strings.ToLower(req.GetTenantCode()) + ext, ContentType: ctype,
		Content: buf.Bytes(), Rows: n, Truncated: truncated,
	}, nil
}
