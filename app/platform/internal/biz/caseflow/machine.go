package caseflow

import (
	"slices"
	"strconv"
	"strings"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// Guard is a precondition of a transition beyond state and post: what the
// input must carry. It returns an INVALID_ARGUMENT error naming the field.
type Guard func(c *Case, in *Input) error

// Rule is one row of the state machine: operation Op takes a case from
// state From to state To, done by one of Posts (roles, in order of
// preference), when Guard passes. DepartmentBound rules are done by a
// handler of one of the case's departments (主办 or 协办).
type Rule struct {
	From            State
	Op              Operation
	To              State
	Posts           []string
	DepartmentBound bool
	Guard           Guard
}

func posts(p ...string) []string { return p }

// Rules returns the state machine (DOMAIN §4.2, §4.4), a fresh copy on
// every call so no caller can change another's. Read it as the
// specification: one line per (state, operation).
func Rules() []Rule {
	const (
		supervisor  = viewer.RoleSupervisor  // 监督员
		intake      = viewer.RoleIntake      // 受理员
		shiftLeader = viewer.RoleShiftLeader // 值班长
		dispatcher  = viewer.RoleDispatcher  // 派遣员
		handler     = viewer.RoleHandler     // 处置人员
	)
	return []Rule{
		{From: StateDraft, Op: OpSubmit, To: StateReported, Posts: posts(supervisor)},

		{From: StateReported, Op: OpRequestVerify, To: StateVerifyPending, Posts: posts(intake, shiftLeader)},
		{From: StateVerifyPending, Op: OpVerify, To: StateReported, Posts: posts(supervisor)},

		{From: StateReported, Op: OpReject, To: StateRejected, Posts: posts(intake, shiftLeader), Guard: needOpinion},
		{From: StateVerifyPending, Op: OpReject, To: StateRejected, Posts: posts(intake, shiftLeader), Guard: needOpinion},
		{From: StateReported, Op: OpMerge, To: StateMerged, Posts: posts(intake, shiftLeader), Guard: needMaster},
		{From: StateVerifyPending, Op: OpMerge, To: StateMerged, Posts: posts(intake, shiftLeader), Guard: needMaster},

		{From: StateReported, Op: OpFile, To: StateFiled, Posts: posts(shiftLeader)},
		{From: StateReported, Op: OpSelfHandle, To: StateSelfHandled, Posts: posts(supervisor), Guard: selfHandleable},
		{From: StateSelfHandled, Op: OpApproveSelfHandle, To: StateClosed, Posts: posts(shiftLeader)},
		// A self-handling the shift leader does not accept becomes an
		// ordinary filed case.
		{From: StateSelfHandled, Op: OpFile, To: StateFiled, Posts: posts(shiftLeader)},

		{From: StateFiled, Op: OpRequestVoid, To: StateVoidPending, Posts: posts(intake, dispatcher), Guard: needOpinion},
		{From: StateVoidPending, Op: OpApproveVoid, To: StateVoided, Posts: posts(shiftLeader)},
		{From: StateVoidPending, Op: OpDenyVoid, To: StateFiled, Posts: posts(shiftLeader), Guard: needOpinion},

		{From: StateFiled, Op: OpDispatch, To: StateDispatched, Posts: posts(dispatcher), Guard: needDepartment},
		{From: StateDispatched, Op: OpAccept, To: StateInDisposal, Posts: posts(handler), DepartmentBound: true},

		{From: StateInDisposal, Op: OpRequestReturn, To: StateReturnPending, Posts: posts(handler), DepartmentBound: true, Guard: needOpinion},
		{From: StateReturnPending, Op: OpApproveReturn, To: StateFiled, Posts: posts(dispatcher)},
		{From: StateReturnPending, Op: OpDenyReturn, To: StateInDisposal, Posts: posts(dispatcher), Guard: needOpinion},

		{From: StateInDisposal, Op: OpRequestDelay, To: StateDelayPending, Posts: posts(handler), DepartmentBound: true, Guard: needOpinion},
		{From: StateDelayPending, Op: OpApproveDelay, To: StateInDisposal, Posts: posts(dispatcher), Guard: needDuration},
		{From: StateDelayPending, Op: OpDenyDelay, To: StateInDisposal, Posts: posts(dispatcher), Guard: needOpinion},

		{From: StateInDisposal, Op: OpRequestHang, To: StateHangPending, Posts: posts(handler), DepartmentBound: true, Guard: needOpinion},
		{From: StateHangPending, Op: OpApproveHang, To: StateHung, Posts: posts(dispatcher)},
		{From: StateHangPending, Op: OpDenyHang, To: StateInDisposal, Posts: posts(dispatcher), Guard: needOpinion},
		{From: StateHung, Op: OpResume, To: StateInDisposal, Posts: posts(dispatcher)},

		{From: StateInDisposal, Op: OpFeedback, To: StateFeedback, Posts: posts(handler), DepartmentBound: true, Guard: needEvidence},
		{From: StateFeedback, Op: OpAssignCheck, To: StateCheckPending, Posts: posts(intake)},
		{From: StateCheckPending, Op: OpCheckPass, To: StateClosePending, Posts: posts(supervisor)},
		{From: StateCheckPending, Op: OpCheckFail, To: StateInDisposal, Posts: posts(supervisor), Guard: needOpinion},
		{From: StateClosePending, Op: OpClose, To: StateClosed, Posts: posts(shiftLeader)},
		// 回访不满意: the hotline's callback found the citizen unsatisfied.
		{From: StateClosed, Op: OpReopen, To: StateInDisposal, Posts: posts(intake), Guard: reopenable},
	}
}

// Machine is the state machine indexed for look-ups.
type Machine struct {
	rules map[ruleKey]Rule
	from  map[State][]Operation
}

type ruleKey struct {
	from State
	op   Operation
}

// NewMachine indexes rules (normally Rules()).
func NewMachine(rules []Rule) *Machine {
	m := &Machine{rules: make(map[ruleKey]Rule, len(rules)), from: map[State][]Operation{}}
	for _, r := range rules {
		m.rules[ruleKey{r.From, r.Op}] = r
		m.from[r.From] = append(m.from[r.From], r.Op)
	}
	return m
}

// Rule returns the rule of (from, op), if the machine has one.
func (m *Machine) Rule(from State, op Operation) (Rule, bool) {
	r, ok := m.rules[ruleKey{from, op}]
	return r, ok
}

// Operations returns the operations the state accepts from anyone.
func (m *Machine) Operations(from State) []Operation { return slices.Clone(m.from[from]) }

// Allowed returns the operations a holder of roles may do on a case in
// state (a handler's department is checked against the case itself).
func (m *Machine) Allowed(state State, roles []string) []Operation {
	var ops []Operation
	for _, op := range m.from[state] {
		r := m.rules[ruleKey{state, op}]
		if slices.ContainsFunc(r.Posts, func(p string) bool { return slices.Contains(roles, p) }) {
			ops = append(ops, op)
		}
	}
	return ops
}

// Allowed returns the operations a holder of roles may do on a case in
// state, by the default machine.
func Allowed(state State, roles []string) []Operation {
	return NewMachine(Rules()).Allowed(state, roles)
}

// Decide checks an operation against the machine: INVALID_TRANSITION when
// the state does not accept op, POST_NOT_ALLOWED when roles hold none of
// its posts. It returns the rule and the post acted in.
func (m *Machine) Decide(state State, op Operation, roles []string) (Rule, string, error) {
	r, ok := m.Rule(state, op)
	if !ok {
		return Rule{}, "", InvalidTransition(state, op, m.Operations(state))
	}
	for _, p := range r.Posts {
		if slices.Contains(roles, p) {
			return r, p, nil
		}
	}
	return Rule{}, "", PostNotAllowed(op, r.Posts)
}

// InvalidTransition is the error of an operation the state does not accept.
func InvalidTransition(state State, op Operation, allowed []Operation) error {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	list := strings.Join(names, ",")
	return caseflowv1.ErrorInvalidTransition("case is %s: %s does not apply (allowed: %s)", state, op, list).
		WithMetadata(map[string]string{"state": string(state), "operation": string(op), "allowed": list})
}

// PostNotAllowed is the error of an operation done in the wrong post.
func PostNotAllowed(op Operation, posts []string) error {
	list := strings.Join(posts, ",")
	return caseflowv1.ErrorPostNotAllowed("%s needs one of the posts %s", op, list).
		WithMetadata(map[string]string{"operation": string(op), "roles": list})
}

// CaseNotFound is the error of a case number the tenant does not have.
func CaseNotFound(number string) error {
	return caseflowv1.ErrorCaseNotFound("case %s does not exist", number).
		WithMetadata(map[string]string{"number": number})
}

// CaseConflict is the error of a lost optimistic version: actual is -1
// when a concurrent writer won between read and write.
func CaseConflict(number string, expected, actual int64) error {
	a := ""
	if actual >= 0 {
		a = itoa(actual)
	}
	return caseflowv1.ErrorCaseConflict("case %s changed (expected version %d, found %s); reload", number, expected, a).
		WithMetadata(map[string]string{"number": number, "expected": itoa(expected), "actual": a})
}

// invalid builds INVALID_ARGUMENT about one field with a bilingual detail.
func invalid(field, zh, en string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// Guards. Each says why the operation needs what it checks.

// needOpinion: refusals, requests and approvals that turn a case back are
// reviewed and appealed; a reason must be on record.
func needOpinion(_ *Case, in *Input) error {
	if strings.TrimSpace(in.Opinion) == "" {
		return invalid("opinion", "此操作须填写意见", "this operation needs an opinion")
	}
	return nil
}

func needMaster(c *Case, in *Input) error {
	switch {
	case in.MergeInto == "":
		return invalid("merge_into", "合并须指明主案件编号", "merging needs the number of the master case")
	case in.MergeInto == c.Number:
		return invalid("merge_into", "不能合并到自身", "a case cannot be merged into itself")
	}
	return nil
}

func needDepartment(_ *Case, in *Input) error {
	if strings.TrimSpace(in.Department) == "" {
		return invalid("department", "派遣须指定主办单位", "dispatching needs a primary department")
	}
	if slices.Contains(in.CoDepartments, in.Department) {
		return invalid("co_departments", "协办单位不能与主办单位相同", "a co-handling department cannot be the primary one")
	}
	return nil
}

func needDuration(_ *Case, in *Input) error {
	if in.Duration <= 0 {
		return invalid("duration", "批准延期须给出延期时长", "approving a delay needs the granted duration")
	}
	return nil
}

// needEvidence: classes whose closing condition asks for after-photos
// (处置后照片) cannot be fed back without them. Until the taxonomy carries
// that flag, the caller says so per call.
func needEvidence(_ *Case, in *Input) error {
	if in.RequireAttachment && len(in.Attachments) == 0 {
		return invalid("attachments", "该类案件反馈须上传处置后照片", "feedback on this class needs at least one attachment")
	}
	return nil
}

// selfHandleable: only a supervisor's own find can be solved on the spot
// (自处理); a citizen's report must go through the departments.
func selfHandleable(c *Case, _ *Input) error {
	if c.Source != SourceSupervisor {
		return invalid("source", "仅监督员采集的案件可自处理", "only cases a supervisor reported can be self-handled")
	}
	return nil
}

// reopenable: the callback's dissatisfaction is the reason on record, and
// a case never dispatched (self-handled) has no department to redo it.
func reopenable(c *Case, in *Input) error {
	if err := needOpinion(c, in); err != nil {
		return err
	}
	if c.PrimaryDepartmentCode == "" {
		return invalid("state", "该案件未派遣过，不能回访重办", "the case was never dispatched, so it cannot be reopened")
	}
	return nil
}

// eventType is the CloudEvents type of an operation's event: the past of
// what happened, so subscribers read it as a fact.
func eventType(op Operation) string {
	past := map[Operation]string{
		OpSubmit: "reported", OpRequestVerify: "verify_requested", OpVerify: "verified",
		OpReject: "rejected", OpMerge: "merged", OpFile: "filed", OpRequestVoid: "void_requested",
		OpApproveVoid: "voided", OpDenyVoid: "void_denied", OpSelfHandle: "self_handled",
		OpApproveSelfHandle: "self_handle_approved", OpDispatch: "dispatched", OpAccept: "accepted",
		OpRequestReturn: "return_requested", OpApproveReturn: "returned", OpDenyReturn: "return_denied",
		OpRequestDelay: "delay_requested", OpApproveDelay: "delayed", OpDenyDelay: "delay_denied",
		OpRequestHang: "hang_requested", OpApproveHang: "hung", OpDenyHang: "hang_denied",
		OpResume: "resumed", OpFeedback: "fed_back", OpAssignCheck: "check_assigned",
		OpCheckPass: "check_passed", OpCheckFail: "check_failed", OpClose: "closed", OpReopen: "reopened",
		OpRemind: "reminded", OpMarkOverdue: "overdue", OpSupervise: "supervised", OpEscalate: "escalated",
		OpSuperviseFeedback: "supervision_answered",
	}[op]
	return EventTypePrefix + past + ".v1"
}

// EventTypePrefix begins every case event type.
const EventTypePrefix = "cn.cityops.case."

// EventTypeDuplicateAttached is the event of a master case that gained a
// merged duplicate (its state does not change).
const EventTypeDuplicateAttached = EventTypePrefix + "duplicate_attached.v1"

// EventType returns the CloudEvents type of an operation's event.
func EventType(op Operation) string { return eventType(op) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Invalid is the INVALID_ARGUMENT error of the case loop, naming the field,
// for adapters (the evidence review) to refuse with.
func Invalid(field, zh, en string) error { return invalid(field, zh, en) }
