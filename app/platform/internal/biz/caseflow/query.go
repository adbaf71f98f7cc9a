package caseflow

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// Filter selects cases; zero fields match everything.
type Filter struct {
	Number                                            string
	States                                            []State
	ClassCode                                         string
	GridCode, CommunityCode, StreetCode, DistrictCode string
	DepartmentCode                                    string // primary or co-handling
	Source                                            Source
	Urgency                                           string
	OverdueOnly, SupervisedOnly, OpenOnly             bool
	ReportedFrom, ReportedTo                          *time.Time
}

// Order is the order of a listing and the column its keyset runs on.
type Order string

// Orders: newest report first for searches; the stage deadline first for
// work queues, so the most urgent case is on top (cases without the
// deadline last).
const (
	OrderNewest           Order = "reported_desc"
	OrderVerifyDeadline   Order = "verify_deadline"
	OrderDispatchDeadline Order = "dispatch_deadline"
	OrderDisposeDeadline  Order = "dispose_deadline"
	OrderCheckDeadline    Order = "check_deadline"
	OrderCloseDeadline    Order = "close_deadline"
	OrderUpdated          Order = "updated_asc"
)

// Cursor is the keyset position after the last row of a page: the order
// column's value (nil when the row had none) and the row id.
type Cursor struct {
	Key *time.Time
	ID  int
}

// Query is one page of a listing.
type Query struct {
	Filter
	Order Order
	After *Cursor
	Limit int
}

// NearQuery asks storage for cases of a class in a box.
type NearQuery struct {
	ClassCode                      string
	MinLon, MaxLon, MinLat, MaxLat float64
	Since                          time.Time
	States                         []State
	Limit                          int
}

// Counts are the sizes of a filter's result.
type Counts struct {
	ByState             map[State]int64
	Total               int64
	Overdue, Supervised int64
}

// Queue is a post's work queue.
type Queue string

// Work queues (待办).
const (
	QueueVerify      Queue = "verify"
	QueueFile        Queue = "file"
	QueueDispatch    Queue = "dispatch"
	QueueApprovals   Queue = "approvals"
	QueueDepartment  Queue = "department"
	QueueAssignCheck Queue = "assign_check"
	QueueCheck       Queue = "check"
	QueueClose       Queue = "close"
	QueueOverdue     Queue = "overdue"
	QueueSupervised  Queue = "supervised"
	QueueHung        Queue = "hung"
)

// queueSpec says what a queue holds, in which order, and for which posts.
type queueSpec struct {
	states []State
	order  Order
	posts  []string
	flag   func(*Filter)
}

var centerPosts = []string{viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleLeader, viewer.RoleInspector}

var queues = map[Queue]queueSpec{
	QueueVerify:      {states: []State{StateVerifyPending}, order: OrderVerifyDeadline, posts: []string{viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader}},
	QueueFile:        {states: []State{StateReported, StateSelfHandled}, order: OrderNewest, posts: []string{viewer.RoleShiftLeader, viewer.RoleIntake}},
	QueueDispatch:    {states: []State{StateFiled}, order: OrderDispatchDeadline, posts: []string{viewer.RoleDispatcher, viewer.RoleShiftLeader}},
	QueueApprovals:   {states: []State{StateReturnPending, StateDelayPending, StateHangPending, StateVoidPending}, order: OrderUpdated, posts: []string{viewer.RoleDispatcher, viewer.RoleShiftLeader}},
	QueueDepartment:  {states: []State{StateDispatched, StateInDisposal, StateReturnPending, StateDelayPending, StateHangPending, StateHung}, order: OrderDisposeDeadline, posts: []string{viewer.RoleHandler}},
	QueueAssignCheck: {states: []State{StateFeedback}, order: OrderUpdated, posts: []string{viewer.RoleIntake, viewer.RoleShiftLeader}},
	QueueCheck:       {states: []State{StateCheckPending}, order: OrderCheckDeadline, posts: []string{viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader}},
	QueueClose:       {states: []State{StateClosePending}, order: OrderCloseDeadline, posts: []string{viewer.RoleShiftLeader}},
	QueueOverdue:     {order: OrderDisposeDeadline, posts: append([]string{viewer.RoleHandler}, centerPosts...), flag: func(f *Filter) { f.OverdueOnly, f.OpenOnly = true, true }},
	QueueSupervised:  {order: OrderDisposeDeadline, posts: append([]string{viewer.RoleHandler}, centerPosts...), flag: func(f *Filter) { f.SupervisedOnly, f.OpenOnly = true, true }},
	QueueHung:        {states: []State{StateHung}, order: OrderUpdated, posts: []string{viewer.RoleDispatcher, viewer.RoleShiftLeader, viewer.RoleLeader, viewer.RoleHandler}},
}

// AllQueues lists the work queues in the order of the API enum.
func AllQueues() []Queue {
	return []Queue{QueueVerify, QueueFile, QueueDispatch, QueueApprovals, QueueDepartment, QueueAssignCheck,
		QueueCheck, QueueClose, QueueOverdue, QueueSupervised, QueueHung}
}

// DefaultPageSize and MaxPageSize bound a page of cases.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// deskOnly reports whether the viewer works at a department's desk only
// (处置人员 without a center post): such a viewer sees only the cases of its
// own department, as primary or co-handler.
func deskOnly(v *viewer.Viewer) bool {
	if !v.HasRole(viewer.RoleHandler) || v.IsSystem() {
		return false
	}
	for _, r := range []string{viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher,
		viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, viewer.RoleOverseer} {
		if v.HasRole(r) {
			return false
		}
	}
	return true
}

// ownDepartment returns the code of the viewer's department.
func (u *Usecase) ownDepartment(ctx context.Context, v *viewer.Viewer) (string, error) {
	refuse := invalid("department", "您的账号未归属任何责任单位", "your account belongs to no department")
	if v.DepartmentID == 0 {
		return "", refuse
	}
	code, err := u.deps.CodeByID(ctx, v.DepartmentID)
	if err != nil {
		if errorsv1.IsNotFound(err) {
			return "", refuse
		}
		return "", err
	}
	if code == "" {
		return "", refuse
	}
	return code, nil
}

// scopeFilter narrows f to what the viewer may see.
func (u *Usecase) scopeFilter(ctx context.Context, v *viewer.Viewer, f *Filter) error {
	if !deskOnly(v) {
		return nil
	}
	code, err := u.ownDepartment(ctx, v)
	if err != nil {
		return err
	}
	if f.DepartmentCode != "" && f.DepartmentCode != code {
		// Another department's cases do not exist for a desk.
		f.Number = "\x00none"
	}
	f.DepartmentCode = code
	return nil
}

// visible checks that a desk-only viewer's department handles c; others
// see every case of their tenant.
func (u *Usecase) visible(ctx context.Context, v *viewer.Viewer, c *Case) error {
	if !deskOnly(v) {
		return nil
	}
	code, err := u.ownDepartment(ctx, v)
	if err != nil {
		return err
	}
	if c.PrimaryDepartmentCode == code || slices.Contains(c.CoDepartmentCodes, code) {
		return nil
	}
	return CaseNotFound(c.Number)
}

// Page is one page of cases.
type Page struct {
	Cases []*Case
	Next  string
}

// Search lists cases matching f, newest report first.
func (u *Usecase) Search(ctx context.Context, f Filter, pageSize int, token string) (*Page, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	if err := u.scopeFilter(ctx, v, &f); err != nil {
		return nil, err
	}
	return u.page(ctx, v, Query{Filter: f, Order: OrderNewest}, pageSize, token)
}

// WorkQueue lists one work queue of the viewer's posts, most urgent first.
func (u *Usecase) WorkQueue(ctx context.Context, q Queue, pageSize int, token string) (*Page, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	f, order, err := u.queueFilter(ctx, v, q)
	if err != nil {
		return nil, err
	}
	return u.page(ctx, v, Query{Filter: f, Order: order}, pageSize, token)
}

func (u *Usecase) queueFilter(ctx context.Context, v *viewer.Viewer, q Queue) (Filter, Order, error) {
	spec, ok := queues[q]
	if !ok {
		return Filter{}, "", invalid("queue", "未知的待办队列", fmt.Sprintf("unknown work queue %q", q))
	}
	if !slices.ContainsFunc(spec.posts, v.HasRole) && !v.HasRole(viewer.RoleTenantAdmin) {
		return Filter{}, "", PostNotAllowed(Operation("queue:"+string(q)), spec.posts)
	}
	f := Filter{States: spec.states}
	if spec.flag != nil {
		spec.flag(&f)
	}
	if q == QueueDepartment {
		code, err := u.ownDepartment(ctx, v)
		if err != nil {
			return Filter{}, "", err
		}
		f.DepartmentCode = code
	} else if err := u.scopeFilter(ctx, v, &f); err != nil {
		return Filter{}, "", err
	}
	return f, spec.order, nil
}

func (u *Usecase) page(ctx context.Context, v *viewer.Viewer, q Query, pageSize int, token string) (*Page, error) {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	q.Limit = min(pageSize, MaxPageSize)
	if token != "" {
		after, err := decodeCursor(token, q.Order)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	rows, err := u.repo.Search(ctx, q, q.Limit+1)
	if err != nil {
		return nil, fmt.Errorf("search cases: %w", err)
	}
	p := &Page{}
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		p.Next = encodeCursor(q.Order, Cursor{Key: orderKey(last, q.Order), ID: last.ID})
	}
	p.Cases = make([]*Case, len(rows))
	for i, c := range rows {
		p.Cases[i] = present(v, c)
	}
	return p, nil
}

// orderKey is the value of c's order column.
func orderKey(c *Case, o Order) *time.Time {
	switch o {
	case OrderVerifyDeadline:
		return c.VerifyDeadline
	case OrderDispatchDeadline:
		return c.DispatchDeadline
	case OrderDisposeDeadline:
		return c.DisposeDeadline
	case OrderCheckDeadline:
		return c.CheckDeadline
	case OrderCloseDeadline:
		return c.CloseDeadline
	case OrderUpdated:
		t := c.UpdatedAt
		return &t
	default:
		return c.ReportedAt
	}
}

// A page token is the order, the key in Unix microseconds ("-" for none)
// and the id, base64url-encoded; a token of another order or a forged one
// answers INVALID_ARGUMENT.
func encodeCursor(o Order, c Cursor) string {
	key := "-"
	if c.Key != nil {
		key = strconv.FormatInt(c.Key.UnixMicro(), 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(string(o) + "|" + key + "|" + strconv.Itoa(c.ID)))
}

func decodeCursor(token string, o Order) (*Cursor, error) {
	bad := invalid("page_token", "分页标记无效，请从第一页重新查询", "the page token is not valid here; start again from the first page")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || Order(parts[0]) != o {
		return nil, bad
	}
	id, err := strconv.Atoi(parts[2])
	if err != nil || id <= 0 {
		return nil, bad
	}
	c := &Cursor{ID: id}
	if parts[1] != "-" {
		us, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return nil, bad
		}
		t := time.UnixMicro(us).UTC()
		c.Key = &t
	}
	return c, nil
}

// QueueCount is the size of one work queue.
type QueueCount struct {
	Queue Queue
	Count int64
}

// Count counts the cases f matches by state, and the sizes of the
// viewer's work queues.
func (u *Usecase) Count(ctx context.Context, f Filter) (*Counts, []QueueCount, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := u.scopeFilter(ctx, v, &f); err != nil {
		return nil, nil, err
	}
	counts, err := u.repo.Count(ctx, f)
	if err != nil {
		return nil, nil, fmt.Errorf("count cases: %w", err)
	}
	var qs []QueueCount
	for _, q := range AllQueues() {
		spec := queues[q]
		if !slices.ContainsFunc(spec.posts, v.HasRole) {
			continue
		}
		qf, _, err := u.queueFilter(ctx, v, q)
		if err != nil {
			if errorsv1.IsInvalidArgument(err) {
				continue // a handler without a department has no desk queue
			}
			return nil, nil, err
		}
		c, err := u.repo.Count(ctx, qf)
		if err != nil {
			return nil, nil, fmt.Errorf("count queue %s: %w", q, err)
		}
		qs = append(qs, QueueCount{Queue: q, Count: c.Total})
	}
	return counts, qs, nil
}

// Allowed returns the operations the viewer's posts allow on c.
func (u *Usecase) Allowed(ctx context.Context, c *Case) []Operation {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return nil
	}
	return u.machine.Allowed(c.State, v.Roles)
}
