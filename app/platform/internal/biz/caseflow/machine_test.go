package caseflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// wantTable is the transition table as a reviewer reads it; a change to
// Rules() must change it too.
var wantTable = []string{
	"draft --submit--> reported [supervisor]",
	"reported --request_verify--> verify_pending [intake shift_leader]",
	"verify_pending --verify--> reported [supervisor]",
	"reported --reject--> rejected [intake shift_leader]",
	"verify_pending --reject--> rejected [intake shift_leader]",
	"reported --merge--> merged [intake shift_leader]",
	"verify_pending --merge--> merged [intake shift_leader]",
	"reported --file--> filed [shift_leader]",
	"reported --self_handle--> self_handled [supervisor]",
	"self_handled --approve_self_handle--> closed [shift_leader]",
	"self_handled --file--> filed [shift_leader]",
	"filed --request_void--> void_pending [intake dispatcher]",
	"void_pending --approve_void--> voided [shift_leader]",
	"void_pending --deny_void--> filed [shift_leader]",
	"filed --dispatch--> dispatched [dispatcher]",
	"dispatched --accept--> in_disposal [handler@dept]",
	"in_disposal --request_return--> return_pending [handler@dept]",
	"return_pending --approve_return--> filed [dispatcher]",
	"return_pending --deny_return--> in_disposal [dispatcher]",
	"in_disposal --request_delay--> delay_pending [handler@dept]",
	"delay_pending --approve_delay--> in_disposal [dispatcher]",
	"delay_pending --deny_delay--> in_disposal [dispatcher]",
	"in_disposal --request_hang--> hang_pending [handler@dept]",
	"hang_pending --approve_hang--> hung [dispatcher]",
	"hang_pending --deny_hang--> in_disposal [dispatcher]",
	"hung --resume--> in_disposal [dispatcher]",
	"in_disposal --feedback--> feedback [handler@dept]",
	"feedback --assign_check--> check_pending [intake]",
	"check_pending --check_pass--> close_pending [supervisor]",
	"check_pending --check_fail--> in_disposal [supervisor]",
	"close_pending --close--> closed [shift_leader]",
	"closed --reopen--> in_disposal [intake]",
}

func TestRulesAreTheSpecification(t *testing.T) {
	t.Parallel()
	var got []string
	for _, r := range Rules() {
		p := strings.Join(r.Posts, " ")
		if r.DepartmentBound {
			p += "@dept"
		}
		got = append(got, fmt.Sprintf("%s --%s--> %s [%s]", r.From, r.Op, r.To, p))
	}
	if diff := cmp.Diff(wantTable, got); diff != "" {
		t.Errorf("transition table (-want +got):\n%s", diff)
	}
	// Every state and operation of the API appears in the machine.
	seenOps, seenStates := map[Operation]bool{}, map[State]bool{}
	for _, r := range Rules() {
		seenOps[r.Op], seenStates[r.From], seenStates[r.To] = true, true, true
	}
	for _, op := range AllOperations() {
		if !seenOps[op] && !IsMark(op) {
			t.Errorf("operation %s has no rule", op)
		}
		if ProtoOperation(op) == caseflowv1.CaseOperation_CASE_OPERATION_UNSPECIFIED {
			t.Errorf("operation %s has no proto value", op)
		}
	}
	for _, s := range AllStates() {
		if !seenStates[s] {
			t.Errorf("state %s is unreachable and final", s)
		}
		if ProtoState(s) == caseflowv1.CaseState_CASE_STATE_UNSPECIFIED {
			t.Errorf("state %s has no proto value", s)
		}
	}
	if len(AllStates()) != len(caseflowv1.CaseState_name)-1 || len(AllOperations()) != len(caseflowv1.CaseOperation_name)-1 {
		t.Errorf("Go and proto enums differ in size")
	}
}

// TestDecideEveryPair checks every (state, operation) pair for every role:
// a pair without a rule is INVALID_TRANSITION naming the state and what it
// allows; a pair with a rule is allowed for its posts only.
func TestDecideEveryPair(t *testing.T) {
	t.Parallel()
	m := NewMachine(Rules())
	for _, s := range AllStates() {
		for _, op := range AllOperations() {
			t.Run(string(s)+"/"+string(op), func(t *testing.T) {
				t.Parallel()
				rule, exists := m.Rule(s, op)
				for _, role := range viewer.AllRoles {
					_, post, err := m.Decide(s, op, []string{role})
					switch {
					case !exists:
						if !caseflowv1.IsInvalidTransition(err) {
							t.Fatalf("%s: got %v, want INVALID_TRANSITION", role, err)
						}
						md := fromKratos(err)
						if md["state"] != string(s) || md["operation"] != string(op) || md["allowed"] != joinOps(m.Operations(s)) {
							t.Errorf("metadata %v", md)
						}
					case slices.Contains(rule.Posts, role):
						if err != nil || post != role {
							t.Errorf("%s: got %q %v, want allowed", role, post, err)
						}
					default:
						if !caseflowv1.IsPostNotAllowed(err) {
							t.Errorf("%s: got %v, want POST_NOT_ALLOWED", role, err)
						}
					}
				}
			})
		}
	}
}

func joinOps(ops []Operation) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ",")
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state State
		roles []string
		want  []Operation
	}{
		{StateReported, []string{viewer.RoleShiftLeader}, []Operation{OpRequestVerify, OpReject, OpMerge, OpFile}},
		{StateReported, []string{viewer.RoleSupervisor}, []Operation{OpSelfHandle}},
		{StateInDisposal, []string{viewer.RoleHandler}, []Operation{OpRequestReturn, OpRequestDelay, OpRequestHang, OpFeedback}},
		{StateInDisposal, []string{viewer.RoleDispatcher}, nil},
		{StateClosed, []string{viewer.RoleIntake, viewer.RoleSupervisor}, []Operation{OpReopen}},
		{StateVoided, viewer.AllRoles, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Allowed(tt.state, tt.roles)); diff != "" {
			t.Errorf("Allowed(%s, %v) (-want +got):\n%s", tt.state, tt.roles, diff)
		}
	}
}

func TestGuards(t *testing.T) {
	t.Parallel()
	c := &Case{Number: "2026112200001", Source: SourceCitizen}
	tests := []struct {
		name  string
		guard Guard
		in    Input
		field string // "" = passes
	}{
		{"opinion missing", needOpinion, Input{Opinion: "  "}, "opinion"},
		{"opinion given", needOpinion, Input{Opinion: "不属实"}, ""},
		{"dispatch without department", needDepartment, Input{}, "department"},
		{"dispatch co = primary", needDepartment, Input{Department: "a", CoDepartments: []string{"a"}}, "co_departments"},
		{"dispatch", needDepartment, Input{Department: "a", CoDepartments: []string{"b"}}, ""},
		{"delay without duration", needDuration, Input{}, "duration"},
		{"delay", needDuration, Input{Duration: time.Hour}, ""},
		{"feedback needs evidence", needEvidence, Input{RequireAttachment: true}, "attachments"},
		{"feedback with evidence", needEvidence, Input{RequireAttachment: true, Attachments: []string{"p1"}}, ""},
		{"feedback, class needs none", needEvidence, Input{}, ""},
		{"merge into nothing", needMaster, Input{}, "merge_into"},
		{"merge into itself", needMaster, Input{MergeInto: c.Number}, "merge_into"},
		{"self-handle a citizen report", selfHandleable, Input{}, "source"},
		{"reopen a never-dispatched case", reopenable, Input{Opinion: "不满意"}, "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.guard(c, &tt.in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want pass", err)
				}
				return
			}
			if !errorsv1.IsInvalidArgument(err) || fromKratos(err)["field"] != tt.field {
				t.Fatalf("got %v, want INVALID_ARGUMENT on %s", err, tt.field)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"13812345678": "138****5678", "+8613812345678": "+86*******5678", "12345": "***45", "7": "7", "": "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNaturalDeadlines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	tests := []struct {
		d       NaturalDeadlines
		stage   Stage
		urgency string
		want    time.Duration
	}{
		{NaturalDeadlines{}, StageDispatch, UrgencyNormal, 30 * time.Minute},
		{NaturalDeadlines{}, StageDispatch, UrgencyUrgent, 10 * time.Minute},
		{NaturalDeadlines{}, StageDispose, UrgencyNormal, 24 * time.Hour},
		{NaturalDeadlines{Limits: map[Stage]time.Duration{StageDispose: 4 * time.Hour}}, StageDispose, UrgencyNormal, 4 * time.Hour},
		{NaturalDeadlines{Limits: map[Stage]time.Duration{StageDispose: 4 * time.Hour}}, StageCheck, UrgencyNormal, time.Hour},
	}
	for _, tt := range tests {
		got, err := tt.d.Due(ctx, DeadlineRequest{Stage: tt.stage, Urgency: tt.urgency, From: t0})
		if err != nil || got.Sub(t0) != tt.want {
			t.Errorf("Due(%s, %s) = %v, %v; want +%v", tt.stage, tt.urgency, got, err, tt.want)
		}
	}
	if got, _ := (NaturalDeadlines{}).Extend(ctx, "450126", t0, 2*time.Hour); !got.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("Extend = %v", got)
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	for _, reason := range []string{"INVALID_TRANSITION", "CASE_NOT_FOUND", "CASE_CONFLICT", "POST_NOT_ALLOWED"} {
		for _, lang := range []string{"zh-CN", "en"} {
			if msg, ok := caseflowv1.ErrorReasonMessage(reason, lang); !ok || msg == "" {
				t.Errorf("%s has no %s message", reason, lang)
			}
		}
	}
}
