package supervision

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Usecase is what people do with supervision: raise, answer and close
// 督办, read their inbox, keep the escalation chains.
type Usecase struct {
	d   Deps
	cfg Config
}

// NewUsecase returns the supervision use cases (Deps.Leases is not used).
func NewUsecase(d Deps, cfg Config) *Usecase {
	cfg.setDefaults()
	return &Usecase{d: d, cfg: cfg}
}

// Page sizes of the listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Posts that may act.
var (
	supervisePosts = []string{viewer.RoleLeader, viewer.RoleShiftLeader}
	answerPosts    = []string{viewer.RoleHandler}
	chainPosts     = []string{viewer.RoleTenantAdmin, viewer.RoleLeader}
)

// Operations named in POST_NOT_ALLOWED for the acts that are not case
// marks.
const (
	opCloseSupervision caseflow.Operation = "close_supervision"
	opSetChain         caseflow.Operation = "set_escalation_chain"
)

func (u *Usecase) now() time.Time { return u.cfg.Now().UTC().Truncate(time.Microsecond) }

// scope resolves the tenant of a call and checks that the viewer acts in
// it; a tenant the viewer does not act in answers TENANT_NOT_FOUND, like
// one that does not exist. A system viewer (cityctl) is narrowed to the
// tenant so that storage, and row-level security, see that tenant only.
func (u *Usecase) scope(ctx context.Context, code string) (context.Context, *viewer.Viewer, *tenant.Tenant, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return nil, nil, nil, errorsv1.ErrorUnauthenticated("no viewer")
	}
	t, err := u.d.Tenants.Scope(ctx, code)
	if err != nil {
		return nil, nil, nil, err
	}
	if v.IsSystem() {
		ctx = ActingIn(ctx, t)
		v, _ = viewer.FromContext(ctx)
		return ctx, v, t, nil
	}
	if v.TenantID != t.ID {
		return nil, nil, nil, tenant.NotFound(code)
	}
	return ctx, v, t, nil
}

func firstPost(v *viewer.Viewer, posts []string) string {
	for _, p := range posts {
		if v.HasRole(p) {
			return p
		}
	}
	return ""
}

// SuperviseInput is a 督办 raised by hand.
type SuperviseInput struct {
	TenantCode      string
	CaseNumber      string
	Reason          string
	Deadline        time.Time
	RequireFeedback bool
}

// Supervise raises a 督办 on a case (leader, shift leader): the order goes
// to the case's department, the case is marked supervised with the order's
// deadline, and whoever answers for the case now is notified.
func (u *Usecase) Supervise(ctx context.Context, in SuperviseInput) (*Order, error) {
	ctx, v, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	post := firstPost(v, supervisePosts)
	if post == "" {
		return nil, caseflow.PostNotAllowed(caseflow.OpSupervise, supervisePosts)
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return nil, invalid("reason", "须填写督办事由", "a supervision needs a reason")
	}
	now := u.now()
	deadline := in.Deadline.UTC().Truncate(time.Microsecond)
	if !deadline.After(now) {
		return nil, supervisionv1.ErrorDeadlineInPast("deadline %s is not after now %s", ts(deadline), ts(now)).
			WithMetadata(map[string]string{"field": "deadline", "deadline": ts(deadline), "now": ts(now)})
	}
	var out *Order
	err = u.d.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := u.d.Cases.Get(ctx, in.CaseNumber)
		if err != nil {
			return err
		}
		if !supervisable(c.State) {
			return caseNotSupervisable(c)
		}
		if in.RequireFeedback && c.PrimaryDepartmentCode == "" {
			return invalid("require_feedback", "案件尚未派遣，没有能反馈的责任单位", "the case is not dispatched yet, so no department could reply")
		}
		o, err := u.d.Repo.CreateOrder(ctx, &Order{
			TenantID: t.ID, CaseID: c.ID, CaseNumber: c.Number, Origin: OriginManual, RaisedBy: v.Actor(),
			RaisedByName: v.ActorName, Reason: reason, Deadline: &deadline, RequireFeedback: in.RequireFeedback,
			DepartmentCode: c.PrimaryDepartmentCode, State: OrderOpen, CreatedAt: now, UpdatedAt: now,
		})
		if err != nil {
			return err
		}
		next, err := u.d.Cases.Mark(ctx, c.Number, caseflow.OpSupervise, post, caseflow.Input{Opinion: reason},
			func(f *caseflow.Case) (map[string]string, error) {
				if !supervisable(f.State) {
					return nil, caseNotSupervisable(f)
				}
				f.Supervised = true
				f.SuperviseDeadline = &deadline
				return map[string]string{
					"order": strconv.Itoa(o.ID), "origin": string(OriginManual), "deadline": ts(deadline),
					"department": o.DepartmentCode, "require_feedback": strconv.FormatBool(in.RequireFeedback),
				}, nil
			})
		if err != nil {
			return err
		}
		if _, err := notify(ctx, u.d.Repo, t.ID, c.Number, caseRecipients(next), KindSupervise, 0,
			superviseMessage(c.Number, truncate(reason, 200), &deadline), now); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("supervise %s: %w", in.CaseNumber, err)
	}
	return out, nil
}

func caseNotSupervisable(c *caseflow.Case) error {
	return supervisionv1.ErrorCaseNotSupervisable("case %s is %s", c.Number, c.State).
		WithMetadata(map[string]string{"number": c.Number, "state": string(c.State)})
}

// Answer records the supervised department's reply (督办反馈) on an open
// order; only a handler of that department may give it. It lands on the
// case's timeline and tells whoever raised the order.
func (u *Usecase) Answer(ctx context.Context, tenantCode string, id int, feedback string) (*Order, error) {
	ctx, v, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	post := firstPost(v, answerPosts)
	if post == "" {
		return nil, caseflow.PostNotAllowed(caseflow.OpSuperviseFeedback, answerPosts)
	}
	feedback = strings.TrimSpace(feedback)
	if feedback == "" {
		return nil, invalid("feedback", "须填写反馈内容", "an answer needs the feedback")
	}
	now := u.now()
	var out *Order
	err = u.d.Tx.InTx(ctx, func(ctx context.Context) error {
		o, err := u.d.Repo.GetOrder(ctx, id)
		if err != nil {
			return err
		}
		if o.State != OrderOpen {
			return OrderNotOpen(id, o.State, "answer")
		}
		dep, err := u.viewerDepartment(ctx, v)
		if err != nil {
			return err
		}
		if dep == "" || dep != o.DepartmentCode {
			return supervisionv1.ErrorNotSupervisedDepartment("order %d supervises %q, not %q", id, o.DepartmentCode, dep).
				WithMetadata(map[string]string{"id": strconv.Itoa(id), "department": o.DepartmentCode})
		}
		o.State, o.Feedback, o.FeedbackBy, o.FeedbackAt, o.UpdatedAt = OrderAnswered, feedback, actorLabel(v), &now, now
		if err := u.d.Repo.UpdateOrder(ctx, o, OrderOpen); err != nil {
			return err
		}
		if _, err := u.d.Cases.Mark(ctx, o.CaseNumber, caseflow.OpSuperviseFeedback, post, caseflow.Input{Opinion: feedback},
			func(*caseflow.Case) (map[string]string, error) {
				return map[string]string{"order": strconv.Itoa(id), "department": dep}, nil
			}); err != nil {
			return err
		}
		if _, err := notify(ctx, u.d.Repo, t.ID, o.CaseNumber, raiserOf(o), KindSupervise, 0,
			answeredMessage(o.CaseNumber, id, dep), now); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("answer supervision order %d: %w", id, err)
	}
	return out, nil
}

// raiserOf is who hears about a reply: the person who raised the order, or
// the shift leaders for the platform's own orders.
func raiserOf(o *Order) []Recipient {
	if o.Origin == OriginManual && o.RaisedByName != "" {
		return []Recipient{{ToUser, o.RaisedByName}}
	}
	return []Recipient{{ToRole, viewer.RoleShiftLeader}}
}

func actorLabel(v *viewer.Viewer) string {
	if v.ActorName != "" {
		return truncate(v.ActorName, 64)
	}
	return v.Actor()
}

// Close ends an order (leader, shift leader). An order that requires
// feedback must have been answered.
func (u *Usecase) Close(ctx context.Context, tenantCode string, id int) (*Order, error) {
	ctx, v, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	if firstPost(v, supervisePosts) == "" {
		return nil, caseflow.PostNotAllowed(opCloseSupervision, supervisePosts)
	}
	now := u.now()
	var out *Order
	err = u.d.Tx.InTx(ctx, func(ctx context.Context) error {
		o, err := u.d.Repo.GetOrder(ctx, id)
		if err != nil {
			return err
		}
		from := o.State
		switch {
		case from == OrderClosed:
			return OrderNotOpen(id, from, "close")
		case from == OrderOpen && o.RequireFeedback:
			return supervisionv1.ErrorSupervisionFeedbackRequired("order %d requires feedback", id).
				WithMetadata(map[string]string{"id": strconv.Itoa(id)})
		}
		o.State, o.UpdatedAt = OrderClosed, now
		if err := u.d.Repo.UpdateOrder(ctx, o, from); err != nil {
			return err
		}
		m := message{
			fmt.Sprintf("督办办结：案件 %s 的督办单 %d 已办结", o.CaseNumber, id),
			fmt.Sprintf("Supervision closed: order %d on case %s is closed", id, o.CaseNumber),
		}
		if _, err := notify(ctx, u.d.Repo, t.ID, o.CaseNumber, []Recipient{{ToDepartment, o.DepartmentCode}}, KindSupervise, 0, m, now); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("close supervision order %d: %w", id, err)
	}
	return out, nil
}

// departmentOnly reports whether the viewer sees only their department's
// orders: a handler without any other post.
func departmentOnly(v *viewer.Viewer) bool {
	if !v.HasRole(viewer.RoleHandler) {
		return false
	}
	for _, r := range v.Roles {
		if r != viewer.RoleHandler {
			return false
		}
	}
	return true
}

func (u *Usecase) viewerDepartment(ctx context.Context, v *viewer.Viewer) (string, error) {
	if v.DepartmentID == 0 {
		return "", nil
	}
	return u.d.Repo.DepartmentCode(ctx, v.DepartmentID)
}

// GetOrder returns one order; a handler sees only their department's.
func (u *Usecase) GetOrder(ctx context.Context, tenantCode string, id int) (*Order, error) {
	ctx, v, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	o, err := u.d.Repo.GetOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	if departmentOnly(v) {
		dep, err := u.viewerDepartment(ctx, v)
		if err != nil {
			return nil, err
		}
		if dep == "" || dep != o.DepartmentCode {
			return nil, OrderNotFound(id)
		}
	}
	return o, nil
}

// ListOrdersInput is one page request of orders.
type ListOrdersInput struct {
	TenantCode     string
	State          OrderState
	CaseNumber     string
	DepartmentCode string
	PageSize       int
	PageToken      string
}

// ListOrders returns one page of orders, newest first, and the next page's
// token ("" on the last page). A handler sees their department's only.
func (u *Usecase) ListOrders(ctx context.Context, in ListOrdersInput) ([]*Order, string, error) {
	ctx, v, _, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, "", err
	}
	size, before, err := page(in.PageSize, in.PageToken, "o:")
	if err != nil {
		return nil, "", err
	}
	f := OrderFilter{State: in.State, CaseNumber: in.CaseNumber, DepartmentCode: in.DepartmentCode, BeforeID: before, Limit: size + 1}
	if departmentOnly(v) {
		dep, err := u.viewerDepartment(ctx, v)
		if err != nil {
			return nil, "", err
		}
		if dep == "" || (f.DepartmentCode != "" && f.DepartmentCode != dep) {
			return []*Order{}, "", nil
		}
		f.DepartmentCode = dep
	}
	rows, err := u.d.Repo.ListOrders(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = token("o:", rows[size-1].ID)
	}
	return rows, next, nil
}

func page(size int, tok, prefix string) (int, int, error) {
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	if tok == "" {
		return size, 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	id, perr := strconv.Atoi(strings.TrimPrefix(string(raw), prefix))
	if err != nil || !strings.HasPrefix(string(raw), prefix) || perr != nil || id <= 0 {
		return 0, 0, invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
	}
	return size, id, nil
}

func token(prefix string, id int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.Itoa(id)))
}

// inbox is every address of the viewer: their login (users), their
// department and their posts.
func (u *Usecase) inbox(ctx context.Context, v *viewer.Viewer) ([]Recipient, error) {
	var to []Recipient
	if v.Kind == viewer.User && v.ActorName != "" {
		to = append(to, Recipient{ToUser, v.ActorName})
	}
	dep, err := u.viewerDepartment(ctx, v)
	if err != nil {
		return nil, err
	}
	if dep != "" {
		to = append(to, Recipient{ToDepartment, dep})
	}
	for _, r := range v.Roles {
		to = append(to, Recipient{ToRole, r})
	}
	return to, nil
}

// ListNotificationsInput is one page request of the viewer's inbox.
type ListNotificationsInput struct {
	TenantCode string
	UnreadOnly bool
	CaseNumber string
	PageSize   int
	PageToken  string
}

// Inbox is one page of notifications.
type Inbox struct {
	Notifications []*Notification
	NextPageToken string
	// Unread counts the whole inbox's unread notifications.
	Unread int
}

// Notifications returns one page of the viewer's inbox, newest first: what
// was sent to their login, their department and their posts. A department's
// or a post's notification is shared: one member reading it marks it read
// for all.
func (u *Usecase) Notifications(ctx context.Context, in ListNotificationsInput) (*Inbox, error) {
	ctx, v, _, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	size, before, err := page(in.PageSize, in.PageToken, "n:")
	if err != nil {
		return nil, err
	}
	to, err := u.inbox(ctx, v)
	if err != nil {
		return nil, err
	}
	out := &Inbox{Notifications: []*Notification{}}
	if len(to) == 0 {
		return out, nil
	}
	rows, err := u.d.Repo.ListNotifications(ctx, NotificationFilter{To: to, UnreadOnly: in.UnreadOnly, CaseNumber: in.CaseNumber, BeforeID: before, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	if len(rows) > size {
		rows = rows[:size]
		out.NextPageToken = token("n:", rows[size-1].ID)
	}
	out.Notifications = rows
	if out.Unread, err = u.d.Repo.CountUnread(ctx, to); err != nil {
		return nil, err
	}
	return out, nil
}

// MarkRead marks notifications of the viewer's inbox read: ids, or all of
// them. Ids outside the inbox are ignored. It returns how many it marked.
func (u *Usecase) MarkRead(ctx context.Context, tenantCode string, ids []int, all bool) (int, error) {
	ctx, v, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return 0, err
	}
	if !all && len(ids) == 0 {
		return 0, nil
	}
	if all {
		ids = nil
	}
	to, err := u.inbox(ctx, v)
	if err != nil || len(to) == 0 {
		return 0, err
	}
	return u.d.Repo.MarkRead(ctx, to, ids, u.now())
}

// streetCode is a township code: county 6 + street 3 digits.
var streetCode = regexp.MustCompile(`^[0-9]{9}$`)

// storedScope maps the API's scope to storage's: the tenant scope is named
// by the tenant's code (or "") in the API and by "" in storage.
func storedScope(t *tenant.Tenant, s Scope) (Scope, error) {
	switch s.Kind {
	case ScopeTenant:
		if s.Code != "" && s.Code != t.Code {
			return s, chainInvalid("scope_code", "租户范围的代码须为本租户代码 "+t.Code, "the tenant scope's code must be the tenant's code "+t.Code)
		}
		return Scope{ScopeTenant, ""}, nil
	case ScopeStreet:
		if !streetCode.MatchString(s.Code) {
			return s, chainInvalid("scope_code", "街道代码须为 9 位数字", "a street code has 9 digits")
		}
	case ScopeWorkGrid:
		if s.Code == "" || len(s.Code) > 32 {
			return s, chainInvalid("scope_code", "须填写责任网格代码（至多 32 个字符）", "a responsibility grid code (at most 32 characters) is needed")
		}
	default:
		return s, chainInvalid("scope_kind", "范围须为 tenant、street 或 work_grid", "the scope kind must be tenant, street or work_grid")
	}
	return s, nil
}

// shownScope is storedScope's inverse.
func shownScope(t *tenant.Tenant, s Scope) Scope {
	if s.Kind == ScopeTenant {
		return Scope{ScopeTenant, t.Code}
	}
	return s
}

// SetChain replaces the chain of a scope (tenant admin, leader). Levels are
// unique, with after_minutes not decreasing as the level rises; the
// departments must exist and a work_grid scope must name a responsibility
// grid of the tenant. No levels remove the chain.
func (u *Usecase) SetChain(ctx context.Context, tenantCode string, scope Scope, levels []Level) (*Chain, error) {
	ctx, v, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	if firstPost(v, chainPosts) == "" {
		return nil, caseflow.PostNotAllowed(opSetChain, chainPosts)
	}
	stored, err := storedScope(t, scope)
	if err != nil {
		return nil, err
	}
	levels, err = normalizeLevels(levels)
	if err != nil {
		return nil, err
	}
	now := u.now()
	err = u.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if stored.Kind == ScopeWorkGrid {
			grids, err := u.d.Repo.ResponsibilityGrids(ctx, []string{stored.Code})
			if err != nil {
				return err
			}
			if _, ok := grids[stored.Code]; !ok {
				return supervisionv1.ErrorEscalationScopeNotFound("no responsibility grid %s", stored.Code).
					WithMetadata(map[string]string{"kind": string(stored.Kind), "code": stored.Code})
			}
		}
		var deps []string
		for _, l := range levels {
			if l.NotifyDepartmentCode != "" && !slices.Contains(deps, l.NotifyDepartmentCode) {
				deps = append(deps, l.NotifyDepartmentCode)
			}
		}
		if len(deps) > 0 {
			missing, err := u.d.Repo.MissingDepartments(ctx, deps)
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				list := strings.Join(missing, ",")
				return chainInvalid("notify_department_code", "责任单位不存在或已停用："+list, "no active department "+list)
			}
		}
		return u.d.Repo.ReplaceChain(ctx, stored, levels, now)
	})
	if err != nil {
		return nil, fmt.Errorf("set escalation chain %s/%s: %w", scope.Kind, scope.Code, err)
	}
	return &Chain{Scope: shownScope(t, stored), Levels: levels, UpdatedAt: now}, nil
}

// normalizeLevels checks a chain's levels and returns them by level.
func normalizeLevels(in []Level) ([]Level, error) {
	levels := make([]Level, len(in))
	for i, l := range in {
		l.NameZH = strings.TrimSpace(l.NameZH)
		logins := []string{}
		for _, login := range l.NotifyLogins {
			login = strings.TrimSpace(login)
			if login != "" && !slices.Contains(logins, login) {
				logins = append(logins, login)
			}
		}
		l.NotifyLogins = logins
		field := fmt.Sprintf("levels[%d]", i)
		switch {
		case l.Level < 1:
			return nil, chainInvalid(field+".level", "级别须从 1 起", "levels start at 1")
		case l.NameZH == "" || len(l.NameZH) > 64:
			return nil, chainInvalid(field+".name_zh", "须填写级别名称（至多 64 字节）", "a level needs a name (at most 64 bytes)")
		case l.AfterMinutes < 0:
			return nil, chainInvalid(field+".after_minutes", "超期分钟数不能为负", "after_minutes must not be negative")
		}
		levels[i] = l
	}
	sort.SliceStable(levels, func(i, j int) bool { return levels[i].Level < levels[j].Level })
	for i := 1; i < len(levels); i++ {
		if levels[i].Level == levels[i-1].Level {
			return nil, chainInvalid("levels", fmt.Sprintf("级别 %d 重复", levels[i].Level), fmt.Sprintf("level %d is given twice", levels[i].Level))
		}
		if levels[i].AfterMinutes < levels[i-1].AfterMinutes {
			return nil, chainInvalid("levels", fmt.Sprintf("第 %d 级的超期分钟数小于第 %d 级", levels[i].Level, levels[i-1].Level),
				fmt.Sprintf("level %d has fewer after_minutes than level %d", levels[i].Level, levels[i-1].Level))
		}
	}
	return levels, nil
}

// GetChain returns the chain of a scope; no levels when it has none.
func (u *Usecase) GetChain(ctx context.Context, tenantCode string, scope Scope) (*Chain, error) {
	ctx, _, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	stored, err := storedScope(t, scope)
	if err != nil {
		return nil, err
	}
	chains, err := u.d.Repo.Chains(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range chains {
		if c.Scope == stored {
			c.Scope = shownScope(t, c.Scope)
			return c, nil
		}
	}
	return &Chain{Scope: shownScope(t, stored), Levels: []Level{}}, nil
}

// ListChains returns every chain of the tenant, by scope.
func (u *Usecase) ListChains(ctx context.Context, tenantCode string) ([]*Chain, error) {
	ctx, _, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	chains, err := u.d.Repo.Chains(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range chains {
		c.Scope = shownScope(t, c.Scope)
	}
	return chains, nil
}
