package caseflow

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// Config tunes the use cases. The zero value is usable.
type Config struct {
	// Deadlines computes stage deadlines; default NaturalDeadlines{}.
	Deadlines Deadlines
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Location is the time zone of the day in case numbers; default
	// China Standard Time (UTC+8, no daylight saving, so no tz database
	// is needed).
	Location *time.Location
	// Dispatcher decides automatic dispatch when a case is filed; nil
	// leaves every case to a dispatcher.
	Dispatcher AutoDispatcher
	// Locator, Classes and Components complete a report from the
	// registry; nil ones are skipped (the report is taken as given).
	Locator    Locator
	Classes    Classes
	Components Components
	// Evidence checks attachment keys; nil accepts any key.
	Evidence Evidence
	// FeedbackPhotos says whether feedback (处置反馈) on a class needs an
	// after-photo; nil asks for none unless the caller does.
	FeedbackPhotos func(tenantCode, classCode string) bool
	// PauseForApproval says whether a tenant's disposal clock stands still
	// while a request of the department (回退, 延期, 挂账) waits for
	// approval, as it does while hung; nil: it runs on.
	PauseForApproval func(tenantCode string) bool
	// DuplicateRadiusM and DuplicateWindow bound the duplicate check;
	// defaults DefaultDuplicateRadiusM and DefaultDuplicateWindow.
	DuplicateRadiusM float64
	DuplicateWindow  time.Duration
}

// DispatchDecision is what the responsibility matrix says about a case:
// Auto when exactly one rule matches and the tenant lets the platform
// dispatch the class by itself; otherwise the candidates a dispatcher
// chooses from.
type DispatchDecision struct {
	Auto          bool
	RuleCode      string
	Department    string
	CoDepartments []string
	Reason        string
	Candidates    []DispatchCandidate
}

// DispatchCandidate is one rule that matched a case.
type DispatchCandidate struct {
	RuleCode      string
	Department    string
	CoDepartments []string
	Reason        string
}

// AutoDispatcher is the auto-dispatch engine (DOMAIN §6.6). Its methods
// run inside the case loop's transaction.
type AutoDispatcher interface {
	// Decide matches the case against the tenant's rules.
	Decide(ctx context.Context, c *Case) (*DispatchDecision, error)
	// Dispatched counts a case the rule dispatched automatically.
	Dispatched(ctx context.Context, ruleCode string) error
	// Returned counts an automatically dispatched case its department
	// returned (回退), so bad rules surface.
	Returned(ctx context.Context, ruleCode string) error
}

func (c *Config) setDefaults() {
	if c.Deadlines == nil {
		c.Deadlines = NaturalDeadlines{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = time.FixedZone("CST", 8*60*60)
	}
	if c.DuplicateRadiusM <= 0 {
		c.DuplicateRadiusM = DefaultDuplicateRadiusM
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
}

// Usecase runs the case loop.
type Usecase struct {
	repo    Repo
	events  EventLog
	deps    Departments
	tx      Transaction
	machine *Machine
	cfg     Config
}

// NewUsecase wires the case loop with the default state machine.
func NewUsecase(repo Repo, events EventLog, deps Departments, tx Transaction, cfg Config) *Usecase {
	cfg.setDefaults()
	return &Usecase{repo: repo, events: events, deps: deps, tx: tx, machine: NewMachine(Rules()), cfg: cfg}
}

// Machine returns the state machine the use case enforces.
func (u *Usecase) Machine() *Machine { return u.machine }

// SubmitInput is a new report.
type SubmitInput struct {
	Source              Source
	Kind                Kind
	ClassCode           string
	DetailCode          string
	NationalClassCode   string
	FilingConditionCode string
	Description         string
	Lon, Lat            float64
	// CRS is the point's coordinate system ("" or WGS84, CGCS2000, GCJ02).
	CRS            string
	Address        string
	GridCode       string
	CommunityCode  string
	StreetCode     string
	DistrictCode   string
	AreaClass      string
	ComponentObjID string
	Urgency        string // UrgencyNormal when empty
	ReporterName   string
	ReporterPhone  string
	// Attachments are the report's evidence (before-photos).
	Attachments []string
}

// Input is what a transition carries besides the operation.
type Input struct {
	Opinion     string
	Attachments []string
	// Lon/Lat is where the actor stood (the handset's fix); nil when unknown.
	Lon, Lat *float64
	// Department and CoDepartments are the dispatch targets (主办, 协办).
	Department    string
	CoDepartments []string
	// Duration is the granted extension of approve_delay.
	Duration time.Duration
	// MergeInto is the master case of merge.
	MergeInto string
	// RequireAttachment makes feedback need evidence (the class demands
	// after-photos); per call until the taxonomy carries the flag.
	RequireAttachment bool
	// ExpectedVersion is the version the caller read; 0 skips the
	// read-time check (the write is version-checked either way).
	ExpectedVersion int64
}

// submitPosts may create cases: the supervisor's handset, intake seats
// (hotline, media, superior and leader referrals), the shift leader and
// machine channels (12345 gateway, video AI, IoT).
var submitPosts = []string{viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleChannel}

// acting returns the viewer acting in a tenant.
func acting(ctx context.Context) (*viewer.Viewer, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.TenantID == 0 || v.TenantCode == "" {
		return nil, errorsv1.ErrorTenantRequired("caseflow: the viewer acts in no tenant")
	}
	return v, nil
}

// now is the clock at the precision both databases keep, so what a use
// case returns equals what a later read returns.
func (u *Usecase) now() time.Time { return u.cfg.Now().UTC().Truncate(time.Microsecond) }

func firstPost(roles, posts []string) string {
	for _, p := range posts {
		if slices.Contains(roles, p) {
			return p
		}
	}
	return ""
}

// Submit creates a case: REPORTED, or VERIFY_PENDING when its source needs
// on-site verification first. Its number is the tenant's day and a daily
// sequence (yyyymmdd00001), allocated in the creating transaction.
func (u *Usecase) Submit(ctx context.Context, in SubmitInput) (*Case, error) {
	return u.submit(ctx, in, nil)
}

// submit creates a case; pre, when set, runs in the creating transaction
// before the case number is allocated (the tenant's number and event
// sequences stay locked from allocation to commit, so work that needs no
// lock goes first).
func (u *Usecase) submit(ctx context.Context, in SubmitInput, pre func(ctx context.Context, c *Case) error) (*Case, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	post := firstPost(v.Roles, submitPosts)
	if post == "" {
		return nil, PostNotAllowed(OpSubmit, submitPosts)
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if err := u.place(ctx, v.TenantID, v.TenantCode, &in); err != nil {
		return nil, err
	}
	if err := u.checkEvidence(ctx, v, in.Attachments); err != nil {
		return nil, err
	}
	if in.Urgency == "" {
		in.Urgency = UrgencyNormal
	}
	now := u.now()
	state := StateReported
	if in.Source.needsVerification() {
		state = StateVerifyPending
	}
	var out *Case
	day := now.In(u.cfg.Location).Format("20060102")
	n, err := u.number(ctx, v.TenantID, day)
	if err != nil {
		return nil, fmt.Errorf("caseflow submit: %w", err)
	}
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		c := &Case{
			TenantID: v.TenantID, Source: in.Source, Kind: in.Kind,
			ClassCode: in.ClassCode, DetailCode: in.DetailCode, NationalClassCode: in.NationalClassCode,
			FilingConditionCode: in.FilingConditionCode, Description: in.Description, Lon: in.Lon, Lat: in.Lat,
			Address: in.Address, GridCode: in.GridCode, CommunityCode: in.CommunityCode, StreetCode: in.StreetCode,
			DistrictCode: in.DistrictCode, AreaClass: in.AreaClass, ComponentObjID: in.ComponentObjID,
			Urgency: in.Urgency, ReporterName: in.ReporterName, ReporterPhone: in.ReporterPhone,
			ReportedBy: v.Actor(), State: state, Version: 1, ReportedAt: &now, CreatedAt: now, UpdatedAt: now,
			CoDepartmentCodes: []string{},
		}
		if pre != nil {
			if err := pre(ctx, c); err != nil {
				return err
			}
		}
		c.Number = fmt.Sprintf("%s%05d", day, n)
		if state == StateVerifyPending {
			if c.VerifyDeadline, err = u.due(ctx, v, c, StageVerify, now); err != nil {
				return err
			}
		}
		if c, err = u.repo.Create(ctx, c); err != nil {
			return err
		}
		tin := Input{Attachments: in.Attachments, Lon: &in.Lon, Lat: &in.Lat}
		if err := u.record(ctx, v, c, "", OpSubmit, post, &tin, nil, now); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("caseflow submit: %w", err)
	}
	return present(v, out), nil
}

// number draws the next case number of the day. It runs in a short
// transaction of its own (unless the caller already holds one), so the
// counter row is locked only for that moment and reports of one tenant are
// not serialized for the whole of their creation; the price is that a
// report failing afterwards leaves a gap. Numbers are unique, not gapless:
// the event log, which the relay reads, is the gapless sequence.
func (u *Usecase) number(ctx context.Context, tenantID int, day string) (int64, error) {
	var n int64
	err := u.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		n, err = u.repo.NextNumber(ctx, tenantID, day)
		return err
	})
	return n, err
}

func (in *SubmitInput) validate() error {
	if !in.Source.valid() {
		return invalid("source", "案件来源不合法", fmt.Sprintf("unknown source %q", in.Source))
	}
	if in.Kind != KindComponent && in.Kind != KindEvent {
		return invalid("kind", "案件类型须为部件或事件", "kind must be component or event")
	}
	if in.Urgency != "" && in.Urgency != UrgencyNormal && in.Urgency != UrgencyUrgent {
		return invalid("urgency", "紧急程度须为 normal 或 urgent", "urgency must be normal or urgent")
	}
	if strings.TrimSpace(in.Description) == "" && in.ClassCode == "" {
		return invalid("description", "须填写问题描述或分类", "a report needs a description or a class")
	}
	return nil
}

// Transition applies op to the case in one transaction: it loads the case
// (at the expected version), checks the state machine, the post and the
// guard, applies the change, writes it only where the version is still the
// one read (CASE_CONFLICT otherwise), and appends a step and an event.
func (u *Usecase) Transition(ctx context.Context, number string, op Operation, in Input) (*Case, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	if err := u.checkEvidence(ctx, v, in.Attachments); err != nil {
		return nil, err
	}
	var out *Case
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := u.repo.Get(ctx, number)
		if err != nil {
			return err
		}
		if in.ExpectedVersion != 0 && c.Version != in.ExpectedVersion {
			return CaseConflict(number, in.ExpectedVersion, c.Version)
		}
		if op == OpFeedback && u.cfg.FeedbackPhotos != nil && u.cfg.FeedbackPhotos(v.TenantCode, c.ClassCode) {
			in.RequireAttachment = true
		}
		rule, post, err := u.machine.Decide(c.State, op, v.Roles)
		if err != nil {
			return err
		}
		if rule.DepartmentBound {
			if err := u.checkDepartment(ctx, v, c, op); err != nil {
				return err
			}
		}
		if rule.Guard != nil {
			if err := rule.Guard(c, &in); err != nil {
				return err
			}
		}
		now := u.now()
		next := c.clone()
		next.State, next.Version, next.UpdatedAt = rule.To, c.Version+1, now
		detail := map[string]string{}
		if err := u.apply(ctx, v, op, next, &in, now, detail); err != nil {
			return err
		}
		if op == OpFeedback {
			if err := u.review(ctx, v, c, &in, detail); err != nil {
				return err
			}
		}
		var master *Case
		if op == OpMerge {
			if master, err = u.master(ctx, in.MergeInto); err != nil {
				return err
			}
			next.MergedInto = master.Number
			detail["merged_into"] = master.Number
		}
		if err := u.repo.Update(ctx, next, c.Version); err != nil {
			return err
		}
		if err := u.record(ctx, v, next, c.State, op, post, &in, detail, now); err != nil {
			return err
		}
		if master != nil {
			if err := u.attachDuplicate(ctx, v, master, next, post, &in, now); err != nil {
				return err
			}
		}
		if op == OpApproveReturn && c.AutoDispatched && c.DispatchRuleCode != "" && u.cfg.Dispatcher != nil {
			if err := u.cfg.Dispatcher.Returned(ctx, c.DispatchRuleCode); err != nil {
				return err
			}
		}
		if op == OpFile && u.cfg.Dispatcher != nil {
			if next, err = u.autoDispatch(ctx, v, next, now); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("caseflow %s %s: %w", op, number, err)
	}
	return present(v, out), nil
}

// autoDispatch dispatches a just-filed case in the filing transaction when
// the matrix is certain (one rule, class enabled); the dispatch is its own
// step and event, by the platform in the dispatcher's post.
func (u *Usecase) autoDispatch(ctx context.Context, v *viewer.Viewer, c *Case, now time.Time) (*Case, error) {
	d, err := u.cfg.Dispatcher.Decide(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("auto-dispatch: %w", err)
	}
	if d == nil || !d.Auto || d.Department == "" {
		return c, nil
	}
	rule, _, err := u.machine.Decide(c.State, OpDispatch, []string{viewer.RoleDispatcher})
	if err != nil {
		return nil, err
	}
	in := Input{Department: d.Department, CoDepartments: d.CoDepartments, Opinion: d.Reason}
	next := c.clone()
	next.State, next.Version, next.UpdatedAt = rule.To, c.Version+1, now
	next.DispatchRuleCode, next.AutoDispatched = d.RuleCode, true
	detail := map[string]string{"rule": d.RuleCode, "auto": "true"}
	if err := u.apply(ctx, v, OpDispatch, next, &in, now, detail); err != nil {
		return nil, err
	}
	if err := u.repo.Update(ctx, next, c.Version); err != nil {
		return nil, err
	}
	platform := &viewer.Viewer{Kind: viewer.System, TenantID: v.TenantID, TenantCode: v.TenantCode, ActorName: "自动派遣"}
	if err := u.record(ctx, platform, next, c.State, OpDispatch, viewer.RoleDispatcher, &in, detail, now); err != nil {
		return nil, err
	}
	if err := u.cfg.Dispatcher.Dispatched(ctx, d.RuleCode); err != nil {
		return nil, err
	}
	return next, nil
}

// Mark records a mark (催办, 超期, 督办, 升级, 督办反馈) on a case in one
// transaction: change adjusts flags, counters and deadlines and returns the
// step's detail; the state stays, the version moves, and the step and the
// event are appended as for a transition. The caller (supervision) has
// decided that the viewer may do it; post is recorded as given.
func (u *Usecase) Mark(ctx context.Context, number string, op Operation, post string, in Input, change func(c *Case) (map[string]string, error)) (*Case, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	if !IsMark(op) {
		return nil, invalid("operation", "不是标记类操作", string(op)+" is not a mark")
	}
	var out *Case
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := u.repo.Get(ctx, number)
		if err != nil {
			return err
		}
		if in.ExpectedVersion != 0 && c.Version != in.ExpectedVersion {
			return CaseConflict(number, in.ExpectedVersion, c.Version)
		}
		now := u.now()
		next := c.clone()
		next.Version, next.UpdatedAt = c.Version+1, now
		detail, err := change(next)
		if err != nil {
			return err
		}
		next.State = c.State
		if err := u.repo.Update(ctx, next, c.Version); err != nil {
			return err
		}
		if err := u.record(ctx, v, next, c.State, op, post, &in, detail, now); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("caseflow %s %s: %w", op, number, err)
	}
	return present(v, out), nil
}

// review compares a feedback's photos with the case's earlier ones (those
// of the report and of merged duplicates).
func (u *Usecase) review(ctx context.Context, v *viewer.Viewer, c *Case, in *Input, detail map[string]string) error {
	r, ok := u.cfg.Evidence.(EvidenceReviewer)
	if !ok || len(in.Attachments) == 0 {
		return nil
	}
	steps, err := u.repo.Steps(ctx, c.ID)
	if err != nil {
		return err
	}
	var before []string
	for _, s := range steps {
		if s.Operation == OpSubmit || s.Operation == OpMerge || s.Operation == OpVerify {
			before = append(before, s.Attachments...)
		}
	}
	notes, err := r.Review(ctx, v.TenantCode, before, in.Attachments)
	if err != nil {
		return err
	}
	for k, val := range notes {
		detail[k] = val
	}
	return nil
}

// checkEvidence checks that attachment keys name the tenant's files.
func (u *Usecase) checkEvidence(ctx context.Context, v *viewer.Viewer, keys []string) error {
	if u.cfg.Evidence == nil || len(keys) == 0 {
		return nil
	}
	return u.cfg.Evidence.Check(ctx, v.TenantCode, keys)
}

// checkDepartment lets a handler act only on cases dispatched to their
// department, as primary (主办) or co-handler (协办).
func (u *Usecase) checkDepartment(ctx context.Context, v *viewer.Viewer, c *Case, op Operation) error {
	refuse := PostNotAllowed(op, []string{viewer.RoleHandler + "@" + c.PrimaryDepartmentCode})
	if v.DepartmentID == 0 {
		return refuse
	}
	code, err := u.deps.CodeByID(ctx, v.DepartmentID)
	if err != nil {
		if errorsv1.IsNotFound(err) {
			return refuse
		}
		return err
	}
	if code == "" || (code != c.PrimaryDepartmentCode && !slices.Contains(c.CoDepartmentCodes, code)) {
		return refuse
	}
	return nil
}

// master loads the case a duplicate merges into; it must still be live.
func (u *Usecase) master(ctx context.Context, number string) (*Case, error) {
	m, err := u.repo.Get(ctx, number)
	if err != nil {
		return nil, err
	}
	switch m.State {
	case StateRejected, StateMerged, StateVoided, StateDraft:
		return nil, invalid("merge_into", "主案件已终结或未上报，不能合并到它", "the master case is "+string(m.State)+"; merge into a live case")
	}
	return m, nil
}

// attachDuplicate records a merged duplicate on the master's timeline, with
// the duplicate's reporter, so both reporters stay reachable from the case
// that goes on (回访 calls both).
func (u *Usecase) attachDuplicate(ctx context.Context, v *viewer.Viewer, master, dup *Case, post string, in *Input, now time.Time) error {
	next := master.clone()
	next.Version, next.UpdatedAt = master.Version+1, now
	if err := u.repo.Update(ctx, next, master.Version); err != nil {
		return err
	}
	detail := map[string]string{
		"merged_from": dup.Number, "source": string(dup.Source),
		"reporter_name": dup.ReporterName, "reporter_phone": dup.ReporterPhone,
	}
	return u.recordAs(ctx, v, next, master.State, OpMerge, post, in, detail, now, EventTypeDuplicateAttached, dup.Number)
}

// apply makes the operation's effects on the case beyond its state:
// timestamps, deadlines, counters and flags.
func (u *Usecase) apply(ctx context.Context, v *viewer.Viewer, op Operation, c *Case, in *Input, now time.Time, detail map[string]string) error {
	var err error
	late := func(deadline *time.Time) {
		if deadline != nil && now.After(*deadline) {
			c.Overdue = true
		}
	}
	pausing := u.cfg.PauseForApproval != nil && u.cfg.PauseForApproval(v.TenantCode)
	switch op {
	case OpRequestReturn, OpRequestDelay, OpRequestHang:
		if pausing && c.HungAt == nil {
			c.HungAt = &now // the clock stops until the request is decided
		}
	case OpDenyReturn, OpDenyDelay, OpDenyHang:
		err = u.resumeClock(ctx, v, c, now, detail)
	}
	if err != nil {
		return err
	}
	switch op {
	case OpRequestVerify:
		c.VerifyDeadline, err = u.due(ctx, v, c, StageVerify, now)
	case OpVerify:
		late(c.VerifyDeadline)
		c.VerifiedAt = &now
	case OpFile:
		c.FiledAt = &now
		c.DispatchDeadline, err = u.due(ctx, v, c, StageDispatch, now)
	case OpSelfHandle:
		c.SelfHandled = true
	case OpApproveSelfHandle:
		c.CheckedAt, c.ClosedAt = &now, &now
	case OpDispatch:
		missing, merr := u.deps.Missing(ctx, append([]string{in.Department}, in.CoDepartments...))
		if merr != nil {
			return merr
		}
		if len(missing) > 0 {
			return invalid("department", "责任单位不存在或已停用："+strings.Join(missing, ","), "no active department "+strings.Join(missing, ","))
		}
		late(c.DispatchDeadline)
		c.PrimaryDepartmentCode = in.Department
		c.CoDepartmentCodes = append([]string{}, in.CoDepartments...)
		c.DispatchedAt = &now
		c.AcceptedAt = nil
		if c.DisposeDeadline, err = u.due(ctx, v, c, StageDispose, now); err == nil {
			c.StageDeadlines, err = u.stages(ctx, v, c, now)
		}
		detail["department"] = in.Department
		if len(in.CoDepartments) > 0 {
			detail["co_departments"] = strings.Join(in.CoDepartments, ",")
		}
	case OpAccept:
		c.AcceptedAt = &now
	case OpApproveReturn:
		// 改派: the department is released and the dispatcher picks again;
		// the returning department's disposal clock ends with it.
		c.ReturnCount++
		detail["returned_by"] = c.PrimaryDepartmentCode
		c.PrimaryDepartmentCode, c.CoDepartmentCodes = "", []string{}
		c.DisposeDeadline, c.HungAt, c.StageDeadlines = nil, nil, nil
	case OpRequestDelay:
		if in.Duration > 0 {
			detail["requested"] = in.Duration.String()
		}
	case OpApproveDelay:
		if err := u.resumeClock(ctx, v, c, now, detail); err != nil {
			return err
		}
		c.ExtensionCount++
		detail["granted"] = in.Duration.String()
		if c.DisposeDeadline != nil {
			var d time.Time
			if d, err = u.cfg.Deadlines.Extend(ctx, v.TenantCode, *c.DisposeDeadline, in.Duration); err == nil {
				c.DisposeDeadline = &d
				err = u.shiftStages(ctx, v, c, in.Duration)
			}
		}
	case OpApproveHang:
		c.HangCount++
		if c.HungAt == nil { // paused since the request when the tenant pauses for approval
			c.HungAt = &now
		}
	case OpResume:
		// The disposal clock stood still while hung: the deadline moves by
		// the time paused.
		err = u.resumeClock(ctx, v, c, now, detail)
	case OpFeedback:
		late(c.DisposeDeadline)
		c.FeedbackAt = &now
	case OpAssignCheck:
		c.CheckDeadline, err = u.due(ctx, v, c, StageCheck, now)
	case OpCheckPass:
		late(c.CheckDeadline)
		c.CheckedAt = &now
		c.CloseDeadline, err = u.due(ctx, v, c, StageClose, now)
	case OpCheckFail:
		// 返工: back to the department, still against its original
		// disposal deadline (rework does not buy time).
		late(c.CheckDeadline)
		c.CheckedAt = &now
		c.ReworkCount++
		c.FeedbackAt = nil
	case OpClose:
		late(c.CloseDeadline)
		c.ClosedAt = &now
	case OpReopen:
		// 回访不满意: the department redoes the work with a fresh limit;
		// it counts as rework.
		c.ReworkCount++
		c.ClosedAt, c.FeedbackAt = nil, nil
		if c.DisposeDeadline, err = u.due(ctx, v, c, StageDispose, now); err == nil {
			c.StageDeadlines, err = u.stages(ctx, v, c, now)
		}
	}
	return err
}

// resumeClock restarts a stopped disposal clock: the deadline moves by the
// time it stood still, which is added to the case's paused total.
func (u *Usecase) resumeClock(ctx context.Context, v *viewer.Viewer, c *Case, now time.Time, detail map[string]string) error {
	if c.HungAt == nil {
		return nil
	}
	paused := now.Sub(*c.HungAt)
	c.HangSeconds += int64(paused / time.Second)
	detail["paused"] = paused.String()
	c.HungAt = nil
	if c.DisposeDeadline == nil {
		return nil
	}
	d, err := u.cfg.Deadlines.Extend(ctx, v.TenantCode, *c.DisposeDeadline, paused)
	if err != nil {
		return err
	}
	c.DisposeDeadline = &d
	return u.shiftStages(ctx, v, c, paused)
}

// stages computes the staged deadlines of the case's disposal limit from
// from; nil when the limit has no stages or the calendar cannot say.
func (u *Usecase) stages(ctx context.Context, v *viewer.Viewer, c *Case, from time.Time) ([]StageDeadline, error) {
	sd, ok := u.cfg.Deadlines.(StagedDeadlines)
	if !ok {
		return nil, nil
	}
	return sd.Stages(ctx, DeadlineRequest{
		TenantCode: v.TenantCode, Stage: StageDispose, Urgency: c.Urgency, Kind: c.Kind, ClassCode: c.ClassCode,
		FilingConditionCode: c.FilingConditionCode, AreaClass: c.AreaClass, From: from,
	})
}

// shiftStages moves every stage deadline by d of working time, as the
// disposal deadline moves (clock paused, extension granted).
func (u *Usecase) shiftStages(ctx context.Context, v *viewer.Viewer, c *Case, d time.Duration) error {
	for i := range c.StageDeadlines {
		t, err := u.cfg.Deadlines.Extend(ctx, v.TenantCode, c.StageDeadlines[i].Due, d)
		if err != nil {
			return err
		}
		c.StageDeadlines[i].Due = t.UTC().Truncate(time.Microsecond)
	}
	return nil
}

func (u *Usecase) due(ctx context.Context, v *viewer.Viewer, c *Case, stage Stage, from time.Time) (*time.Time, error) {
	d, err := u.cfg.Deadlines.Due(ctx, DeadlineRequest{
		TenantCode: v.TenantCode, Stage: stage, Urgency: c.Urgency, Kind: c.Kind, ClassCode: c.ClassCode,
		FilingConditionCode: c.FilingConditionCode, AreaClass: c.AreaClass, From: from,
	})
	if err != nil {
		return nil, fmt.Errorf("deadline %s: %w", stage, err)
	}
	d = d.UTC().Truncate(time.Microsecond)
	return &d, nil
}

// record appends the step and the event of a transition of c (already
// updated) from state from.
func (u *Usecase) record(ctx context.Context, v *viewer.Viewer, c *Case, from State, op Operation, post string, in *Input, detail map[string]string, now time.Time) error {
	return u.recordAs(ctx, v, c, from, op, post, in, detail, now, eventType(op), "")
}

func (u *Usecase) recordAs(ctx context.Context, v *viewer.Viewer, c *Case, from State, op Operation, post string, in *Input, detail map[string]string, now time.Time, typ, mergedFrom string) error {
	if detail == nil {
		detail = map[string]string{}
	}
	attachments := append([]string{}, in.Attachments...)
	step := &Step{
		TenantID: c.TenantID, CaseID: c.ID, Seq: c.Version, Operation: op, From: from, To: c.State,
		Actor: v.Actor(), ActorName: v.ActorName, Post: post, Opinion: in.Opinion,
		Lon: in.Lon, Lat: in.Lat, Attachments: attachments, Detail: detail, At: now,
	}
	if err := u.repo.AppendStep(ctx, step); err != nil {
		return err
	}
	id, err := newUUID()
	if err != nil {
		return err
	}
	// The sequence is the log's to allocate as it appends: the payload
	// goes without it and gets it back when read (WithSequence).
	ev := toEvent(c, v, step, 0, id, typ, mergedFrom)
	data, err := proto.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return u.events.Append(ctx, &Event{
		TenantID: c.TenantID, ID: id, Type: typ, Subject: c.Number, Time: now, Data: data,
	})
}

// WithSequence returns a stored case event's payload with its sequence
// number set: protobuf takes the last value of a field, so appending field
// 4 (CaseEvent.sequence) to the encoding sets it without decoding.
func WithSequence(data []byte, seq int64) []byte {
	out := make([]byte, len(data), len(data)+11)
	copy(out, data)
	out = protowire.AppendTag(out, 4, protowire.VarintType)
	return protowire.AppendVarint(out, uint64(seq))
}

// toEvent builds the domain event of a step. It leaves out the reporter's
// name and phone: personal data does not leave the tenant.
func toEvent(c *Case, v *viewer.Viewer, s *Step, seq int64, id, typ, mergedFrom string) *caseflowv1.CaseEvent {
	ts := func(t *time.Time) *timestamppb.Timestamp {
		if t == nil {
			return nil
		}
		return timestamppb.New(*t)
	}
	ev := &caseflowv1.CaseEvent{
		EventId: id, TenantCode: v.TenantCode, CaseNumber: c.Number, Sequence: seq, Type: typ,
		OccurredAt: timestamppb.New(s.At), Actor: s.Actor, ActorName: s.ActorName, Post: s.Post,
		Operation: ProtoOperation(s.Operation), FromState: ProtoState(s.From), ToState: ProtoState(s.To),
		Opinion: s.Opinion, Version: c.Version, Source: caseflowv1.CaseSource(caseflowv1.CaseSource_value["CASE_SOURCE_"+strings.ToUpper(string(c.Source))]),
		Class: &caseflowv1.CaseClass{
			Kind:      caseflowv1.CaseKind(caseflowv1.CaseKind_value["CASE_KIND_"+strings.ToUpper(string(c.Kind))]),
			ClassCode: c.ClassCode, DetailCode: c.DetailCode, FilingConditionCode: c.FilingConditionCode,
			NationalClassCode: c.NationalClassCode, ComponentObjId: c.ComponentObjID,
		},
		Location: &caseflowv1.CaseLocation{
			Lon: c.Lon, Lat: c.Lat, Address: c.Address, GridCode: c.GridCode, CommunityCode: c.CommunityCode,
			StreetCode: c.StreetCode, DistrictCode: c.DistrictCode, AreaClass: c.AreaClass,
		},
		PrimaryDepartmentCode: c.PrimaryDepartmentCode, CoDepartmentCodes: c.CoDepartmentCodes,
		Deadlines: &caseflowv1.CaseDeadlines{
			Verify: ts(c.VerifyDeadline), Dispatch: ts(c.DispatchDeadline), Dispose: ts(c.DisposeDeadline),
			Check: ts(c.CheckDeadline), Close: ts(c.CloseDeadline), Stages: stagesToProto(c.StageDeadlines),
		},
		Counters: &caseflowv1.CaseCounters{
			Rework: int32(c.ReworkCount), Return: int32(c.ReturnCount), Extension: int32(c.ExtensionCount),
			Hang: int32(c.HangCount), Reminder: int32(c.ReminderCount), HangSeconds: c.HangSeconds,
		},
		Flags:   &caseflowv1.CaseFlags{Overdue: c.Overdue, Supervised: c.Supervised, SelfHandled: c.SelfHandled},
		Urgency: c.Urgency, MergedInto: c.MergedInto, MergedFrom: mergedFrom, Attachments: s.Attachments,
	}
	if s.Lon != nil && s.Lat != nil {
		ev.StepLon, ev.StepLat = *s.Lon, *s.Lat
	}
	return ev
}

// stagesToProto maps staged deadlines to the API.
func stagesToProto(ss []StageDeadline) []*caseflowv1.StageDeadline {
	out := make([]*caseflowv1.StageDeadline, len(ss))
	for i, s := range ss {
		out[i] = &caseflowv1.StageDeadline{Stage: s.Stage, Due: timestamppb.New(s.Due)}
	}
	return out
}

// StagesToProto maps staged deadlines to the API.
func StagesToProto(ss []StageDeadline) []*caseflowv1.StageDeadline { return stagesToProto(ss) }

// ProtoState maps a state to the API enum (UNSPECIFIED for "").
func ProtoState(s State) caseflowv1.CaseState {
	return caseflowv1.CaseState(caseflowv1.CaseState_value["CASE_STATE_"+strings.ToUpper(string(s))])
}

// ProtoOperation maps an operation to the API enum.
func ProtoOperation(op Operation) caseflowv1.CaseOperation {
	return caseflowv1.CaseOperation(caseflowv1.CaseOperation_value["CASE_OPERATION_"+strings.ToUpper(string(op))])
}

// newUUID returns a random (version 4) UUID for an event id.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// Get returns a case of the viewer's tenant.
func (u *Usecase) Get(ctx context.Context, number string) (*Case, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	c, err := u.repo.Get(ctx, number)
	if err != nil {
		return nil, fmt.Errorf("caseflow get %s: %w", number, err)
	}
	if err := u.visible(ctx, v, c); err != nil {
		return nil, err
	}
	return present(v, c), nil
}

// Timeline returns a case's steps, oldest first.
func (u *Usecase) Timeline(ctx context.Context, number string) ([]*Step, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	c, err := u.repo.Get(ctx, number)
	if err != nil {
		return nil, fmt.Errorf("caseflow timeline %s: %w", number, err)
	}
	if err := u.visible(ctx, v, c); err != nil {
		return nil, err
	}
	steps, err := u.repo.Steps(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("caseflow timeline %s: %w", number, err)
	}
	if !seesPhones(v) {
		for _, s := range steps {
			if p, ok := s.Detail["reporter_phone"]; ok {
				s.Detail["reporter_phone"] = MaskPhone(p)
			}
		}
	}
	return steps, nil
}

// Events returns the viewer's tenant's events after seq, oldest first.
func (u *Usecase) Events(ctx context.Context, after int64, limit int) ([]*Event, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	evs, err := u.events.List(ctx, v.TenantID, after, limit)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		e.Data = WithSequence(e.Data, e.Seq)
	}
	return evs, nil
}

// seesPhones reports whether the viewer may read reporters' phone numbers:
// the posts that call reporters back (受理员, 值班长), leaders and tenant
// admins. Everyone else works the case without them.
func seesPhones(v *viewer.Viewer) bool {
	return v.HasRole(viewer.RoleIntake) || v.HasRole(viewer.RoleShiftLeader) ||
		v.HasRole(viewer.RoleLeader) || v.HasRole(viewer.RoleTenantAdmin)
}

// present returns c as the viewer may see it.
func present(v *viewer.Viewer, c *Case) *Case {
	if c == nil || seesPhones(v) || c.ReporterPhone == "" {
		return c
	}
	cp := c.clone()
	cp.ReporterPhone = MaskPhone(c.ReporterPhone)
	return cp
}

// MaskPhone keeps the first three and last four digits of a phone number
// (138****5678), enough to tell callers apart; shorter numbers keep only
// their last two.
func MaskPhone(p string) string {
	r := []rune(p)
	keepHead, keepTail := 3, 4
	if len(r) < 11 {
		keepHead, keepTail = 0, min(2, len(r))
	}
	for i := keepHead; i < len(r)-keepTail; i++ {
		r[i] = '*'
	}
	return string(r)
}
