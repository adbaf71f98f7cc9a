package service

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	fedbiz "github.com/cityops/cityops/app/platform/internal/biz/federation"
)

// OversightService serves cityops.federation.v1.OversightService over HTTP
// and gRPC.
type OversightService struct {
	federationv1.UnimplementedOversightServiceServer
	uc *fedbiz.Oversight
}

// NewOversightService returns the oversight API over its use cases.
func NewOversightService(uc *fedbiz.Oversight) *OversightService { return &OversightService{uc: uc} }

var (
	_ federationv1.OversightServiceServer     = (*OversightService)(nil)
	_ federationv1.OversightServiceHTTPServer = (*OversightService)(nil)
)

var (
	commandStateToProto = map[fedbiz.CommandStatus]federationv1.CommandState{
		fedbiz.StatusSent:     federationv1.CommandState_COMMAND_STATE_SENT,
		fedbiz.StatusReceived: federationv1.CommandState_COMMAND_STATE_RECEIVED,
		fedbiz.StatusAnswered: federationv1.CommandState_COMMAND_STATE_ANSWERED,
		fedbiz.StatusRejected: federationv1.CommandState_COMMAND_STATE_REJECTED,
		fedbiz.StatusOverdue:  federationv1.CommandState_COMMAND_STATE_OVERDUE,
	}
)

func commandStateFromProto(s federationv1.CommandState) fedbiz.CommandStatus {
	for k, v := range commandStateToProto {
		if v == s {
			return k
		}
	}
	return ""
}

func enumValue(values map[string]int32, prefix, name string) int32 {
	if name == "" {
		return 0
	}
	return values[prefix+strings.ToUpper(name)]
}

func enumLower(full, prefix string) string {
	s, _ := strings.CutPrefix(full, prefix)
	if s == "UNSPECIFIED" {
		return ""
	}
	return strings.ToLower(s)
}

func childCaseToProto(c *fedbiz.ChildCase) *federationv1.ChildCase {
	return &federationv1.ChildCase{
		SourceCode: c.SourceCode, Number: c.Number,
		State:     caseflowv1.CaseState(enumValue(caseflowv1.CaseState_value, "CASE_STATE_", string(c.State))),
		Source:    caseflowv1.CaseSource(enumValue(caseflowv1.CaseSource_value, "CASE_SOURCE_", string(c.Source))),
		Kind:      caseflowv1.CaseKind(enumValue(caseflowv1.CaseKind_value, "CASE_KIND_", string(c.Kind))),
		ClassCode: c.ClassCode, NationalClassCode: c.NationalClassCode, Description: c.Description,
		Lon: c.Lon, Lat: c.Lat, Address: c.Address, GridCode: c.GridCode, StreetCode: c.StreetCode,
		DistrictCode: c.DistrictCode, AreaClass: c.AreaClass, Urgency: c.Urgency,
		PrimaryDepartmentCode: c.PrimaryDepartmentCode, Overdue: c.Overdue, Supervised: c.Supervised,
		ReportTime: timeOrNil(c.ReportedAt), DisposeDeadline: timeOrNil(c.DisposeDeadline), CloseTime: timeOrNil(c.ClosedAt),
		Version: c.Version, LastSeq: c.LastSeq, LastEventTime: timestamppb.New(c.LastEventAt),
	}
}

func commandToProto(c *fedbiz.Command, own string) *federationv1.OversightCommand {
	dir := federationv1.CommandDirection_COMMAND_DIRECTION_ISSUED
	if c.Received(own) {
		dir = federationv1.CommandDirection_COMMAND_DIRECTION_RECEIVED
	}
	return &federationv1.OversightCommand{
		CommandId: c.CommandID, Direction: dir, IssuerCode: c.IssuerCode, TargetCode: c.TargetCode,
		Kind: fedbiz.ProtoKind(c.Kind), CaseNumber: c.CaseNumber, Reason: c.Reason, Deadline: timeOrNil(c.Deadline),
		Assigned: c.Assigned(), State: commandStateToProto[c.Status], Response: c.Response, IssuedBy: c.CreatedBy,
		IssueTime: timestamppb.New(c.CreatedAt), PublishTime: publishTime(c, own), ReceiveTime: timeOrNil(c.ReceivedAt),
		AnswerTime: timeOrNil(c.AnsweredAt),
	}
}

// publishTime is the broker's acknowledgement of an issued command; a
// received command's row keeps its receipt there, which is no publishing.
func publishTime(c *fedbiz.Command, own string) *timestamppb.Timestamp {
	if c.Received(own) {
		return nil
	}
	return timeOrNil(c.PublishedAt)
}

func childFilterFromProto(f *federationv1.ChildCaseFilter) fedbiz.CaseQuery {
	q := fedbiz.CaseQuery{
		Number: f.GetNumber(), ClassCode: f.GetClassCode(), Kind: caseflow.Kind(enumLower(f.GetKind().String(), "CASE_KIND_")),
		GridCode: f.GetGridCode(), StreetCode: f.GetStreetCode(), DistrictCode: f.GetDistrictCode(),
		Source:  caseflow.Source(enumLower(f.GetSource().String(), "CASE_SOURCE_")),
		Urgency: f.GetUrgency(), OverdueOnly: f.GetOverdueOnly(), SupervisedOnly: f.GetSupervisedOnly(), OpenOnly: f.GetOpenOnly(),
	}
	for _, st := range f.GetStates() {
		q.States = append(q.States, caseflow.State(enumLower(st.String(), "CASE_STATE_")))
	}
	if f.GetReportedFrom() != nil {
		t := f.GetReportedFrom().AsTime()
		q.ReportedFrom = &t
	}
	if f.GetReportedTo() != nil {
		t := f.GetReportedTo().AsTime()
		q.ReportedTo = &t
	}
	return q
}

// ListChildCases searches the descendants' cases.
func (s *OversightService) ListChildCases(ctx context.Context, req *federationv1.ListChildCasesRequest) (*federationv1.ListChildCasesResponse, error) {
	p, err := s.uc.ListChildCases(ctx, fedbiz.CaseSearch{
		TenantCode: req.GetTenantCode(), SourceCode: req.GetFilter().GetSourceCode(), Query: childFilterFromProto(req.GetFilter()),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &federationv1.ListChildCasesResponse{NextPageToken: p.Next, Cases: make([]*federationv1.ChildCase, len(p.Cases))}
	for i, c := range p.Cases {
		out.Cases[i] = childCaseToProto(c)
	}
	return out, nil
}

// GetChildCase returns a child case with its timeline.
func (s *OversightService) GetChildCase(ctx context.Context, req *federationv1.GetChildCaseRequest) (*federationv1.ChildCaseView, error) {
	v, err := s.uc.GetChildCase(ctx, req.GetTenantCode(), req.GetSourceCode(), req.GetNumber())
	if err != nil {
		return nil, err
	}
	out := &federationv1.ChildCaseView{Case: childCaseToProto(v.Case)}
	for _, st := range v.Timeline {
		p := &federationv1.ChildCaseStep{EventId: st.EventID, Type: st.Type, Seq: st.Seq, Time: timestamppb.New(st.Time)}
		if e := st.Case; e != nil {
			p.Operation, p.FromState, p.ToState = e.GetOperation(), e.GetFromState(), e.GetToState()
			p.Actor, p.ActorName, p.Post, p.Opinion, p.Attachments = e.GetActor(), e.GetActorName(), e.GetPost(), e.GetOpinion(), e.GetAttachments()
		}
		if r := st.Response; r != nil {
			p.CommandId, p.CommandStatus, p.Response = r.GetCommandId(), r.GetStatus(), r.GetResponse()
		}
		out.Timeline = append(out.Timeline, p)
	}
	for _, c := range v.Commands {
		out.Commands = append(out.Commands, commandToProto(c, ""))
	}
	return out, nil
}

// ListChildIndicators returns the descendants' indicators side by side.
func (s *OversightService) ListChildIndicators(ctx context.Context, req *federationv1.ListChildIndicatorsRequest) (*federationv1.ListChildIndicatorsResponse, error) {
	rows, err := s.uc.ListChildIndicators(ctx, req.GetTenantCode(), req.GetPeriod(), req.GetSourceCode())
	if err != nil {
		return nil, err
	}
	out := &federationv1.ListChildIndicatorsResponse{}
	for _, r := range rows {
		ci := &federationv1.ChildIndicators{
			TenantCode: r.Tenant.Code, NameZh: r.Tenant.NameZH, Level: string(r.Tenant.Level), ParentCode: r.Tenant.ParentCode,
		}
		for _, in := range r.Indicators {
			ci.Indicators = append(ci.Indicators, &federationv1.ChildIndicator{
				Name: in.Name, Value: in.Value, Period: in.Period, Time: timestamppb.New(in.At),
			})
		}
		out.Children = append(out.Children, ci)
	}
	return out, nil
}

// GetFeedHealth reports the feeds' health.
func (s *OversightService) GetFeedHealth(ctx context.Context, req *federationv1.GetFeedHealthRequest) (*federationv1.FeedHealth, error) {
	h, err := s.uc.GetFeedHealth(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	out := &federationv1.FeedHealth{Time: timestamppb.New(h.At)}
	for _, c := range h.Children {
		lag := int64(-1)
		if c.Lag >= 0 {
			lag = int64(c.Lag / time.Second)
		}
		out.Children = append(out.Children, &federationv1.ChildFeed{
			TenantCode: c.Tenant.Code, NameZh: c.Tenant.NameZH, ParentCode: c.Tenant.ParentCode,
			LastEventTime: timeOrNil(c.LastEventAt), LastReceiveTime: timeOrNil(c.LastReceivedAt), LagSeconds: lag,
			LastSeq: c.LastSeq, DeadLetters: c.DeadLetters,
		})
	}
	for _, c := range h.Connectors {
		out.Connectors = append(out.Connectors, &federationv1.FeedConnector{
			Name: c.Name, Direction: c.Direction, Enabled: c.Enabled, LastEventTime: timeOrNil(c.LastEventAt),
			LastSuccessTime: timeOrNil(c.LastSuccessAt), LastError: c.LastError, Failures: int32(c.Failures),
		})
	}
	return out, nil
}

// IssueCommand sends a command down.
func (s *OversightService) IssueCommand(ctx context.Context, req *federationv1.IssueCommandRequest) (*federationv1.OversightCommand, error) {
	in := fedbiz.IssueInput{
		TargetCode: req.GetTenantCode(), Kind: fedbiz.KindOf(req.GetKind()), CaseNumber: req.GetCaseNumber(),
		Reason: req.GetReason(), Assigned: req.GetAssigned(),
	}
	if req.GetDeadline() != nil {
		t := req.GetDeadline().AsTime()
		in.Deadline = &t
	}
	c, err := s.uc.IssueCommand(ctx, in)
	if err != nil {
		return nil, err
	}
	return commandToProto(c, ""), nil
}

// ListCommands lists issued or received commands.
func (s *OversightService) ListCommands(ctx context.Context, req *federationv1.ListCommandsRequest) (*federationv1.ListCommandsResponse, error) {
	received := req.GetDirection() == federationv1.CommandDirection_COMMAND_DIRECTION_RECEIVED
	rows, next, err := s.uc.ListCommands(ctx, fedbiz.ListCommandsInput{
		TenantCode: req.GetTenantCode(), Received: received, Status: commandStateFromProto(req.GetState()),
		CaseNumber: req.GetCaseNumber(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	own := ""
	if received {
		own = req.GetTenantCode()
	}
	out := &federationv1.ListCommandsResponse{NextPageToken: next}
	for _, c := range rows {
		out.Commands = append(out.Commands, commandToProto(c, own))
	}
	return out, nil
}

// AnswerCommand answers a received command.
func (s *OversightService) AnswerCommand(ctx context.Context, req *federationv1.AnswerCommandRequest) (*federationv1.OversightCommand, error) {
	c, err := s.uc.AnswerCommand(ctx, req.GetTenantCode(), req.GetCommandId(), req.GetResponse(), req.GetReject())
	if err != nil {
		return nil, err
	}
	return commandToProto(c, req.GetTenantCode()), nil
}
