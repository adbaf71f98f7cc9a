package service

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	dispatchbiz "github.com/cityops/cityops/app/platform/internal/biz/dispatch"
)

// DispatchService serves cityops.dispatch.v1.DispatchRuleService over HTTP
// and gRPC.
type DispatchService struct {
	dispatchv1.UnimplementedDispatchRuleServiceServer
	uc *dispatchbiz.Usecase
}

// NewDispatchService returns the dispatch-rule API over its use cases.
func NewDispatchService(uc *dispatchbiz.Usecase) *DispatchService { return &DispatchService{uc: uc} }

var (
	_ dispatchv1.DispatchRuleServiceServer     = (*DispatchService)(nil)
	_ dispatchv1.DispatchRuleServiceHTTPServer = (*DispatchService)(nil)
)

func dispatchRuleToProto(r *dispatchbiz.Rule) *dispatchv1.DispatchRule {
	enabled := r.Enabled
	out := &dispatchv1.DispatchRule{
		Code: r.Code, Name: r.Name, Kind: string(r.Kind), ClassCode: r.ClassCode, FilingConditionCode: r.FilingConditionCode,
		RegionLevel: string(r.RegionLevel), RegionCode: r.RegionCode, AreaClass: r.AreaClass, TimeFrom: r.TimeFrom, TimeTo: r.TimeTo,
		DepartmentCode: r.DepartmentCode, CoDepartmentCodes: r.CoDepartmentCodes, RotationDepartments: r.RotationDepartments,
		RotationPeriod: string(r.RotationPeriod), Priority: int32(r.Priority), Enabled: &enabled, Note: r.Note,
		DispatchCount: r.DispatchCount, ReturnCount: r.ReturnCount, ReturnRate: r.ReturnRate(),
	}
	if r.RotationAnchor != nil {
		out.RotationAnchor = timestamppb.New(*r.RotationAnchor)
	}
	if !r.CreatedAt.IsZero() {
		out.CreateTime = timestamppb.New(r.CreatedAt)
	}
	if !r.UpdatedAt.IsZero() {
		out.UpdateTime = timestamppb.New(r.UpdatedAt)
	}
	return out
}

// dispatchRuleFromProto reads the settings of a rule; the counters and
// timestamps are output only.
func dispatchRuleFromProto(p *dispatchv1.DispatchRule) *dispatchbiz.Rule {
	r := &dispatchbiz.Rule{
		Code: p.GetCode(), Name: p.GetName(), Kind: dispatchbiz.Kind(p.GetKind()), ClassCode: p.GetClassCode(),
		FilingConditionCode: p.GetFilingConditionCode(), RegionLevel: dispatchbiz.RegionLevel(p.GetRegionLevel()),
		RegionCode: p.GetRegionCode(), AreaClass: p.GetAreaClass(), TimeFrom: p.GetTimeFrom(), TimeTo: p.GetTimeTo(),
		DepartmentCode: p.GetDepartmentCode(), CoDepartmentCodes: p.GetCoDepartmentCodes(),
		RotationDepartments: p.GetRotationDepartments(), RotationPeriod: dispatchbiz.RotationPeriod(p.GetRotationPeriod()),
		Priority: int(p.GetPriority()), Enabled: p.Enabled == nil || p.GetEnabled(), Note: p.GetNote(),
	}
	if p.GetRotationAnchor() != nil {
		t := p.GetRotationAnchor().AsTime()
		r.RotationAnchor = &t
	}
	return r
}

// CreateDispatchRule adds a rule.
func (s *DispatchService) CreateDispatchRule(ctx context.Context, req *dispatchv1.CreateDispatchRuleRequest) (*dispatchv1.DispatchRule, error) {
	r, err := s.uc.Create(ctx, req.GetTenantCode(), dispatchRuleFromProto(req.GetRule()))
	if err != nil {
		return nil, err
	}
	return dispatchRuleToProto(r), nil
}

// UpdateDispatchRule replaces a rule's settings.
func (s *DispatchService) UpdateDispatchRule(ctx context.Context, req *dispatchv1.UpdateDispatchRuleRequest) (*dispatchv1.DispatchRule, error) {
	r, err := s.uc.Update(ctx, req.GetTenantCode(), req.GetCode(), dispatchRuleFromProto(req.GetRule()), req.GetResetCounters())
	if err != nil {
		return nil, err
	}
	return dispatchRuleToProto(r), nil
}

// DeleteDispatchRule removes a rule.
func (s *DispatchService) DeleteDispatchRule(ctx context.Context, req *dispatchv1.DeleteDispatchRuleRequest) (*dispatchv1.DeleteDispatchRuleResponse, error) {
	if err := s.uc.Delete(ctx, req.GetTenantCode(), req.GetCode()); err != nil {
		return nil, err
	}
	return &dispatchv1.DeleteDispatchRuleResponse{}, nil
}

// GetDispatchRule returns one rule.
func (s *DispatchService) GetDispatchRule(ctx context.Context, req *dispatchv1.GetDispatchRuleRequest) (*dispatchv1.DispatchRule, error) {
	r, err := s.uc.Get(ctx, req.GetTenantCode(), req.GetCode())
	if err != nil {
		return nil, err
	}
	return dispatchRuleToProto(r), nil
}

// ListDispatchRules returns one page of rules.
func (s *DispatchService) ListDispatchRules(ctx context.Context, req *dispatchv1.ListDispatchRulesRequest) (*dispatchv1.ListDispatchRulesResponse, error) {
	f := req.GetFilter()
	in := dispatchbiz.ListInput{
		TenantCode: req.GetTenantCode(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
		Filter: dispatchbiz.Filter{
			Kind: dispatchbiz.Kind(f.GetKind()), ClassCode: f.GetClassCode(), RegionLevel: dispatchbiz.RegionLevel(f.GetRegionLevel()),
			RegionCode: f.GetRegionCode(), DepartmentCode: f.GetDepartmentCode(),
		},
	}
	switch f.GetState() {
	case "enabled":
		on := true
		in.Filter.Enabled = &on
	case "disabled":
		off := false
		in.Filter.Enabled = &off
	}
	if req.GetOrderBy() == dispatchv1.DispatchRuleOrder_DISPATCH_RULE_ORDER_RETURN_RATE {
		in.Order = dispatchbiz.OrderReturnRate
	}
	rows, next, err := s.uc.List(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &dispatchv1.ListDispatchRulesResponse{NextPageToken: next, Rules: make([]*dispatchv1.DispatchRule, 0, len(rows))}
	for _, r := range rows {
		out.Rules = append(out.Rules, dispatchRuleToProto(r))
	}
	return out, nil
}

func dispatchSwitchToProto(s *dispatchbiz.Switch) *dispatchv1.AutoDispatchSwitch {
	out := &dispatchv1.AutoDispatchSwitch{ClassCode: s.ClassCode, Auto: s.Auto, UpdatedBy: s.UpdatedBy}
	if !s.UpdatedAt.IsZero() {
		out.UpdateTime = timestamppb.New(s.UpdatedAt)
	}
	return out
}

// SetAutoDispatch turns automatic dispatch of a class on or off.
func (s *DispatchService) SetAutoDispatch(ctx context.Context, req *dispatchv1.SetAutoDispatchRequest) (*dispatchv1.AutoDispatchSwitch, error) {
	sw, err := s.uc.SetAuto(ctx, req.GetTenantCode(), req.GetClassCode(), req.GetAuto())
	if err != nil {
		return nil, err
	}
	return dispatchSwitchToProto(sw), nil
}

// ListAutoDispatch lists the class switches.
func (s *DispatchService) ListAutoDispatch(ctx context.Context, req *dispatchv1.ListAutoDispatchRequest) (*dispatchv1.ListAutoDispatchResponse, error) {
	sws, err := s.uc.ListAuto(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	out := &dispatchv1.ListAutoDispatchResponse{Switches: make([]*dispatchv1.AutoDispatchSwitch, 0, len(sws))}
	for _, sw := range sws {
		out.Switches = append(out.Switches, dispatchSwitchToProto(sw))
	}
	return out, nil
}

// ImportDispatchRules imports a rule table all or nothing.
func (s *DispatchService) ImportDispatchRules(ctx context.Context, req *dispatchv1.ImportDispatchRulesRequest) (*dispatchv1.ImportDispatchRulesResponse, error) {
	res, err := s.uc.Import(ctx, dispatchbiz.ImportInput{
		TenantCode: req.GetTenantCode(), Data: req.GetContent(), Format: dispatchbiz.Format(req.GetFormat()),
		DryRun: req.GetDryRun(), Replace: req.GetReplace(),
	})
	if err != nil {
		return nil, err
	}
	out := &dispatchv1.ImportDispatchRulesResponse{
		Rows: int32(res.Rows), Created: int32(res.Created), Updated: int32(res.Updated), Unchanged: int32(res.Unchanged),
		Deleted: int32(res.Deleted), DryRun: res.DryRun, Problems: make([]*dispatchv1.DispatchImportProblem, 0, len(res.Problems)),
	}
	for _, p := range res.Problems {
		out.Problems = append(out.Problems, &dispatchv1.DispatchImportProblem{Line: int32(p.Line), Column: p.Column, DetailZh: p.ZH, DetailEn: p.EN})
	}
	return out, nil
}

// ExportDispatchRules returns the rules as the import template.
func (s *DispatchService) ExportDispatchRules(ctx context.Context, req *dispatchv1.ExportDispatchRulesRequest) (*dispatchv1.ExportDispatchRulesResponse, error) {
	format, ctype := dispatchbiz.FormatCSV, "text/csv; charset=utf-8"
	if req.GetFormat() == string(dispatchbiz.FormatXLSX) {
		format, ctype = dispatchbiz.FormatXLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	b, n, err := s.uc.Export(ctx, req.GetTenantCode(), format)
	if err != nil {
		return nil, err
	}
	return &dispatchv1.ExportDispatchRulesResponse{
		Content: b, ContentType: ctype, Rows: int32(n),
		Filename: "dispatch-rules-" + strings.ToLower(req.GetTenantCode()) + "." + string(format),
	}, nil
}

// PreviewDispatch shows what the matrix decides for a subject.
func (s *DispatchService) PreviewDispatch(ctx context.Context, req *dispatchv1.PreviewDispatchRequest) (*dispatchv1.DispatchDecision, error) {
	subject := dispatchbiz.Subject{
		ClassCode: req.GetClassCode(), DetailCode: req.GetDetailCode(), FilingConditionCode: req.GetFilingConditionCode(),
		GridCode: req.GetGridCode(), CommunityCode: req.GetCommunityCode(), StreetCode: req.GetStreetCode(),
		DistrictCode: req.GetDistrictCode(), AreaClass: req.GetAreaClass(), ComponentObjID: req.GetComponentObjId(),
	}
	if req.GetTime() != nil {
		subject.At = req.GetTime().AsTime()
	}
	d, err := s.uc.Preview(ctx, req.GetTenantCode(), subject)
	if err != nil {
		return nil, err
	}
	out := &dispatchv1.DispatchDecision{
		Auto: d.Auto, Stage: d.Stage, RuleCode: d.RuleCode, DepartmentCode: d.Department,
		CoDepartmentCodes: d.CoDepartments, Reason: d.Reason, ClassAuto: d.ClassAuto,
		Candidates: make([]*dispatchv1.DispatchCandidate, 0, len(d.Candidates)),
	}
	for _, c := range d.Candidates {
		out.Candidates = append(out.Candidates, &dispatchv1.DispatchCandidate{
			RuleCode: c.RuleCode, DepartmentCode: c.Department, CoDepartmentCodes: c.CoDepartments, Reason: c.Reason,
		})
	}
	return out, nil
}
