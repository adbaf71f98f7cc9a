// Package caseflow is the closed case loop of digital city management
// (数字城管案件闭环): 上报 → 核实 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案 with
// its exception flows (回退, 延期, 挂账, 作废, 自处理, 合并, 回访重办). The state
// machine is data (Rules): which operation takes a case from which state to
// which, in which posts (岗位), under which guard. Every transition runs in
// one transaction that checks the case's version, applies the change,
// appends a step to the case's timeline and appends a domain event to the
// tenant's event log (ARCHITECTURE principle 2), so nothing is published
// that did not happen and nothing that happened goes unpublished.
package caseflow

import (
	"context"
	"time"
)

// State is where a case stands; the values are those of the ent schema and,
// upper-cased with a CASE_STATE_ prefix, of api/caseflow/v1 CaseState.
type State string

// States of the loop (DOMAIN §4.4).
const (
	StateDraft         State = "draft"          // 草稿
	StateReported      State = "reported"       // 上报/待受理
	StateVerifyPending State = "verify_pending" // 待核实
	StateRejected      State = "rejected"       // 不予受理
	StateMerged        State = "merged"         // 合并
	StateFiled         State = "filed"          // 已立案
	StateSelfHandled   State = "self_handled"   // 自处理待审核
	StateDispatched    State = "dispatched"     // 已派遣
	StateInDisposal    State = "in_disposal"    // 处置中
	StateReturnPending State = "return_pending" // 回退待批
	StateDelayPending  State = "delay_pending"  // 延期待批
	StateHangPending   State = "hang_pending"   // 挂账待批
	StateHung          State = "hung"           // 挂账
	StateFeedback      State = "feedback"       // 已反馈待派核查
	StateCheckPending  State = "check_pending"  // 待核查
	StateClosePending  State = "close_pending"  // 待结案
	StateClosed        State = "closed"         // 已结案
	StateVoidPending   State = "void_pending"   // 作废待批
	StateVoided        State = "voided"         // 已作废
)

// AllStates lists every state in the order of the proto enum.
func AllStates() []State {
	return []State{
		StateDraft, StateReported, StateVerifyPending, StateRejected, StateMerged, StateFiled,
		StateSelfHandled, StateDispatched, StateInDisposal, StateReturnPending, StateDelayPending,
		StateHangPending, StateHung, StateFeedback, StateCheckPending, StateClosePending,
		StateClosed, StateVoidPending, StateVoided,
	}
}

// Operation is what a post does to a case.
type Operation string

// Operations, one per transition kind.
const (
	OpSubmit            Operation = "submit"
	OpRequestVerify     Operation = "request_verify"
	OpVerify            Operation = "verify"
	OpReject            Operation = "reject"
	OpMerge             Operation = "merge"
	OpFile              Operation = "file"
	OpRequestVoid       Operation = "request_void"
	OpApproveVoid       Operation = "approve_void"
	OpDenyVoid          Operation = "deny_void"
	OpSelfHandle        Operation = "self_handle"
	OpApproveSelfHandle Operation = "approve_self_handle"
	OpDispatch          Operation = "dispatch"
	OpAccept            Operation = "accept"
	OpRequestReturn     Operation = "request_return"
	OpApproveReturn     Operation = "approve_return"
	OpDenyReturn        Operation = "deny_return"
	OpRequestDelay      Operation = "request_delay"
	OpApproveDelay      Operation = "approve_delay"
	OpDenyDelay         Operation = "deny_delay"
	OpRequestHang       Operation = "request_hang"
	OpApproveHang       Operation = "approve_hang"
	OpDenyHang          Operation = "deny_hang"
	OpResume            Operation = "resume"
	OpFeedback          Operation = "feedback"
	OpAssignCheck       Operation = "assign_check"
	OpCheckPass         Operation = "check_pass"
	OpCheckFail         Operation = "check_fail"
	OpClose             Operation = "close"
	OpReopen            Operation = "reopen"

	// Marks (DOMAIN §4.3 催办/督办): recorded like transitions, the state stays.
	OpRemind            Operation = "remind"
	OpMarkOverdue       Operation = "mark_overdue"
	OpSupervise         Operation = "supervise"
	OpEscalate          Operation = "escalate"
	OpSuperviseFeedback Operation = "supervise_feedback"
)

// AllOperations lists every operation in the order of the proto enum.
func AllOperations() []Operation {
	return []Operation{
		OpSubmit, OpRequestVerify, OpVerify, OpReject, OpMerge, OpFile, OpRequestVoid, OpApproveVoid,
		OpDenyVoid, OpSelfHandle, OpApproveSelfHandle, OpDispatch, OpAccept, OpRequestReturn,
		OpApproveReturn, OpDenyReturn, OpRequestDelay, OpApproveDelay, OpDenyDelay, OpRequestHang,
		OpApproveHang, OpDenyHang, OpResume, OpFeedback, OpAssignCheck, OpCheckPass, OpCheckFail,
		OpClose, OpReopen, OpRemind, OpMarkOverdue, OpSupervise, OpEscalate, OpSuperviseFeedback,
	}
}

// IsMark reports whether op is a mark (it never changes a case's state).
func IsMark(op Operation) bool {
	switch op {
	case OpRemind, OpMarkOverdue, OpSupervise, OpEscalate, OpSuperviseFeedback:
		return true
	}
	return false
}

// Source is the channel a case came in through.
type Source string

// Sources (案件来源).
const (
	SourceSupervisor   Source = "supervisor"
	SourceHotline12319 Source = "hotline_12319"
	SourceHotline12345 Source = "hotline_12345"
	SourceCitizen      Source = "citizen"
	SourceVideoAI      Source = "video_ai"
	SourceIoT          Source = "iot"
	SourceSuperior     Source = "superior"
	SourceMedia        Source = "media"
	SourceLeader       Source = "leader"
)

// needsVerification reports whether reports from s must be verified on site
// by a supervisor before filing (DOMAIN §4.1: public, hotline and media
// reports).
func (s Source) needsVerification() bool {
	switch s {
	case SourceHotline12319, SourceHotline12345, SourceCitizen, SourceMedia:
		return true
	}
	return false
}

func (s Source) valid() bool {
	switch s {
	case SourceSupervisor, SourceHotline12319, SourceHotline12345, SourceCitizen, SourceVideoAI,
		SourceIoT, SourceSuperior, SourceMedia, SourceLeader:
		return true
	}
	return false
}

// Kind is whether a case concerns a component (部件) or an event (事件).
type Kind string

// Kinds.
const (
	KindComponent Kind = "component"
	KindEvent     Kind = "event"
)

// Urgency levels (一般 / 紧急); urgent cases get the shorter limits.
const (
	UrgencyNormal = "normal"
	UrgencyUrgent = "urgent"
)

// Case is the case aggregate (案卷).
type Case struct {
	ID                    int
	TenantID              int
	Number                string
	Source                Source
	Kind                  Kind
	ClassCode             string
	DetailCode            string
	NationalClassCode     string
	FilingConditionCode   string
	Description           string
	Lon, Lat              float64
	Address               string
	GridCode              string
	CommunityCode         string
	StreetCode            string
	DistrictCode          string
	AreaClass             string
	ComponentObjID        string
	Urgency               string
	ReporterName          string
	ReporterPhone         string
	ReportedBy            string
	PrimaryDepartmentCode string
	CoDepartmentCodes     []string
	State                 State
	Version               int64

	ReportedAt, VerifiedAt, FiledAt, DispatchedAt, AcceptedAt, FeedbackAt, CheckedAt, ClosedAt *time.Time

	VerifyDeadline, DispatchDeadline, DisposeDeadline, CheckDeadline, CloseDeadline *time.Time

	// HungAt is when the current hang began; HangSeconds the total time
	// hung, during which the disposal clock stood still.
	HungAt      *time.Time
	HangSeconds int64

	ReworkCount, ReturnCount, ExtensionCount, HangCount, ReminderCount int

	Overdue, Supervised, SelfHandled bool
	MergedInto                       string

	// DispatchRuleCode is the dispatch rule that chose the department;
	// AutoDispatched whether the platform dispatched without a dispatcher.
	DispatchRuleCode string
	AutoDispatched   bool
	// OverdueAt is when supervision found the case overdue; PreRemindedFor
	// the disposal deadline the before-deadline 催办 was sent for (so a
	// moved deadline re-arms it); EscalationLevel the highest 路长 level
	// notified; SuperviseDeadline the deadline of the open 督办.
	OverdueAt, PreRemindedFor, SuperviseDeadline *time.Time
	EscalationLevel                              int
	// StageDeadlines are the deadlines of a staged disposal limit
	// (停工 → 处罚 → 拆除), in order; empty when the limit has no stages.
	StageDeadlines []StageDeadline

	CreatedAt, UpdatedAt time.Time
}

// StageDeadline is the deadline of one stage of a staged limit.
type StageDeadline struct {
	Stage string
	Due   time.Time
}

// clone returns a deep enough copy of c for a transition to change.
func (c *Case) clone() *Case {
	cp := *c
	cp.CoDepartmentCodes = append([]string(nil), c.CoDepartmentCodes...)
	cp.StageDeadlines = append([]StageDeadline(nil), c.StageDeadlines...)
	return &cp
}

// Step is one entry of a case's timeline.
type Step struct {
	TenantID    int
	CaseID      int
	Seq         int64
	Operation   Operation
	From, To    State
	Actor       string
	ActorName   string
	Post        string
	Opinion     string
	Lon, Lat    *float64
	Attachments []string
	Detail      map[string]string
	At          time.Time
}

// Event is one entry of a tenant's event log: a CloudEvents-shaped header
// and the protobuf-encoded cityops.caseflow.v1.CaseEvent.
type Event struct {
	TenantID int
	Seq      int64
	ID       string
	Type     string
	Subject  string
	Time     time.Time
	Data     []byte
}

// Repo stores cases and their timelines. Every method takes part in the
// transaction carried by ctx.
type Repo interface {
	// NextNumber allocates the next daily sequence (1, 2, …) of the tenant
	// for day (yyyymmdd), race-free and rolled back with the transaction.
	NextNumber(ctx context.Context, tenantID int, day string) (int64, error)
	// Create inserts c (its number already allocated) and returns it with
	// its id.
	Create(ctx context.Context, c *Case) (*Case, error)
	// Get loads a case of the viewer's tenant by number: CASE_NOT_FOUND
	// when there is none.
	Get(ctx context.Context, number string) (*Case, error)
	// Update writes c (c.Version is the new version) where the stored
	// version is still expected: CASE_CONFLICT when it is not.
	Update(ctx context.Context, c *Case, expected int64) error
	// AppendStep appends a timeline entry.
	AppendStep(ctx context.Context, s *Step) error
	// Steps returns a case's timeline in order.
	Steps(ctx context.Context, caseID int) ([]*Step, error)
	// Near returns cases of a class in a box reported since a time, in
	// the given states.
	Near(ctx context.Context, q NearQuery) ([]*Case, error)
	// Search returns up to limit cases matching q after q.After in q.Order.
	Search(ctx context.Context, q Query, limit int) ([]*Case, error)
	// Count counts the cases f matches.
	Count(ctx context.Context, f Filter) (*Counts, error)
}

// EventLog is the tenant event log (outbox).
type EventLog interface {
	// NextSeq allocates the tenant's next event sequence. It locks the
	// tenant's head until the transaction ends, so sequences are gapless
	// and in commit order.
	NextSeq(ctx context.Context, tenantID int) (int64, error)
	// Append stores e. With e.Seq zero it allocates the sequence itself,
	// as NextSeq does, in the same statement where the database allows
	// (the head stays locked for one round trip less), and sets e.Seq.
	// Data is stored as given; the use case stores case events without
	// their sequence and adds it when the log is read (WithSequence).
	Append(ctx context.Context, e *Event) error
	// List returns the tenant's events after seq, oldest first.
	List(ctx context.Context, tenantID int, after int64, limit int) ([]*Event, error)
}

// Departments resolves the responsible departments (责任单位) of the
// viewer's tenant.
type Departments interface {
	// CodeByID returns the code of a department; NOT_FOUND when none.
	CodeByID(ctx context.Context, id int) (string, error)
	// Missing returns those of codes that name no active department.
	Missing(ctx context.Context, codes []string) ([]string, error)
}

// Transaction runs fn in one database transaction carried by its context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
