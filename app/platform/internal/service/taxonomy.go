package service

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
)

// TaxonomyService serves cityops.registry.v1.TaxonomyService over HTTP and gRPC.
type TaxonomyService struct {
	registryv1.UnimplementedTaxonomyServiceServer
	uc *biz.Usecase
}

// NewTaxonomyService returns the taxonomy API over its use cases.
func NewTaxonomyService(uc *biz.Usecase) *TaxonomyService { return &TaxonomyService{uc: uc} }

var (
	_ registryv1.TaxonomyServiceServer     = (*TaxonomyService)(nil)
	_ registryv1.TaxonomyServiceHTTPServer = (*TaxonomyService)(nil)
)

func classToProto(c *biz.Class) *registryv1.TaxonomyClass {
	return &registryv1.TaxonomyClass{
		Kind: string(c.Kind), Level: string(c.Level), Code: c.Code, ParentCode: c.ParentCode,
		NameZh: c.NameZH, NameEn: c.NameEN, NationalCode: c.NationalCode, Scheme: c.Scheme,
		Version: int32(c.Version), Local: c.Local, Active: c.Active,
	}
}

func limitsToProto(ls []biz.TimeLimit) []*registryv1.TimeLimit {
	out := make([]*registryv1.TimeLimit, 0, len(ls))
	for _, l := range ls {
		out = append(out, &registryv1.TimeLimit{AreaClass: l.AreaClass, Stage: l.Stage, Amount: l.Amount, Unit: l.Unit, Stages: limitsToProto(l.Stages)})
	}
	return out
}

func limitsFromProto(ls []*registryv1.TimeLimit) []biz.TimeLimit {
	if len(ls) == 0 {
		return nil
	}
	out := make([]biz.TimeLimit, 0, len(ls))
	for _, l := range ls {
		out = append(out, biz.TimeLimit{AreaClass: l.GetAreaClass(), Stage: l.GetStage(), Amount: l.GetAmount(), Unit: l.GetUnit(), Stages: limitsFromProto(l.GetStages())})
	}
	return out
}

func conditionToProto(c *biz.FilingCondition) *registryv1.FilingCondition {
	return &registryv1.FilingCondition{
		Kind: string(c.Kind), ClassCode: c.ClassCode, Code: c.Code, FilingText: c.FilingText,
		ClosingText: c.ClosingText, Urgency: string(c.Urgency), TimeLimits: limitsToProto(c.TimeLimits),
		Version: int32(c.Version),
	}
}

// ListClasses lists the classes of a taxonomy version.
func (s *TaxonomyService) ListClasses(ctx context.Context, req *registryv1.ListClassesRequest) (*registryv1.ListClassesResponse, error) {
	l, err := s.uc.ListClasses(ctx, req.GetTenantCode(), biz.Filter{
		Kind: biz.Kind(req.GetKind()), Level: biz.Level(req.GetLevel()), ParentCode: req.GetParentCode(),
		Version: int(req.GetVersion()), IncludeInactive: req.GetIncludeInactive(),
	})
	if err != nil {
		return nil, err
	}
	out := &registryv1.ListClassesResponse{Version: int32(l.Version.Number), Scheme: l.Version.Scheme,
		Classes: make([]*registryv1.TaxonomyClass, 0, len(l.Classes))}
	if !l.Version.EffectiveFrom.IsZero() {
		out.EffectiveTime = timestamppb.New(l.Version.EffectiveFrom)
	}
	for i := range l.Classes {
		out.Classes = append(out.Classes, classToProto(&l.Classes[i]))
	}
	return out, nil
}

// GetClass returns one class.
func (s *TaxonomyService) GetClass(ctx context.Context, req *registryv1.GetClassRequest) (*registryv1.TaxonomyClass, error) {
	c, err := s.uc.GetClass(ctx, req.GetTenantCode(), biz.Kind(req.GetKind()), req.GetCode(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return classToProto(c), nil
}

// UpsertLocalClass adds or renames a tenant's own class.
func (s *TaxonomyService) UpsertLocalClass(ctx context.Context, req *registryv1.UpsertLocalClassRequest) (*registryv1.UpsertLocalClassResponse, error) {
	c, created, err := s.uc.UpsertLocalClass(ctx, req.GetTenantCode(), biz.LocalClass{
		Kind: biz.Kind(req.GetKind()), Code: req.GetCode(), NameZH: req.GetNameZh(), NameEN: req.GetNameEn(),
		NationalCode: req.GetNationalCode(),
	})
	if err != nil {
		return nil, err
	}
	return &registryv1.UpsertLocalClassResponse{Class: classToProto(c), Created: created}, nil
}

// DeactivateClass deactivates a class and its descendants.
func (s *TaxonomyService) DeactivateClass(ctx context.Context, req *registryv1.DeactivateClassRequest) (*registryv1.DeactivateClassResponse, error) {
	c, desc, err := s.uc.DeactivateClass(ctx, req.GetTenantCode(), biz.Kind(req.GetKind()), req.GetCode())
	if err != nil {
		return nil, err
	}
	return &registryv1.DeactivateClassResponse{Class: classToProto(c), Descendants: desc}, nil
}

// ListFilingConditions lists a class's filing conditions.
func (s *TaxonomyService) ListFilingConditions(ctx context.Context, req *registryv1.ListFilingConditionsRequest) (*registryv1.ListFilingConditionsResponse, error) {
	cs, err := s.uc.ListFilingConditions(ctx, req.GetTenantCode(), biz.Kind(req.GetKind()), req.GetClassCode(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	out := &registryv1.ListFilingConditionsResponse{Conditions: make([]*registryv1.FilingCondition, 0, len(cs))}
	for i := range cs {
		out.Conditions = append(out.Conditions, conditionToProto(&cs[i]))
	}
	return out, nil
}

// UpsertFilingCondition adds or replaces a filing condition.
func (s *TaxonomyService) UpsertFilingCondition(ctx context.Context, req *registryv1.UpsertFilingConditionRequest) (*registryv1.UpsertFilingConditionResponse, error) {
	c, created, err := s.uc.UpsertFilingCondition(ctx, req.GetTenantCode(), biz.FilingCondition{
		Kind: biz.Kind(req.GetKind()), ClassCode: req.GetClassCode(), Code: req.GetCode(),
		FilingText: req.GetFilingText(), ClosingText: req.GetClosingText(), Urgency: biz.Urgency(req.GetUrgency()),
		TimeLimits: limitsFromProto(req.GetTimeLimits()),
	})
	if err != nil {
		return nil, err
	}
	return &registryv1.UpsertFilingConditionResponse{Condition: conditionToProto(c), Created: created}, nil
}

// Crosswalk returns a class's GB/T 47678.5-2026 code.
func (s *TaxonomyService) Crosswalk(ctx context.Context, req *registryv1.CrosswalkRequest) (*registryv1.CrosswalkResponse, error) {
	n, err := s.uc.Crosswalk(ctx, req.GetTenantCode(), biz.Kind(req.GetKind()), req.GetCode())
	if err != nil {
		return nil, err
	}
	return &registryv1.CrosswalkResponse{Kind: req.GetKind(), Code: req.GetCode(), NationalCode: n, Mapped: n != ""}, nil
}

// ExportTaxonomy writes a version as a classification table.
func (s *TaxonomyService) ExportTaxonomy(ctx context.Context, req *registryv1.ExportTaxonomyRequest) (*registryv1.ExportTaxonomyResponse, error) {
	r, err := s.uc.Export(ctx, req.GetTenantCode(), biz.ExportInput{
		Format: biz.Format(req.GetFormat()), Kind: biz.Kind(req.GetKind()), Version: int(req.GetVersion()),
	})
	if err != nil {
		return nil, err
	}
	return &registryv1.ExportTaxonomyResponse{Content: r.Data, ContentType: r.ContentType, Filename: r.Filename,
		Version: int32(r.Version), Rows: int32(r.Rows)}, nil
}

// ImportTaxonomy reads a classification table into a new version.
func (s *TaxonomyService) ImportTaxonomy(ctx context.Context, req *registryv1.ImportTaxonomyRequest) (*registryv1.ImportTaxonomyResponse, error) {
	r, err := s.uc.Import(ctx, req.GetTenantCode(), biz.ImportInput{
		Data: req.GetContent(), Format: biz.Format(req.GetFormat()), DefaultKind: biz.Kind(req.GetDefaultKind()),
		SkipBad: req.GetSkipBad(), ValidateOnly: req.GetValidateOnly(),
	})
	if err != nil {
		return nil, err
	}
	out := &registryv1.ImportTaxonomyResponse{Version: int32(r.Version), Unchanged: r.Unchanged,
		Classes: int32(r.Classes), Conditions: int32(r.Conditions),
		Problems: make([]*registryv1.TaxonomyImportProblem, 0, len(r.Problems))}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, &registryv1.TaxonomyImportProblem{Line: int32(p.Line), Column: p.Column, DetailZh: p.ZH, DetailEn: p.EN})
	}
	return out, nil
}
