package federation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

// Data schemas of the messages (cloudevent.SchemaOf of their full names).
var (
	SchemaCaseEventData     = cloudevent.SchemaOf(string((&federationv1.CaseEventData{}).ProtoReflect().Descriptor().FullName()))
	SchemaCaseEvent         = cloudevent.SchemaOf(string((&caseflowv1.CaseEvent{}).ProtoReflect().Descriptor().FullName()))
	SchemaIndicatorSnapshot = cloudevent.SchemaOf(string((&federationv1.IndicatorSnapshot{}).ProtoReflect().Descriptor().FullName()))
	SchemaCommand           = cloudevent.SchemaOf(string((&federationv1.Command{}).ProtoReflect().Descriptor().FullName()))
	SchemaCommandResponse   = cloudevent.SchemaOf(string((&federationv1.CommandResponse{}).ProtoReflect().Descriptor().FullName()))
)

// errData wraps every decoding failure: the event is malformed.
var errData = errors.New("malformed data")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errData, fmt.Sprintf(format, args...))
}

// unmarshal decodes data in the envelope's content type.
func unmarshal(e *cloudevent.Event, m proto.Message) error {
	var err error
	if e.ContentType == cloudevent.ContentTypeJSON {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(e.Data, m)
	} else {
		err = proto.Unmarshal(e.Data, m)
	}
	if err != nil {
		return malformed("%s data does not decode as %s: %v", e.ContentType, m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// decodeCaseEvent reads the data of a case event: CaseEventData (the
// federation's schema), or a bare CaseEvent when the dataschema says so.
// The event must agree with its envelope.
func decodeCaseEvent(e *cloudevent.Event, sender string) (*caseflowv1.CaseEvent, error) {
	var ev *caseflowv1.CaseEvent
	if e.DataSchema == SchemaCaseEvent {
		ev = &caseflowv1.CaseEvent{}
		if err := unmarshal(e, ev); err != nil {
			return nil, err
		}
	} else {
		var d federationv1.CaseEventData
		if err := unmarshal(e, &d); err != nil {
			return nil, err
		}
		if ev = d.GetEvent(); ev == nil {
			return nil, malformed("CaseEventData carries no event")
		}
	}
	switch {
	case ev.GetCaseNumber() == "":
		return nil, malformed("the case event names no case")
	case e.Subject != "" && e.Subject != ev.GetCaseNumber():
		return nil, malformed("subject %q but the event is about case %q", e.Subject, ev.GetCaseNumber())
	case ev.GetTenantCode() != "" && ev.GetTenantCode() != sender:
		return nil, malformed("source is tenant %s but the event is of tenant %s", sender, ev.GetTenantCode())
	case ev.GetEventId() != "" && ev.GetEventId() != e.ID:
		return nil, malformed("id %q but the event says %q", e.ID, ev.GetEventId())
	case ev.GetType() != "" && ev.GetType() != e.Type:
		return nil, malformed("type %q but the event says %q", e.Type, ev.GetType())
	case ev.GetToState() == caseflowv1.CaseState_CASE_STATE_UNSPECIFIED:
		return nil, malformed("the case event has no state")
	case ev.GetVersion() <= 0:
		return nil, malformed("the case event has no version")
	case len(ev.GetCaseNumber()) > 32:
		return nil, malformed("case number %q is too long", ev.GetCaseNumber())
	}
	if e.Sequence > 0 {
		ev.Sequence = e.Sequence
	}
	ev.Opinion = clean(ev.GetOpinion())
	return ev, nil
}

// decodeSnapshot reads an indicator snapshot of sender.
func decodeSnapshot(e *cloudevent.Event, sender string) (*federationv1.IndicatorSnapshot, error) {
	var s federationv1.IndicatorSnapshot
	if err := unmarshal(e, &s); err != nil {
		return nil, err
	}
	if s.GetTenantCode() != "" && s.GetTenantCode() != sender {
		return nil, malformed("source is tenant %s but the snapshot is of tenant %s", sender, s.GetTenantCode())
	}
	if len(s.GetPeriod()) > 16 {
		return nil, malformed("period %q is too long", s.GetPeriod())
	}
	if !storable(s.GetPeriod(), 16) {
		return nil, malformed("period is not text")
	}
	for _, in := range s.GetIndicators() {
		if in.GetName() == "" || !storable(in.GetName(), 64) {
			return nil, malformed("indicator name %q is empty or too long", in.GetName())
		}
	}
	return &s, nil
}

// decodeResponse reads a command response of sender.
func decodeResponse(e *cloudevent.Event, sender string) (*federationv1.CommandResponse, error) {
	var r federationv1.CommandResponse
	if err := unmarshal(e, &r); err != nil {
		return nil, err
	}
	switch {
	case r.GetCommandId() == "" || !storable(r.GetCommandId(), 64):
		return nil, malformed("the response names no command")
	case !storable(r.GetCaseNumber(), 32):
		return nil, malformed("case number %q is too long", r.GetCaseNumber())
	case r.GetResponderCode() != "" && r.GetResponderCode() != sender:
		return nil, malformed("source is tenant %s but the response is of tenant %s", sender, r.GetResponderCode())
	case statusOf(r.GetStatus()) == "":
		return nil, malformed("response status %s", r.GetStatus())
	}
	return &r, nil
}

// decodeCommand reads a command sent by issuer to target.
func decodeCommand(e *cloudevent.Event, issuer, target string) (*federationv1.Command, error) {
	var c federationv1.Command
	if err := unmarshal(e, &c); err != nil {
		return nil, err
	}
	switch {
	case c.GetCommandId() != e.ID:
		return nil, malformed("id %q but the command is %q", e.ID, c.GetCommandId())
	case c.GetIssuerCode() != issuer:
		return nil, malformed("source is tenant %s but the command is issued by %q", issuer, c.GetIssuerCode())
	case c.GetTargetCode() != target:
		return nil, malformed("the command is for tenant %q, not %s", c.GetTargetCode(), target)
	case kindOf(c.GetKind()) == "":
		return nil, malformed("command kind %s", c.GetKind())
	case c.GetKind() != federationv1.CommandKind_COMMAND_KIND_ASSIGN && c.GetCaseNumber() == "":
		return nil, malformed("a %s command names no case", c.GetKind())
	case c.GetKind() == federationv1.CommandKind_COMMAND_KIND_ASSIGN && c.GetAssigned() == nil:
		return nil, malformed("an assign command carries no case")
	case len(c.GetCaseNumber()) > 32:
		return nil, malformed("case number %q is too long", c.GetCaseNumber())
	}
	if a := c.GetAssigned(); a != nil {
		switch {
		case len(a.GetClassCode()) > 16 || len(a.GetAddress()) > 256 || len(a.GetDescription()) > 8000:
			return nil, malformed("a field of the assigned case is too long")
		case a.GetUrgency() != "" && a.GetUrgency() != caseflow.UrgencyNormal && a.GetUrgency() != caseflow.UrgencyUrgent:
			return nil, malformed("urgency %q", a.GetUrgency())
		}
	}
	return &c, nil
}

// enumName lower-cases an enum value's name without its prefix:
// CASE_STATE_FILED → filed; "" for the zero value.
func enumName(full, prefix string) string {
	s, ok := strings.CutPrefix(full, prefix)
	if !ok || s == "UNSPECIFIED" {
		return ""
	}
	return strings.ToLower(s)
}

// childCaseOf is the federated state of a case after ev.
func childCaseOf(tenantID int, sender string, e *cloudevent.Event, ev *caseflowv1.CaseEvent, data []byte) *ChildCase {
	at := e.Time
	if ev.GetOccurredAt() != nil {
		at = ev.GetOccurredAt().AsTime()
	}
	at = at.UTC().Truncate(time.Microsecond)
	c := &ChildCase{
		TenantID: tenantID, SourceCode: sender, Number: ev.GetCaseNumber(),
		State:     caseflow.State(enumName(ev.GetToState().String(), "CASE_STATE_")),
		Source:    caseflow.Source(enumName(ev.GetSource().String(), "CASE_SOURCE_")),
		Kind:      caseflow.Kind(enumName(ev.GetClass().GetKind().String(), "CASE_KIND_")),
		ClassCode: ev.GetClass().GetClassCode(), NationalClassCode: ev.GetClass().GetNationalClassCode(),
		Lon: ev.GetLocation().GetLon(), Lat: ev.GetLocation().GetLat(), Address: ev.GetLocation().GetAddress(),
		GridCode: ev.GetLocation().GetGridCode(), StreetCode: ev.GetLocation().GetStreetCode(),
		DistrictCode: ev.GetLocation().GetDistrictCode(), AreaClass: ev.GetLocation().GetAreaClass(),
		Urgency: ev.GetUrgency(), PrimaryDepartmentCode: ev.GetPrimaryDepartmentCode(),
		Overdue: ev.GetFlags().GetOverdue(), Supervised: ev.GetFlags().GetSupervised(),
		ReportedAt: &at, Version: ev.GetVersion(), LastSeq: e.Sequence, LastEventAt: e.Time.UTC().Truncate(time.Microsecond),
		Data: data,
	}
	if d := ev.GetDeadlines().GetDispose(); d != nil {
		t := d.AsTime().UTC().Truncate(time.Microsecond)
		c.DisposeDeadline = &t
	}
	if c.State == caseflow.StateClosed {
		c.ClosedAt = &at
	}
	return c
}

// checkChildCase refuses a case state the store could not hold (the
// column limits of federated_cases): a signed but oversized event is
// malformed, not a reason to stall the feed.
func checkChildCase(c *ChildCase) error {
	for _, f := range []struct {
		name, v string
		n       int
	}{
		{"number", c.Number, 32}, {"state", string(c.State), 32}, {"source", string(c.Source), 32},
		{"kind", string(c.Kind), 16}, {"class_code", c.ClassCode, 16}, {"national_class_code", c.NationalClassCode, 16},
		{"address", c.Address, 256}, {"grid_code", c.GridCode, 15}, {"street_code", c.StreetCode, 9},
		{"district_code", c.DistrictCode, 6}, {"area_class", c.AreaClass, 16}, {"urgency", c.Urgency, 16},
		{"primary_department_code", c.PrimaryDepartmentCode, 64},
	} {
		if !storable(f.v, f.n) {
			return malformed("%s is longer than %d bytes or not text", f.name, f.n)
		}
	}
	return nil
}

func statusOf(s federationv1.CommandStatus) CommandStatus {
	switch s {
	case federationv1.CommandStatus_COMMAND_STATUS_RECEIVED:
		return StatusReceived
	case federationv1.CommandStatus_COMMAND_STATUS_ANSWERED:
		return StatusAnswered
	case federationv1.CommandStatus_COMMAND_STATUS_REJECTED:
		return StatusRejected
	}
	return ""
}

func protoStatus(s CommandStatus) federationv1.CommandStatus {
	switch s {
	case StatusReceived:
		return federationv1.CommandStatus_COMMAND_STATUS_RECEIVED
	case StatusAnswered:
		return federationv1.CommandStatus_COMMAND_STATUS_ANSWERED
	case StatusRejected:
		return federationv1.CommandStatus_COMMAND_STATUS_REJECTED
	}
	return federationv1.CommandStatus_COMMAND_STATUS_UNSPECIFIED
}

func kindOf(k federationv1.CommandKind) CommandKind {
	switch k {
	case federationv1.CommandKind_COMMAND_KIND_SUPERVISE:
		return KindSupervise
	case federationv1.CommandKind_COMMAND_KIND_ASSIGN:
		return KindAssign
	case federationv1.CommandKind_COMMAND_KIND_FEEDBACK_REQUEST:
		return KindFeedbackRequest
	}
	return ""
}

// ProtoKind maps a command kind to the API enum.
func ProtoKind(k CommandKind) federationv1.CommandKind {
	switch k {
	case KindSupervise:
		return federationv1.CommandKind_COMMAND_KIND_SUPERVISE
	case KindAssign:
		return federationv1.CommandKind_COMMAND_KIND_ASSIGN
	case KindFeedbackRequest:
		return federationv1.CommandKind_COMMAND_KIND_FEEDBACK_REQUEST
	}
	return federationv1.CommandKind_COMMAND_KIND_UNSPECIFIED
}

// KindOf maps the API enum to a command kind ("" for UNSPECIFIED).
func KindOf(k federationv1.CommandKind) CommandKind { return kindOf(k) }
