package service

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// CaseService serves cityops.caseflow.v1.CaseService over HTTP and gRPC.
type CaseService struct {
	caseflowv1.UnimplementedCaseServiceServer
	uc *biz.Usecase
}

// NewCaseService returns the case API over the case loop.
func NewCaseService(uc *biz.Usecase) *CaseService { return &CaseService{uc: uc} }

var (
	_ caseflowv1.CaseServiceServer     = (*CaseService)(nil)
	_ caseflowv1.CaseServiceHTTPServer = (*CaseService)(nil)
)

// inTenant checks that the caller acts in the tenant the request names; a
// tenant it does not act in answers TENANT_NOT_FOUND, as a missing one
// does (the authorization middleware has already refused foreign tenants;
// this keeps the use case honest on its own).
func inTenant(ctx context.Context, code string) error {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.TenantCode != code {
		return tenant.NotFound(code)
	}
	return nil
}

func protoSource(s biz.Source) caseflowv1.CaseSource {
	return caseflowv1.CaseSource(caseflowv1.CaseSource_value["CASE_SOURCE_"+strings.ToUpper(string(s))])
}

func bizSource(s caseflowv1.CaseSource) biz.Source {
	if s == caseflowv1.CaseSource_CASE_SOURCE_UNSPECIFIED {
		return ""
	}
	return biz.Source(strings.ToLower(strings.TrimPrefix(s.String(), "CASE_SOURCE_")))
}

func bizKind(k caseflowv1.CaseKind) biz.Kind {
	return biz.Kind(strings.ToLower(strings.TrimPrefix(k.String(), "CASE_KIND_")))
}

func bizState(s caseflowv1.CaseState) biz.State {
	return biz.State(strings.ToLower(strings.TrimPrefix(s.String(), "CASE_STATE_")))
}

func bizOperation(op caseflowv1.CaseOperation) biz.Operation {
	return biz.Operation(strings.ToLower(strings.TrimPrefix(op.String(), "CASE_OPERATION_")))
}

func bizQueue(q caseflowv1.WorkQueue) biz.Queue {
	return biz.Queue(strings.ToLower(strings.TrimPrefix(q.String(), "WORK_QUEUE_")))
}

func protoQueue(q biz.Queue) caseflowv1.WorkQueue {
	return caseflowv1.WorkQueue(caseflowv1.WorkQueue_value["WORK_QUEUE_"+strings.ToUpper(string(q))])
}

func caseToProto(c *biz.Case) *caseflowv1.Case {
	kind := caseflowv1.CaseKind(caseflowv1.CaseKind_value["CASE_KIND_"+strings.ToUpper(string(c.Kind))])
	return &caseflowv1.Case{
		Number: c.Number, Source: protoSource(c.Source),
		Class: &caseflowv1.CaseClass{
			Kind: kind, ClassCode: c.ClassCode, DetailCode: c.DetailCode, FilingConditionCode: c.FilingConditionCode,
			NationalClassCode: c.NationalClassCode, ComponentObjId: c.ComponentObjID,
		},
		Location: &caseflowv1.CaseLocation{
			Lon: c.Lon, Lat: c.Lat, Address: c.Address, GridCode: c.GridCode, CommunityCode: c.CommunityCode,
			StreetCode: c.StreetCode, DistrictCode: c.DistrictCode, AreaClass: c.AreaClass,
		},
		Urgency: c.Urgency, Description: c.Description, ReporterName: c.ReporterName, ReporterPhone: c.ReporterPhone,
		ReportedBy: c.ReportedBy, PrimaryDepartmentCode: c.PrimaryDepartmentCode, CoDepartmentCodes: c.CoDepartmentCodes,
		State: biz.ProtoState(c.State), Version: c.Version,
		Times: &caseflowv1.CaseStageTimes{
			Reported: ts(c.ReportedAt), Verified: ts(c.VerifiedAt), Filed: ts(c.FiledAt), Dispatched: ts(c.DispatchedAt),
			Accepted: ts(c.AcceptedAt), Feedback: ts(c.FeedbackAt), Checked: ts(c.CheckedAt), Closed: ts(c.ClosedAt),
			Overdue: ts(c.OverdueAt),
		},
		Deadlines: &caseflowv1.CaseDeadlines{
			Verify: ts(c.VerifyDeadline), Dispatch: ts(c.DispatchDeadline), Dispose: ts(c.DisposeDeadline),
			Check: ts(c.CheckDeadline), Close: ts(c.CloseDeadline), Stages: biz.StagesToProto(c.StageDeadlines),
		},
		Counters: &caseflowv1.CaseCounters{
			Rework: int32(c.ReworkCount), Return: int32(c.ReturnCount), Extension: int32(c.ExtensionCount),
			Hang: int32(c.HangCount), Reminder: int32(c.ReminderCount), HangSeconds: c.HangSeconds,
		},
		Flags:            &caseflowv1.CaseFlags{Overdue: c.Overdue, Supervised: c.Supervised, SelfHandled: c.SelfHandled},
		MergedInto:       c.MergedInto,
		DispatchRuleCode: c.DispatchRuleCode, AutoDispatched: c.AutoDispatched,
		EscalationLevel: int32(c.EscalationLevel), SuperviseDeadline: ts(c.SuperviseDeadline),
		CreateTime: timestamppb.New(c.CreatedAt), UpdateTime: timestamppb.New(c.UpdatedAt),
	}
}

func (s *CaseService) view(ctx context.Context, c *biz.Case) *caseflowv1.CaseView {
	out := &caseflowv1.CaseView{Case: caseToProto(c)}
	for _, op := range s.uc.Allowed(ctx, c) {
		out.AllowedOperations = append(out.AllowedOperations, biz.ProtoOperation(op))
	}
	return out
}

func duplicatesToProto(ds []biz.Duplicate) []*caseflowv1.DuplicateCandidate {
	out := make([]*caseflowv1.DuplicateCandidate, len(ds))
	for i, d := range ds {
		out[i] = &caseflowv1.DuplicateCandidate{
			Number: d.Case.Number, State: biz.ProtoState(d.Case.State), ClassCode: d.Case.ClassCode,
			DistanceM: d.DistanceM, ReportedAt: ts(d.Case.ReportedAt), Address: d.Case.Address,
			Description: d.Case.Description,
		}
	}
	return out
}

// SubmitCase creates a case from a report.
func (s *CaseService) SubmitCase(ctx context.Context, req *caseflowv1.SubmitCaseRequest) (*caseflowv1.SubmitCaseResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	p := req.GetPoint()
	got, err := s.uc.Intake(ctx, biz.SubmitInput{
		Source: bizSource(req.GetSource()), Kind: bizKind(req.GetKind()), ClassCode: req.GetClassCode(),
		DetailCode: req.GetDetailCode(), FilingConditionCode: req.GetFilingConditionCode(),
		Description: req.GetDescription(), Lon: p.GetLon(), Lat: p.GetLat(), CRS: p.GetCrs(), Address: req.GetAddress(),
		ComponentObjID: req.GetComponentObjId(), Urgency: req.GetUrgency(), ReporterName: req.GetReporterName(),
		ReporterPhone: req.GetReporterPhone(), Attachments: req.GetAttachments(),
	})
	if err != nil {
		return nil, err
	}
	out := &caseflowv1.SubmitCaseResponse{Case: caseToProto(got.Case), Duplicates: duplicatesToProto(got.Duplicates)}
	if d := got.Dispatch; d != nil {
		out.Dispatch = &caseflowv1.DispatchSuggestion{
			Auto: d.Auto, RuleCode: d.RuleCode, DepartmentCode: d.Department, CoDepartmentCodes: d.CoDepartments, Reason: d.Reason,
		}
		for _, c := range d.Candidates {
			out.Dispatch.Candidates = append(out.Dispatch.Candidates, &caseflowv1.DispatchCandidate{
				RuleCode: c.RuleCode, DepartmentCode: c.Department, CoDepartmentCodes: c.CoDepartments, Reason: c.Reason,
			})
		}
	}
	return out, nil
}

// FindDuplicates lists open cases of a class near a point.
func (s *CaseService) FindDuplicates(ctx context.Context, req *caseflowv1.FindDuplicatesRequest) (*caseflowv1.FindDuplicatesResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	ds, err := s.uc.FindDuplicates(ctx, biz.DuplicateQuery{
		ClassCode: req.GetClassCode(), Lon: req.GetLon(), Lat: req.GetLat(), CRS: req.GetCrs(),
		RadiusM: req.GetRadiusM(), Window: time.Duration(req.GetWindowHours()) * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	return &caseflowv1.FindDuplicatesResponse{Duplicates: duplicatesToProto(ds)}, nil
}

// SuggestClass proposes classes for a description.
func (s *CaseService) SuggestClass(ctx context.Context, req *caseflowv1.SuggestClassRequest) (*caseflowv1.SuggestClassResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	var kind biz.Kind
	if req.GetKind() != caseflowv1.CaseKind_CASE_KIND_UNSPECIFIED {
		kind = bizKind(req.GetKind())
	}
	got, err := s.uc.SuggestClass(ctx, kind, req.GetText(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &caseflowv1.SuggestClassResponse{}
	for _, g := range got {
		out.Suggestions = append(out.Suggestions, &caseflowv1.ClassSuggestion{
			Kind:      caseflowv1.CaseKind(caseflowv1.CaseKind_value["CASE_KIND_"+strings.ToUpper(string(g.Kind))]),
			ClassCode: g.ClassCode, Name: g.Name, Score: g.Score,
		})
	}
	return out, nil
}

// TransitionCase applies one operation of the state machine.
func (s *CaseService) TransitionCase(ctx context.Context, req *caseflowv1.TransitionCaseRequest) (*caseflowv1.CaseView, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	in := biz.Input{
		Opinion: req.GetOpinion(), Attachments: req.GetAttachments(), Department: req.GetDepartmentCode(),
		CoDepartments: req.GetCoDepartmentCodes(), Duration: time.Duration(req.GetExtensionMinutes()) * time.Minute,
		MergeInto: req.GetMergeInto(), ExpectedVersion: req.GetExpectedVersion(),
	}
	if p := req.GetPoint(); p != nil {
		lon, lat := p.GetLon(), p.GetLat()
		in.Lon, in.Lat = &lon, &lat
	}
	c, err := s.uc.Transition(ctx, req.GetNumber(), bizOperation(req.GetOperation()), in)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, c), nil
}

// GetCase returns a case and what the caller may do with it.
func (s *CaseService) GetCase(ctx context.Context, req *caseflowv1.GetCaseRequest) (*caseflowv1.CaseView, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	c, err := s.uc.Get(ctx, req.GetNumber())
	if err != nil {
		return nil, err
	}
	return s.view(ctx, c), nil
}

// ListCaseTimeline returns a case's steps.
func (s *CaseService) ListCaseTimeline(ctx context.Context, req *caseflowv1.ListCaseTimelineRequest) (*caseflowv1.ListCaseTimelineResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	steps, err := s.uc.Timeline(ctx, req.GetNumber())
	if err != nil {
		return nil, err
	}
	out := &caseflowv1.ListCaseTimelineResponse{Steps: make([]*caseflowv1.CaseStep, len(steps))}
	for i, st := range steps {
		p := &caseflowv1.CaseStep{
			Seq: st.Seq, Operation: biz.ProtoOperation(st.Operation), FromState: biz.ProtoState(st.From),
			ToState: biz.ProtoState(st.To), Actor: st.Actor, ActorName: st.ActorName, Post: st.Post,
			Opinion: st.Opinion, Attachments: st.Attachments, Detail: st.Detail, Time: timestamppb.New(st.At),
		}
		if st.Lon != nil && st.Lat != nil {
			p.Lon, p.Lat = *st.Lon, *st.Lat
		}
		out.Steps[i] = p
	}
	return out, nil
}

func pageToProto(p *biz.Page) *caseflowv1.ListCasesResponse {
	out := &caseflowv1.ListCasesResponse{Cases: make([]*caseflowv1.Case, len(p.Cases)), NextPageToken: p.Next}
	for i, c := range p.Cases {
		out.Cases[i] = caseToProto(c)
	}
	return out
}

// ListWorkQueue returns one work queue of the caller's posts.
func (s *CaseService) ListWorkQueue(ctx context.Context, req *caseflowv1.ListWorkQueueRequest) (*caseflowv1.ListCasesResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	p, err := s.uc.WorkQueue(ctx, bizQueue(req.GetQueue()), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return pageToProto(p), nil
}

func filterFromProto(f *caseflowv1.CaseFilter) biz.Filter {
	out := biz.Filter{
		Number: f.GetNumber(), ClassCode: f.GetClassCode(), GridCode: f.GetGridCode(),
		CommunityCode: f.GetCommunityCode(), StreetCode: f.GetStreetCode(), DistrictCode: f.GetDistrictCode(),
		DepartmentCode: f.GetDepartmentCode(), Source: bizSource(f.GetSource()), Urgency: f.GetUrgency(),
		OverdueOnly: f.GetOverdueOnly(), SupervisedOnly: f.GetSupervisedOnly(), OpenOnly: f.GetOpenOnly(),
	}
	for _, st := range f.GetStates() {
		out.States = append(out.States, bizState(st))
	}
	if f.GetReportedFrom() != nil {
		t := f.GetReportedFrom().AsTime()
		out.ReportedFrom = &t
	}
	if f.GetReportedTo() != nil {
		t := f.GetReportedTo().AsTime()
		out.ReportedTo = &t
	}
	return out
}

// SearchCases finds cases.
func (s *CaseService) SearchCases(ctx context.Context, req *caseflowv1.SearchCasesRequest) (*caseflowv1.ListCasesResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	p, err := s.uc.Search(ctx, filterFromProto(req.GetFilter()), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return pageToProto(p), nil
}

// CountCases counts cases by state and the caller's work queues.
func (s *CaseService) CountCases(ctx context.Context, req *caseflowv1.CountCasesRequest) (*caseflowv1.CountCasesResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	counts, qs, err := s.uc.Count(ctx, filterFromProto(req.GetFilter()))
	if err != nil {
		return nil, err
	}
	out := &caseflowv1.CountCasesResponse{Total: counts.Total, Overdue: counts.Overdue, Supervised: counts.Supervised}
	for _, st := range biz.AllStates() {
		if n := counts.ByState[st]; n > 0 {
			out.States = append(out.States, &caseflowv1.StateCount{State: biz.ProtoState(st), Count: n})
		}
	}
	for _, q := range qs {
		out.Queues = append(out.Queues, &caseflowv1.QueueCount{Queue: protoQueue(q.Queue), Count: q.Count})
	}
	return out, nil
}

// ExportCases writes the cases a filter matches as CSV or XLSX.
func (s *CaseService) ExportCases(ctx context.Context, req *caseflowv1.ExportCasesRequest) (*caseflowv1.ExportCasesResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	e, err := s.uc.ExportCases(ctx, filterFromProto(req.GetFilter()), req.GetFormat(), int(req.GetMaxRows()))
	if err != nil {
		return nil, err
	}
	return &caseflowv1.ExportCasesResponse{
		FileName: e.FileName, ContentType: e.ContentType, Content: e.Content, Rows: int64(e.Rows), Truncated: e.Truncated,
	}, nil
}
