package service

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	tenantv1 "github.com/cityops/cityops/api/tenant/v1"
	"github.com/cityops/cityops/app/pkg/region"
	biz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// TenantService serves cityops.tenant.v1.TenantService over HTTP and gRPC.
type TenantService struct {
	tenantv1.UnimplementedTenantServiceServer
	uc *biz.Usecase
}

// NewTenantService returns the tenant API over its use cases.
func NewTenantService(uc *biz.Usecase) *TenantService { return &TenantService{uc: uc} }

var (
	_ tenantv1.TenantServiceServer     = (*TenantService)(nil)
	_ tenantv1.TenantServiceHTTPServer = (*TenantService)(nil)
)

var levelToProto = map[region.Level]tenantv1.Level{
	region.National: tenantv1.Level_LEVEL_NATIONAL,
	region.Province: tenantv1.Level_LEVEL_PROVINCE,
	region.City:     tenantv1.Level_LEVEL_CITY,
	region.County:   tenantv1.Level_LEVEL_COUNTY,
}

func levelFromProto(l tenantv1.Level) region.Level {
	for k, v := range levelToProto {
		if v == l {
			return k
		}
	}
	return ""
}

func statusFromProto(s tenantv1.Status) biz.Status {
	switch s {
	case tenantv1.Status_STATUS_ACTIVE:
		return biz.StatusActive
	case tenantv1.Status_STATUS_SUSPENDED:
		return biz.StatusSuspended
	}
	return ""
}

func isolationFromProto(i tenantv1.Isolation) biz.Isolation {
	if i == tenantv1.Isolation_ISOLATION_DEDICATED {
		return biz.IsolationDedicated
	}
	return biz.IsolationShared
}

func tenantToProto(t *biz.Tenant) *tenantv1.Tenant {
	out := &tenantv1.Tenant{
		Code: t.Code, Slug: t.Slug, NameZh: t.NameZH, NameEn: t.NameEN,
		Level: levelToProto[t.Level], ParentCode: t.ParentCode, Path: t.Path,
		Status: tenantv1.Status_STATUS_ACTIVE, SuspendedReason: t.SuspendedReason,
		Isolation: tenantv1.Isolation_ISOLATION_SHARED, TimeZone: t.TimeZone,
		ManagementArea: t.ManagementArea,
		CreateTime:     timestamppb.New(t.CreatedAt), UpdateTime: timestamppb.New(t.UpdatedAt),
	}
	if t.Status == biz.StatusSuspended {
		out.Status = tenantv1.Status_STATUS_SUSPENDED
	}
	if t.Isolation == biz.IsolationDedicated {
		out.Isolation = tenantv1.Isolation_ISOLATION_DEDICATED
	}
	return out
}

func nodeToProto(n *biz.TreeNode) *tenantv1.TenantNode {
	out := &tenantv1.TenantNode{Tenant: tenantToProto(n.Tenant)}
	for _, c := range n.Children {
		out.Children = append(out.Children, nodeToProto(c))
	}
	return out
}

// CreateTenant adds a tenant under its parent.
func (s *TenantService) CreateTenant(ctx context.Context, req *tenantv1.CreateTenantRequest) (*tenantv1.Tenant, error) {
	t, err := s.uc.Create(ctx, biz.CreateInput{
		Code: req.GetCode(), Slug: req.GetSlug(), NameZH: req.GetNameZh(), NameEN: req.GetNameEn(),
		Level: levelFromProto(req.GetLevel()), ParentCode: req.GetParentCode(),
		ManagementArea: req.GetManagementArea(), Isolation: isolationFromProto(req.GetIsolation()),
		TimeZone: req.GetTimeZone(),
	})
	if err != nil {
		return nil, err
	}
	return tenantToProto(t), nil
}

// GetTenant returns one tenant.
func (s *TenantService) GetTenant(ctx context.Context, req *tenantv1.GetTenantRequest) (*tenantv1.Tenant, error) {
	t, err := s.uc.Get(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	return tenantToProto(t), nil
}

// ListTenants returns one page of tenants.
func (s *TenantService) ListTenants(ctx context.Context, req *tenantv1.ListTenantsRequest) (*tenantv1.ListTenantsResponse, error) {
	rows, next, err := s.uc.List(ctx, biz.ListInput{
		Level: levelFromProto(req.GetLevel()), ParentCode: req.GetParentCode(),
		Status: statusFromProto(req.GetStatus()), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &tenantv1.ListTenantsResponse{NextPageToken: next, Tenants: make([]*tenantv1.Tenant, 0, len(rows))}
	for _, t := range rows {
		out.Tenants = append(out.Tenants, tenantToProto(t))
	}
	return out, nil
}

// GetTenantTree returns a subtree.
func (s *TenantService) GetTenantTree(ctx context.Context, req *tenantv1.GetTenantTreeRequest) (*tenantv1.TenantNode, error) {
	n, err := s.uc.Tree(ctx, req.GetCode(), int(req.GetDepth()))
	if err != nil {
		return nil, err
	}
	return nodeToProto(n), nil
}

// UpdateTenant changes names or time zone.
func (s *TenantService) UpdateTenant(ctx context.Context, req *tenantv1.UpdateTenantRequest) (*tenantv1.Tenant, error) {
	t, err := s.uc.Update(ctx, req.GetCode(), biz.Update{NameZH: req.NameZh, NameEN: req.NameEn, TimeZone: req.TimeZone})
	if err != nil {
		return nil, err
	}
	return tenantToProto(t), nil
}

// SuspendTenant suspends a tenant.
func (s *TenantService) SuspendTenant(ctx context.Context, req *tenantv1.SuspendTenantRequest) (*tenantv1.Tenant, error) {
	t, err := s.uc.Suspend(ctx, req.GetCode(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return tenantToProto(t), nil
}

// ResumeTenant resumes a tenant.
func (s *TenantService) ResumeTenant(ctx context.Context, req *tenantv1.ResumeTenantRequest) (*tenantv1.Tenant, error) {
	t, err := s.uc.Resume(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	return tenantToProto(t), nil
}

// ListDepartments lists a tenant's departments.
func (s *TenantService) ListDepartments(ctx context.Context, req *tenantv1.ListDepartmentsRequest) (*tenantv1.ListDepartmentsResponse, error) {
	t, err := s.uc.Scope(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	deps, err := s.uc.Departments(ctx, t)
	if err != nil {
		return nil, err
	}
	out := &tenantv1.ListDepartmentsResponse{Departments: make([]*tenantv1.Department, 0, len(deps))}
	for _, d := range deps {
		pd := &tenantv1.Department{Code: d.Code, NameZh: d.NameZH, NameEn: d.NameEN, Kind: d.Kind, Status: d.Status}
		for _, c := range d.Contacts {
			pd.Contacts = append(pd.Contacts, &tenantv1.Contact{Name: c.Name, Title: c.Title, Phone: c.Phone})
		}
		out.Departments = append(out.Departments, pd)
	}
	return out, nil
}
