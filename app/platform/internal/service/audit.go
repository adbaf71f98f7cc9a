package service

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/cityops/cityops/api/audit/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/audit"
)

// AuditService serves cityops.audit.v1.AuditService over HTTP and gRPC.
type AuditService struct {
	auditv1.UnimplementedAuditServiceServer
	uc *biz.Usecase
}

// NewAuditService returns the audit API over its use cases.
func NewAuditService(uc *biz.Usecase) *AuditService { return &AuditService{uc: uc} }

var (
	_ auditv1.AuditServiceServer     = (*AuditService)(nil)
	_ auditv1.AuditServiceHTTPServer = (*AuditService)(nil)
)

var kindToProto = map[biz.Kind]auditv1.ProblemKind{
	biz.KindAltered:      auditv1.ProblemKind_PROBLEM_KIND_ALTERED,
	biz.KindGap:          auditv1.ProblemKind_PROBLEM_KIND_GAP,
	biz.KindBrokenLink:   auditv1.ProblemKind_PROBLEM_KIND_BROKEN_LINK,
	biz.KindTailMismatch: auditv1.ProblemKind_PROBLEM_KIND_TAIL_MISMATCH,
	biz.KindUnheaded:     auditv1.ProblemKind_PROBLEM_KIND_UNHEADED,
}

// timeOf maps an unset timestamp to the zero time ("unbounded").
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func recordToProto(r *biz.Record) *auditv1.AuditEntry {
	return &auditv1.AuditEntry{
		Chain: r.Chain, Seq: r.Seq, Hash: r.Hash, PrevHash: r.PrevHash, At: timestamppb.New(r.At),
		Actor: r.Actor, ActorName: r.ActorName, Role: r.Role, Operation: r.Operation,
		Target: r.Target, RequestId: r.RequestID, SourceAddr: r.SourceAddr,
		Outcome: r.Outcome, Detail: r.Detail,
	}
}

func reportToProto(rep *biz.Report) *auditv1.AuditReport {
	out := &auditv1.AuditReport{Chain: rep.Chain, Entries: rep.Entries, Ok: rep.OK,
		Problems: make([]*auditv1.AuditProblem, 0, len(rep.Problems))}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, &auditv1.AuditProblem{
			Seq: p.Seq, Kind: kindToProto[p.Kind], Detail: p.Detail, Want: p.Want, Got: p.Got,
		})
	}
	return out
}

// SearchAudit returns one page of a tenant's audit entries, newest first.
func (s *AuditService) SearchAudit(ctx context.Context, req *auditv1.SearchAuditRequest) (*auditv1.SearchAuditResponse, error) {
	rows, next, err := s.uc.Search(ctx, biz.Filter{
		TenantCode: req.GetTenantCode(),
		From:       timeOf(req.GetStartTime()), To: timeOf(req.GetEndTime()),
		Actor: req.GetActor(), Operation: req.GetOperation(), Outcome: req.GetOutcome(), Target: req.GetTarget(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &auditv1.SearchAuditResponse{NextPageToken: next, Entries: make([]*auditv1.AuditEntry, 0, len(rows))}
	for i := range rows {
		out.Entries = append(out.Entries, recordToProto(&rows[i]))
	}
	return out, nil
}

// VerifyAudit verifies a tenant's audit chain.
func (s *AuditService) VerifyAudit(ctx context.Context, req *auditv1.VerifyAuditRequest) (*auditv1.AuditReport, error) {
	rep, err := s.uc.Verify(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	return reportToProto(&rep), nil
}
