package federation

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// OversightDeps are what the oversight use cases need.
type OversightDeps struct {
	Store   Store
	Tenants Tenants
	Tx      Transaction
	// Events is the tenant event log AnswerCommand appends to.
	Events EventLog
	// Kick, when set, is called after a command was issued (Publisher.Kick)
	// so it leaves without waiting for the next poll.
	Kick func()
}

// OversightConfig tunes the use cases. The zero value is usable.
type OversightConfig struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Oversight is what people do with federation: look at their
// descendants through the federated store, send commands down, and
// answer the commands they received.
type Oversight struct {
	d   OversightDeps
	now func() time.Time
}

// NewOversight returns the oversight use cases.
func NewOversight(d OversightDeps, cfg OversightConfig) *Oversight {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Oversight{d: d, now: func() time.Time { return cfg.Now().UTC().Truncate(time.Microsecond) }}
}

// Page sizes of the listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// scope is where a call reads: the home tenant's federated store (home is
// the caller's own tenant), limited to the subtree of the tenant looked at.
type scope struct {
	ctx    context.Context // acting in home
	v      *viewer.Viewer  // the caller
	home   *tenant.Tenant
	target *tenant.Tenant
	// sources are the senders in view; nil: every sender of home's store
	// (all of them are home's descendants: the inbound checks saw to it).
	sources []string
}

// in reports whether code is a sender in view.
func (s *scope) in(code string) bool { return s.sources == nil || slices.Contains(s.sources, code) }

// resolve works out the scope of a call about tenant code. The caller acts
// in code (the access middleware checked its roles there): its own tenant,
// or a descendant of its home tenant for an overseer. Either way it reads
// its home tenant's store — oversight never reads a child's tables.
func (u *Oversight) resolve(ctx context.Context, code string) (*scope, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return nil, errorsv1.ErrorUnauthenticated("no viewer")
	}
	target, ok := tenant.FromContext(ctx)
	if !ok || target.Code != code {
		var err error
		if target, err = u.d.Tenants.GetByCode(viewer.SystemContext(ctx, "oversight: resolve tenant"), code); err != nil {
			return nil, err
		}
	}
	home := target
	switch {
	case v.IsSystem():
	case v.TenantID != target.ID:
		return nil, tenant.NotFound(code)
	case v.HomeTenantID != 0 && v.HomeTenantID != target.ID:
		h, err := u.d.Tenants.GetByCode(viewer.SystemContext(ctx, "oversight: resolve home"), v.HomeTenantCode)
		if err != nil || h.ID != v.HomeTenantID || !isDescendant(target, h) {
			return nil, tenant.NotFound(code)
		}
		home = h
	}
	s := &scope{v: v, home: home, target: target}
	if v.IsSystem() {
		s.ctx = actingIn(ctx, home, "oversight")
	} else {
		hv := *v
		hv.TenantID, hv.TenantCode, hv.TenantPath = home.ID, home.Code, home.Path
		s.ctx = viewer.NewContext(ctx, &hv)
	}
	if home.ID != target.ID {
		tree, err := u.d.Tenants.Subtree(viewer.SystemContext(ctx, "oversight: subtree"), target.Path, 0)
		if err != nil {
			return nil, err
		}
		s.sources = make([]string, 0, len(tree))
		for _, t := range tree {
			s.sources = append(s.sources, t.Code)
		}
	}
	return s, nil
}

// CaseSearch is a search of child cases.
type CaseSearch struct {
	TenantCode string
	SourceCode string
	Query      CaseQuery // Sources, After and Limit are set by the use case
	PageSize   int
	PageToken  string
}

// CasePage is one page of child cases.
type CasePage struct {
	Cases []*ChildCase
	Next  string
}

// ListChildCases searches the descendants' cases in view, newest report
// first.
func (u *Oversight) ListChildCases(ctx context.Context, in CaseSearch) (*CasePage, error) {
	s, err := u.resolve(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	q := in.Query
	q.Sources = s.sources
	if in.SourceCode != "" {
		if !s.in(in.SourceCode) {
			return &CasePage{}, nil
		}
		q.Sources = []string{in.SourceCode}
	}
	size := in.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	q.Limit = min(size, MaxPageSize)
	if in.PageToken != "" {
		if q.After, err = decodeCaseToken(in.PageToken); err != nil {
			return nil, err
		}
	}
	limit := q.Limit
	q.Limit++
	rows, err := u.d.Store.SearchCases(s.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("search child cases: %w", err)
	}
	p := &CasePage{Cases: rows}
	if len(rows) > limit {
		p.Cases = rows[:limit]
		last := p.Cases[limit-1]
		p.Next = encodeCaseToken(last)
	}
	return p, nil
}

func encodeCaseToken(c *ChildCase) string {
	var us int64
	if c.ReportedAt != nil {
		us = c.ReportedAt.UnixMicro()
	}
	return base64.RawURLEncoding.EncodeToString([]byte("fc|" + strconv.FormatInt(us, 10) + "|" + strconv.Itoa(c.ID)))
}

func decodeCaseToken(tok string) (*CaseCursor, error) {
	bad := invalid("page_token", "分页标记无效，请从第一页重新查询", "the page token is not valid here; start again from the first page")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != "fc" {
		return nil, bad
	}
	us, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || id <= 0 {
		return nil, bad
	}
	return &CaseCursor{ReportedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// invalid builds INVALID_ARGUMENT about one field with a bilingual detail.
func invalid(field, zh, en string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// ChildCaseNotFound is the error of a child case the caller's store does
// not hold (or that lies outside its view).
func ChildCaseNotFound(source, number string) error {
	return federationv1.ErrorChildCaseNotFound("case %s of tenant %s not found", number, source).
		WithMetadata(map[string]string{"source_code": source, "number": number})
}

// CommandNotFound is the error of a command the tenant does not have.
func CommandNotFound(id string) error {
	return federationv1.ErrorFederationCommandNotFound("command %s not found", id).
		WithMetadata(map[string]string{"command_id": id})
}

// Step is one entry of a child case's timeline: the event and, decoded,
// the case step or the command response it carries.
type Step struct {
	EventID  string
	Type     string
	Seq      int64
	Time     time.Time
	Case     *caseflowv1.CaseEvent
	Response *federationv1.CommandResponse
}

// CaseView is a child case with its timeline and the commands about it.
type CaseView struct {
	Case     *ChildCase
	Timeline []*Step
	Commands []*Command
}

// GetChildCase returns a child case in view with its timeline.
func (u *Oversight) GetChildCase(ctx context.Context, code, source, number string) (*CaseView, error) {
	s, err := u.resolve(ctx, code)
	if err != nil {
		return nil, err
	}
	if !s.in(source) {
		return nil, ChildCaseNotFound(source, number)
	}
	c, err := u.d.Store.GetCase(s.ctx, source, number)
	if err != nil {
		return nil, err
	}
	evs, err := u.d.Store.Timeline(s.ctx, source, number)
	if err != nil {
		return nil, fmt.Errorf("child case timeline: %w", err)
	}
	view := &CaseView{Case: c}
	for _, e := range evs {
		st := &Step{EventID: e.EventID, Type: e.Type, Seq: e.SourceSeq, Time: e.Time}
		switch {
		case strings.HasPrefix(e.Type, TypeCasePrefix):
			var ce caseflowv1.CaseEvent
			if proto.Unmarshal(e.Data, &ce) == nil {
				st.Case = &ce
				if ce.GetOccurredAt() != nil {
					st.Time = ce.GetOccurredAt().AsTime()
				}
			}
		case e.Type == TypeCommandResponse:
			var r federationv1.CommandResponse
			if proto.Unmarshal(e.Data, &r) == nil {
				st.Response = &r
			}
		}
		view.Timeline = append(view.Timeline, st)
	}
	slices.SortStableFunc(view.Timeline, func(a, b *Step) int {
		if a.Seq != b.Seq && a.Seq != 0 && b.Seq != 0 {
			return cmpInt(a.Seq, b.Seq)
		}
		return a.Time.Compare(b.Time)
	})
	cmds, err := u.d.Store.ListCommands(s.ctx, CommandQuery{
		Targets: []string{source}, ExcludeTarget: s.home.Code, CaseNumber: number, Limit: MaxPageSize,
	})
	if err != nil {
		return nil, fmt.Errorf("child case commands: %w", err)
	}
	view.Commands = u.present(s.home, cmds)
	return view, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ChildIndicators are one descendant's indicator values.
type ChildIndicators struct {
	Tenant     *tenant.Tenant
	Indicators []*Indicator
}

// ListChildIndicators returns the indicator values of the descendants in
// view, one entry per descendant that reported any, by code.
func (u *Oversight) ListChildIndicators(ctx context.Context, code, period, source string) ([]*ChildIndicators, error) {
	s, err := u.resolve(ctx, code)
	if err != nil {
		return nil, err
	}
	sources := s.sources
	if source != "" {
		if !s.in(source) {
			return nil, nil
		}
		sources = []string{source}
	}
	rows, err := u.d.Store.Indicators(s.ctx, sources, period)
	if err != nil {
		return nil, fmt.Errorf("child indicators: %w", err)
	}
	tree, err := u.tree(ctx, s.home)
	if err != nil {
		return nil, err
	}
	by := map[string]*ChildIndicators{}
	var out []*ChildIndicators
	for _, r := range rows {
		ci := by[r.SourceCode]
		if ci == nil {
			t := tree[r.SourceCode]
			if t == nil {
				t = &tenant.Tenant{Code: r.SourceCode}
			}
			ci = &ChildIndicators{Tenant: t}
			by[r.SourceCode] = ci
			out = append(out, ci)
		}
		ci.Indicators = append(ci.Indicators, r)
	}
	slices.SortFunc(out, func(a, b *ChildIndicators) int { return strings.Compare(a.Tenant.Code, b.Tenant.Code) })
	return out, nil
}

// tree returns home's descendants by code.
func (u *Oversight) tree(ctx context.Context, home *tenant.Tenant) (map[string]*tenant.Tenant, error) {
	ts, err := u.d.Tenants.Subtree(viewer.SystemContext(ctx, "oversight: subtree"), home.Path, 0)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*tenant.Tenant, len(ts))
	for _, t := range ts {
		if t.ID != home.ID {
			m[t.Code] = t
		}
	}
	return m, nil
}

// ChildFeed is the health of one descendant's feed.
type ChildFeed struct {
	Tenant         *tenant.Tenant
	LastEventAt    *time.Time
	LastReceivedAt *time.Time
	// Lag is now − LastEventAt; negative when nothing arrived yet.
	Lag         time.Duration
	LastSeq     int64
	DeadLetters int64
}

// FeedHealth is the health of the feeds in view.
type FeedHealth struct {
	At         time.Time
	Children   []*ChildFeed
	Connectors []*ConnectorState
}

// GetFeedHealth reports per descendant in view when its feed last
// delivered, its lag and its dead letters, and home's inbound connectors.
func (u *Oversight) GetFeedHealth(ctx context.Context, code string) (*FeedHealth, error) {
	s, err := u.resolve(ctx, code)
	if err != nil {
		return nil, err
	}
	tree, err := u.tree(ctx, s.home)
	if err != nil {
		return nil, err
	}
	stats, err := u.d.Store.FeedStats(s.ctx, s.sources)
	if err != nil {
		return nil, fmt.Errorf("feed stats: %w", err)
	}
	dead, err := u.d.Store.DeadLetterCounts(s.ctx)
	if err != nil {
		return nil, fmt.Errorf("dead letter counts: %w", err)
	}
	conns, err := u.d.Store.Connectors(s.ctx, []Direction{DirectionInbound, DirectionCommandsIn})
	if err != nil {
		return nil, fmt.Errorf("connectors: %w", err)
	}
	now := u.now()
	h := &FeedHealth{At: now, Connectors: conns}
	for c, t := range tree {
		if !s.in(c) {
			continue
		}
		f := &ChildFeed{Tenant: t, Lag: -1, DeadLetters: dead["/tenants/"+c]}
		if st := stats[c]; st != nil {
			ev, rc := st.LastEventAt, st.LastReceivedAt
			f.LastEventAt, f.LastReceivedAt, f.LastSeq = &ev, &rc, st.LastSeq
			f.Lag = max(now.Sub(ev), 0)
		}
		h.Children = append(h.Children, f)
	}
	slices.SortFunc(h.Children, func(a, b *ChildFeed) int { return strings.Compare(a.Tenant.Path, b.Tenant.Path) })
	return h, nil
}

// IssueInput is a command to send down.
type IssueInput struct {
	// TargetCode is the child: a descendant of the caller's home tenant.
	TargetCode string
	Kind       CommandKind
	CaseNumber string
	Reason     string
	Deadline   *time.Time
	Assigned   *federationv1.AssignedCase
}

// IssueCommand stores a command for the outbox to publish (status sent).
func (u *Oversight) IssueCommand(ctx context.Context, in IssueInput) (*Command, error) {
	s, err := u.resolve(ctx, in.TargetCode)
	if err != nil {
		return nil, err
	}
	if s.home.ID == s.target.ID {
		return nil, federationv1.ErrorTargetNotDescendant("%s is not a descendant of %s", s.target.Code, s.home.Code).
			WithMetadata(map[string]string{"target_code": s.target.Code, "issuer_code": s.home.Code})
	}
	now := u.now()
	if err := u.validateIssue(&in, now); err != nil {
		return nil, err
	}
	id, err := newUUID()
	if err != nil {
		return nil, err
	}
	by := s.v.ActorName
	if by == "" {
		by = s.v.Actor()
	}
	cmd := &federationv1.Command{
		CommandId: id, Kind: ProtoKind(in.Kind), IssuerCode: s.home.Code, TargetCode: s.target.Code,
		CaseNumber: in.CaseNumber, Reason: strings.TrimSpace(in.Reason), Assigned: in.Assigned,
		IssuedAt: timestamppb.New(now), IssuedBy: clip(by, 64),
	}
	if in.Deadline != nil {
		cmd.Deadline = timestamppb.New(*in.Deadline)
	}
	payload, err := proto.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	var out *Command
	err = u.d.Tx.InTx(s.ctx, func(ctx context.Context) error {
		if in.Kind != KindAssign {
			// The case must be one the feed delivered from that child.
			if _, err := u.d.Store.GetCase(ctx, s.target.Code, in.CaseNumber); err != nil {
				return err
			}
		}
		c, err := u.d.Store.CreateCommand(ctx, &Command{
			TenantID: s.home.ID, CommandID: id, TargetCode: s.target.Code, Kind: in.Kind, CaseNumber: in.CaseNumber,
			Reason: cmd.Reason, Deadline: in.Deadline, Status: StatusSent, CreatedBy: cmd.IssuedBy, Payload: payload,
			CreatedAt: now, UpdatedAt: now,
		})
		out = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("issue command to %s: %w", s.target.Code, err)
	}
	if u.d.Kick != nil {
		u.d.Kick()
	}
	return u.present(s.home, []*Command{out})[0], nil
}

func (u *Oversight) validateIssue(in *IssueInput, now time.Time) error {
	if strings.TrimSpace(in.Reason) == "" {
		return invalid("reason", "须填写指令事由", "a command needs a reason")
	}
	if in.Deadline != nil {
		d := in.Deadline.UTC().Truncate(time.Microsecond)
		in.Deadline = &d
		if !d.After(now) {
			return invalid("deadline", "时限须晚于当前时间", "the deadline must lie in the future")
		}
	}
	switch in.Kind {
	case KindSupervise, KindFeedbackRequest:
		if in.CaseNumber == "" {
			return invalid("case_number", "督办和要求反馈须指明下级案件", "supervise and feedback requests name a child case")
		}
		if in.Deadline == nil {
			return invalid("deadline", "督办和要求反馈须有时限", "supervise and feedback requests need a deadline")
		}
		in.Assigned = nil
	case KindAssign:
		if in.CaseNumber != "" {
			return invalid("case_number", "转办由下级新建案件，不能指明案件编号", "an assignment creates the case at the child; name no case")
		}
		a := in.Assigned
		if a == nil || (strings.TrimSpace(a.GetDescription()) == "" && a.GetClassCode() == "") {
			return invalid("assigned", "转办须给出案件的描述或分类", "an assignment needs the case's description or class")
		}
		if a.GetKind() == caseflowv1.CaseKind_CASE_KIND_UNSPECIFIED {
			return invalid("assigned.kind", "转办须指明部件或事件", "an assignment names the case kind (component or event)")
		}
		if u := a.GetUrgency(); u != "" && u != caseflow.UrgencyNormal && u != caseflow.UrgencyUrgent {
			return invalid("assigned.urgency", "紧急程度须为 normal 或 urgent", "urgency must be normal or urgent")
		}
		if len(a.GetDescription()) > 4000 || len(a.GetAddress()) > 256 || len(a.GetClassCode()) > 16 {
			return invalid("assigned", "转办案件的字段过长", "a field of the assigned case is too long")
		}
	default:
		return invalid("kind", "未知的指令类型", "unknown command kind")
	}
	return nil
}

// ListCommandsInput selects commands.
type ListCommandsInput struct {
	TenantCode string
	// Received lists the commands the tenant received from its ancestors
	// instead of those it issued.
	Received   bool
	Status     CommandStatus // "" all; StatusOverdue: past the deadline unanswered
	CaseNumber string
	PageSize   int
	PageToken  string
}

// ListCommands returns one page of commands, newest first.
func (u *Oversight) ListCommands(ctx context.Context, in ListCommandsInput) ([]*Command, string, error) {
	s, err := u.resolve(ctx, in.TenantCode)
	if err != nil {
		return nil, "", err
	}
	q := CommandQuery{CaseNumber: in.CaseNumber}
	if in.Received {
		if s.home.ID != s.target.ID {
			// What a child received is the child's to show.
			return nil, "", nil
		}
		q.Target = s.home.Code
	} else {
		q.Targets, q.ExcludeTarget = s.sources, s.home.Code
	}
	now := u.now()
	switch in.Status {
	case "":
	case StatusOverdue:
		q.Statuses, q.DeadlineBefore = []CommandStatus{StatusSent, StatusReceived}, &now
	default:
		q.Statuses = []CommandStatus{in.Status}
	}
	size := in.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	if in.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PageToken)
		id, cerr := strconv.Atoi(strings.TrimPrefix(string(raw), "cmd|"))
		if err != nil || cerr != nil || !strings.HasPrefix(string(raw), "cmd|") || id <= 0 {
			return nil, "", invalid("page_token", "分页标记无效，请从第一页重新查询", "the page token is not valid here; start again from the first page")
		}
		q.BeforeID = id
	}
	q.Limit = size + 1
	rows, err := u.d.Store.ListCommands(s.ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("list commands: %w", err)
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = base64.RawURLEncoding.EncodeToString([]byte("cmd|" + strconv.Itoa(rows[size-1].ID)))
	}
	return u.present(s.home, rows), next, nil
}

// present fills what a command shows beyond its row: the issuer and the
// computed overdue status.
func (u *Oversight) present(home *tenant.Tenant, cs []*Command) []*Command {
	now := u.now()
	for _, c := range cs {
		fillIssuer(c, home.Code)
		if (c.Status == StatusSent || c.Status == StatusReceived) && c.Deadline != nil && now.After(*c.Deadline) {
			c.Status = StatusOverdue
		}
	}
	return cs
}

// fillIssuer sets IssuerCode: the holder for issued commands, the payload's
// issuer for received ones.
func fillIssuer(c *Command, holder string) {
	if c.IssuerCode != "" {
		return
	}
	if c.TargetCode != holder {
		c.IssuerCode = holder
		return
	}
	var p federationv1.Command
	if proto.Unmarshal(c.Payload, &p) == nil {
		c.IssuerCode = p.GetIssuerCode()
	}
}

// Assigned returns the case an ASSIGN command carries (from its payload).
func (c *Command) Assigned() *federationv1.AssignedCase {
	var p federationv1.Command
	if c.Kind != KindAssign || proto.Unmarshal(c.Payload, &p) != nil {
		return nil
	}
	return p.GetAssigned()
}

// AnswerCommand records the tenant's answer to a command it received and
// sends it up: ANSWERED, or REJECTED when reject is set.
func (u *Oversight) AnswerCommand(ctx context.Context, code, commandID, response string, reject bool) (*Command, error) {
	s, err := u.resolve(ctx, code)
	if err != nil {
		return nil, err
	}
	if s.home.ID != s.target.ID {
		// Only the child itself answers; an overseer looking at it does
		// not hold its commands.
		return nil, CommandNotFound(commandID)
	}
	response = strings.TrimSpace(response)
	if response == "" {
		return nil, invalid("response", "须填写答复内容", "an answer needs the response")
	}
	if u.d.Events == nil {
		return nil, fmt.Errorf("answer command: no event log")
	}
	now := u.now()
	status := StatusAnswered
	if reject {
		status = StatusRejected
	}
	var out *Command
	err = u.d.Tx.InTx(s.ctx, func(ctx context.Context) error {
		c, err := u.d.Store.GetCommand(ctx, commandID)
		if err != nil {
			return err
		}
		if !c.Received(s.home.Code) {
			return CommandNotFound(commandID)
		}
		if c.Status != StatusReceived {
			return federationv1.ErrorFederationCommandClosed("command %s is %s", commandID, c.Status).
				WithMetadata(map[string]string{"command_id": commandID, "status": string(c.Status)})
		}
		c.Status, c.Response, c.AnsweredAt, c.UpdatedAt = status, clip(response, 2000), &now, now
		if err := u.d.Store.AnswerCommand(ctx, c, StatusReceived); err != nil {
			return err
		}
		out = c
		return appendResponse(ctx, u.d.Events, s.home, c.CommandID, status, c.Response, c.CaseNumber, now)
	})
	if err != nil {
		return nil, fmt.Errorf("answer command %s: %w", commandID, err)
	}
	return u.present(s.home, []*Command{out})[0], nil
}
