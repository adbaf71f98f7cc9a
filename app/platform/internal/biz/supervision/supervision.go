// Package supervision follows up on late work in the case loop (DOMAIN §4.3,
// §4.4 "cross-cutting events"): a scheduler watches every running stage
// clock and sends 催办 (a reminder before the disposal deadline), marks 超期
// (a deadline passed), raises 督办 (a supervision order with its own
// deadline) when a case stays overdue, and escalates along the
// responsibility chain of the case's grid (责任链, e.g. the 路长 levels).
// Leaders raise, and departments answer, 督办 by hand; everyone reads the
// notifications addressed to their login, department or post.
//
// Every change to a case goes through caseflow's Mark, so it bumps the
// case's version and lands on the timeline and in the tenant event log;
// the notifications and orders it causes are written in the same
// transaction (Mark joins the caller's InTx).
package supervision

import (
	"context"
	"strconv"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Origin is who raised a supervision order.
type Origin string

// Origins.
const (
	OriginAuto     Origin = "auto"
	OriginManual   Origin = "manual"
	OriginUpstream Origin = "upstream"
)

// OrderState is where a supervision order stands.
type OrderState string

// Order states.
const (
	OrderOpen     OrderState = "open"
	OrderAnswered OrderState = "answered"
	OrderClosed   OrderState = "closed"
)

// Order is a supervision order (督办单).
type Order struct {
	ID              int
	TenantID        int
	CaseID          int
	CaseNumber      string
	Origin          Origin
	RaisedBy        string
	RaisedByName    string
	Reason          string
	Deadline        *time.Time
	RequireFeedback bool
	DepartmentCode  string
	State           OrderState
	Feedback        string
	FeedbackBy      string
	FeedbackAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// RecipientKind is whom a notification is addressed to.
type RecipientKind string

// Recipient kinds.
const (
	ToDepartment RecipientKind = "department"
	ToUser       RecipientKind = "user"
	ToRole       RecipientKind = "role"
)

// Recipient is one address of an inbox: a department code, a login or a
// role name.
type Recipient struct {
	Kind RecipientKind
	Name string
}

// NotificationKind is why a notification was sent.
type NotificationKind string

// Notification kinds.
const (
	KindRemind    NotificationKind = "remind"
	KindOverdue   NotificationKind = "overdue"
	KindSupervise NotificationKind = "supervise"
	KindEscalate  NotificationKind = "escalate"
	KindDispatch  NotificationKind = "dispatch"
)

// Notification is one message of an inbox.
type Notification struct {
	ID         int
	TenantID   int
	To         Recipient
	CaseNumber string
	Kind       NotificationKind
	Level      int
	MessageZH  string
	MessageEN  string
	CreatedAt  time.Time
	ReadAt     *time.Time
}

// ScopeKind is the extent of a responsibility chain.
type ScopeKind string

// Scope kinds, widest first.
const (
	ScopeTenant   ScopeKind = "tenant"
	ScopeStreet   ScopeKind = "street"
	ScopeWorkGrid ScopeKind = "work_grid"
)

// Scope names where a chain applies. The tenant scope's Code is "" in
// storage (the API shows the tenant's code).
type Scope struct {
	Kind ScopeKind
	Code string
}

// Level is one rung of a responsibility chain.
type Level struct {
	Level                int
	NameZH               string
	AfterMinutes         int
	NotifyDepartmentCode string
	NotifyLogins         []string
	RaiseSupervision     bool
}

// Chain is the levels of one scope, by level.
type Chain struct {
	Scope     Scope
	Levels    []Level
	UpdatedAt time.Time
}

// Lease is a named, expiring claim on singleton work.
type Lease struct {
	Name      string
	Holder    string
	ExpiresAt time.Time
	// Fencing grows by one at every change of holder.
	Fencing int64
}

// ScanQuery selects one page of the cases whose running stage clock may
// need attention at Now: those in a state with a running clock whose
// deadline is at most Now (the disposal deadline: at most Now+RemindBefore),
// with ID > AfterID, by ID.
type ScanQuery struct {
	AfterID      int
	Limit        int
	Now          time.Time
	RemindBefore time.Duration
}

// OrderFilter selects orders; the zero value selects all, newest first.
type OrderFilter struct {
	State          OrderState
	CaseNumber     string
	CaseID         int
	DepartmentCode string
	// BeforeID continues a listing below this id (keyset pagination).
	BeforeID int
	Limit    int
}

// NotificationFilter selects notifications of an inbox, newest first.
type NotificationFilter struct {
	To         []Recipient
	UnreadOnly bool
	CaseNumber string
	BeforeID   int
	Limit      int
}

// Repo stores what supervision reads and writes in the viewer's tenant.
// Every method takes part in the transaction carried by ctx.
type Repo interface {
	// ScanClocks returns one page of candidate cases (see ScanQuery).
	ScanClocks(ctx context.Context, q ScanQuery) ([]*caseflow.Case, error)

	// CreateOrder inserts o and returns it with its id.
	CreateOrder(ctx context.Context, o *Order) (*Order, error)
	// GetOrder loads an order: SUPERVISION_ORDER_NOT_FOUND when none.
	GetOrder(ctx context.Context, id int) (*Order, error)
	// UpdateOrder writes o's state and feedback where the stored state is
	// still from: SUPERVISION_ORDER_NOT_OPEN when it is not.
	UpdateOrder(ctx context.Context, o *Order, from OrderState) error
	// ListOrders returns orders matching f, newest first.
	ListOrders(ctx context.Context, f OrderFilter) ([]*Order, error)

	// Notify stores notifications.
	Notify(ctx context.Context, ns []*Notification) error
	// ListNotifications returns notifications matching f, newest first.
	ListNotifications(ctx context.Context, f NotificationFilter) ([]*Notification, error)
	// CountUnread counts the unread notifications addressed to to.
	CountUnread(ctx context.Context, to []Recipient) (int, error)
	// MarkRead sets read_at on the unread notifications addressed to to:
	// those of ids, or all when ids is nil. It returns how many it marked.
	MarkRead(ctx context.Context, to []Recipient, ids []int, at time.Time) (int, error)

	// Chains returns every chain of the tenant, by scope.
	Chains(ctx context.Context) ([]*Chain, error)
	// ReplaceChain makes the levels of scope equal to levels.
	ReplaceChain(ctx context.Context, scope Scope, levels []Level, at time.Time) error
	// ResponsibilityGrids returns the unit grid codes of the responsibility
	// grids among codes, by grid code; codes that name none are absent.
	ResponsibilityGrids(ctx context.Context, codes []string) (map[string][]string, error)
	// DepartmentCode returns the code of a department, "" when none.
	DepartmentCode(ctx context.Context, id int) (string, error)
	// MissingDepartments returns those of codes that name no active
	// department.
	MissingDepartments(ctx context.Context, codes []string) ([]string, error)
}

// LeaseRepo keeps the leases of singleton work. It acts as the platform
// itself whatever the viewer of ctx.
type LeaseRepo interface {
	// TryAcquire takes the lease name for holder until now+ttl when it is
	// free, expired or already holder's (a renewal), race-free against
	// other replicas. It returns the lease as stored afterwards and whether
	// holder has it.
	TryAcquire(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (*Lease, bool, error)
	// Release gives the lease up if holder has it, so another replica can
	// take over at once.
	Release(ctx context.Context, name, holder string, now time.Time) error
}

// Cases is the case loop as supervision uses it (*caseflow.Usecase).
type Cases interface {
	// Get returns a case of the viewer's tenant.
	Get(ctx context.Context, number string) (*caseflow.Case, error)
	// Mark records a mark on a case (see caseflow.Usecase.Mark).
	Mark(ctx context.Context, number string, op caseflow.Operation, post string, in caseflow.Input, change func(c *caseflow.Case) (map[string]string, error)) (*caseflow.Case, error)
}

// Tenants resolves tenants (*tenant.Usecase).
type Tenants interface {
	// Scope resolves the tenant of a tenant-scoped call and answers
	// TENANT_NOT_FOUND or TENANT_SUSPENDED.
	Scope(ctx context.Context, code string) (*tenant.Tenant, error)
	// List returns one page of tenants.
	List(ctx context.Context, in tenant.ListInput) ([]*tenant.Tenant, string, error)
}

// Transaction runs fn in one database transaction carried by its context.
// It must be the one the caseflow use case runs in (the same
// *database.DB), so that Mark joins it.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// OrderNotFound is the error of an order the tenant does not have.
func OrderNotFound(id int) error {
	return supervisionv1.ErrorSupervisionOrderNotFound("supervision order %d does not exist", id).
		WithMetadata(map[string]string{"id": itoa(id)})
}

// OrderNotOpen is the error of an operation the order's state refuses.
func OrderNotOpen(id int, state OrderState, operation string) error {
	return supervisionv1.ErrorSupervisionOrderNotOpen("supervision order %d is %s; cannot %s", id, state, operation).
		WithMetadata(map[string]string{"id": itoa(id), "state": string(state), "operation": operation})
}

// invalid builds INVALID_ARGUMENT about one field with a bilingual detail.
func invalid(field, zh, en string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// chainInvalid builds ESCALATION_CHAIN_INVALID with a bilingual detail.
func chainInvalid(field, zh, en string) error {
	return supervisionv1.ErrorEscalationChainInvalid("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
