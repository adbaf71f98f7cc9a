// Package federation is the receiving and commanding half of CityOps
// federation (ARCHITECTURE "Federation"): the inbound connectors that
// consume descendants' event feeds into the receiver's federated store, the
// commands an overseer sends down and their outbox, the child's handling of
// the commands it receives, and the oversight views over the federated
// store.
//
// Every event crossing a tenant boundary is a CloudEvent on Kafka
// (app/pkg/cloudevent). A receiver trusts nothing it did not verify: the
// sender must sit in the tenant tree below the receiver (above it, for
// commands), the signature must verify with the sender's registered key,
// the type must be known and the data must decode; anything else lands in
// the dead-letter table with its reason, and the consumer goes on. What
// passes is applied idempotently (deduplicated by event id) in one
// transaction, and the Kafka offset is committed only after that
// transaction committed, so a crash anywhere re-delivers and nothing is
// applied twice.
package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// CloudEvents types this package reads or writes.
const (
	// TypeCasePrefix begins every case event type (cn.cityops.case.<step>.v1).
	TypeCasePrefix = caseflow.EventTypePrefix
	// TypeIndicatorSnapshot is a tenant's indicators at a moment.
	TypeIndicatorSnapshot = "cn.cityops.indicator.snapshot.v1"
	// TypeCommandIssued is a command sent down on the child's commands topic.
	TypeCommandIssued = "cn.cityops.command.issued.v1"
	// TypeCommandResponse is a child's answer, sent up in its events feed.
	TypeCommandResponse = "cn.cityops.command.response.v1"
)

// Reasons of dead letters written by the consumers.
const (
	ReasonForged        = "forged"         // the signature does not verify with the sender's key (or is missing)
	ReasonUnknownSender = "unknown_sender" // the source names no tenant of the tree, or one without a key
	ReasonNotDescendant = "not_descendant" // an event from a tenant that is not below the receiver
	ReasonNotAncestor   = "not_ancestor"   // a command from a tenant that is not above the receiver
	ReasonMalformed     = "malformed"      // the envelope or the data does not decode or disagrees with itself
	ReasonUnknownType   = "unknown_type"   // a type the receiver does not handle
)

// Direction is a connector's direction (the values of the connector table).
type Direction string

// Directions the consumers of this package run.
const (
	DirectionInbound    Direction = "inbound"     // children's events feeds → federated store
	DirectionCommandsIn Direction = "commands_in" // own commands topic → own cases
)

// Event is an event a tenant received and applied (federated_events): a
// descendant's case event, indicator snapshot or command response, or —
// at the child — a command from an ancestor.
type Event struct {
	TenantID   int
	EventID    string
	SourceCode string
	SourceSeq  int64
	Type       string
	Subject    string
	Time       time.Time
	Data       []byte // protobuf, whatever the wire encoding was
	ReceivedAt time.Time
}

// ChildCase is the current state of a descendant's case in the receiver's
// federated store.
type ChildCase struct {
	ID                    int
	TenantID              int
	SourceCode            string
	Number                string
	State                 caseflow.State
	Source                caseflow.Source
	Kind                  caseflow.Kind
	ClassCode             string
	NationalClassCode     string
	Description           string
	Lon, Lat              float64
	Address               string
	GridCode              string
	StreetCode            string
	DistrictCode          string
	AreaClass             string
	Urgency               string
	PrimaryDepartmentCode string
	Overdue, Supervised   bool
	ReportedAt            *time.Time
	DisposeDeadline       *time.Time
	ClosedAt              *time.Time
	Version               int64
	LastSeq               int64
	LastEventAt           time.Time
	Data                  []byte // the last applied cityops.caseflow.v1.CaseEvent
}

// Indicator is a descendant's latest value of one indicator in a period.
type Indicator struct {
	SourceCode string
	Name       string
	Period     string
	Value      float64
	At         time.Time
}

// CommandKind is what an overseer asks of a child.
type CommandKind string

// Command kinds (the values of the federation_commands table).
const (
	KindSupervise       CommandKind = "supervise"        // 督办 on an existing child case
	KindAssign          CommandKind = "assign"           // 转办: a new case for the child
	KindFeedbackRequest CommandKind = "feedback_request" // 要求反馈 on a child case by a deadline
)

// CommandStatus is where a command stands.
type CommandStatus string

// Command statuses. StatusOverdue is never stored: a command past its
// deadline without an answer is shown overdue when read.
const (
	StatusSent     CommandStatus = "sent"
	StatusReceived CommandStatus = "received"
	StatusAnswered CommandStatus = "answered"
	StatusRejected CommandStatus = "rejected"
	StatusOverdue  CommandStatus = "overdue"
)

// rank orders statuses so a late RECEIVED never undoes an ANSWERED.
func (s CommandStatus) rank() int {
	switch s {
	case StatusSent:
		return 0
	case StatusReceived:
		return 1
	case StatusAnswered, StatusRejected:
		return 2
	}
	return -1
}

// Command is a command as a tenant keeps it (federation_commands): one it
// issued (TargetCode is a descendant), or one it received (TargetCode is
// the tenant itself; PublishedAt is then the receipt, so the outbox never
// picks it up).
type Command struct {
	ID          int
	TenantID    int
	TenantCode  string // the row's tenant (filled by Unpublished)
	CommandID   string
	IssuerCode  string // decoded from Payload
	TargetCode  string
	Kind        CommandKind
	CaseNumber  string
	Reason      string
	Deadline    *time.Time
	Status      CommandStatus
	Response    string
	PublishedAt *time.Time
	ReceivedAt  *time.Time
	AnsweredAt  *time.Time
	CreatedBy   string
	Payload     []byte // cityops.federation.v1.Command, protobuf
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Received reports whether the tenant holding c received it (rather than
// issued it).
func (c *Command) Received(ownCode string) bool { return c.TargetCode == ownCode }

// DeadLetter is an event a consumer would not accept.
type DeadLetter struct {
	TenantID  int
	Connector string
	Direction Direction
	EventID   string
	EventType string
	Source    string
	Reason    string
	Detail    string
	Topic     string
	Partition int
	Offset    int64
	Payload   []byte
	Headers   map[string]string
	CreatedAt time.Time
}

// Response is a child's command response as the issuer applies it.
type Response struct {
	CommandID     string
	ResponderCode string
	Status        CommandStatus
	Response      string
	CaseNumber    string
	At            time.Time
}

// CaseQuery selects child cases; zero fields match everything. Sources
// limits the result to those senders (nil: every sender).
type CaseQuery struct {
	Sources                               []string
	Number                                string
	States                                []caseflow.State
	ClassCode                             string
	Kind                                  caseflow.Kind
	GridCode, StreetCode, DistrictCode    string
	Source                                caseflow.Source
	Urgency                               string
	OverdueOnly, SupervisedOnly, OpenOnly bool
	ReportedFrom, ReportedTo              *time.Time
	// After is the keyset position (reported_at descending, id descending).
	After *CaseCursor
	Limit int
}

// CaseCursor is the position after the last row of a page.
type CaseCursor struct {
	ReportedAt time.Time
	ID         int
}

// CommandQuery selects a tenant's commands.
type CommandQuery struct {
	// Targets limits issued commands to these targets; nil: every target.
	Targets []string
	// ExcludeTarget leaves out rows with this target (the tenant's own
	// code, to list issued commands only); Target picks them (received).
	ExcludeTarget string
	Target        string
	Statuses      []CommandStatus
	// DeadlineBefore keeps commands with a deadline before it (overdue).
	DeadlineBefore *time.Time
	CaseNumber     string
	BeforeID       int
	Limit          int
}

// FeedStat is what the federated store knows of one sender's feed.
type FeedStat struct {
	LastEventAt    time.Time
	LastReceivedAt time.Time
	LastSeq        int64
}

// ConnectorState is a connector of the tenant, as feed health shows it.
type ConnectorState struct {
	Name          string
	Direction     string
	Enabled       bool
	LastEventAt   *time.Time
	LastSuccessAt *time.Time
	LastError     string
	Failures      int
}

// Store is the federated store, the commands and the dead letters. Every
// method takes part in the transaction carried by ctx and acts in the
// viewer's tenant (privacy rules and row-level security), except
// Unpublished and MarkPublished, which the outbox calls as the system.
type Store interface {
	// InsertEvent stores e unless the tenant already has its event id;
	// false means it was already applied.
	InsertEvent(ctx context.Context, e *Event) (bool, error)
	// InsertEvents is InsertEvent for several events of the tenant in one
	// statement; it returns the ids of those it stored.
	InsertEvents(ctx context.Context, evs []*Event) (map[string]bool, error)
	// ApplyCase writes c over the stored state of the case when c's version
	// is not older, or inserts it; false means c was older and ignored.
	ApplyCase(ctx context.Context, c *ChildCase) (bool, error)
	// ApplyIndicators stores each value unless a newer one is stored.
	ApplyIndicators(ctx context.Context, tenantID int, in []Indicator) error
	// ApplyResponse moves the tenant's command r.CommandID, issued to
	// r.ResponderCode, forward to r.Status; false when the tenant has no
	// such command (another ancestor's) or it is already further.
	ApplyResponse(ctx context.Context, tenantID int, r *Response) (bool, error)
	// AddDeadLetter stores a refused event.
	AddDeadLetter(ctx context.Context, d *DeadLetter) error

	// CreateCommand inserts c and returns it with its id.
	CreateCommand(ctx context.Context, c *Command) (*Command, error)
	// GetCommand loads one of the tenant's commands by command id:
	// FEDERATION_COMMAND_NOT_FOUND when none.
	GetCommand(ctx context.Context, commandID string) (*Command, error)
	// AnswerCommand stores c's status, response and answer time where the
	// stored status is still from: FEDERATION_COMMAND_CLOSED otherwise.
	AnswerCommand(ctx context.Context, c *Command, from CommandStatus) error
	// ListCommands returns commands matching q, newest (highest id) first.
	ListCommands(ctx context.Context, q CommandQuery) ([]*Command, error)
	// Unpublished returns up to limit issued commands the broker has not
	// acknowledged yet, of every tenant, oldest first, with TenantCode.
	Unpublished(ctx context.Context, limit int) ([]*Command, error)
	// MarkPublished sets published_at on the commands with these row ids.
	MarkPublished(ctx context.Context, ids []int, at time.Time) error

	// SearchCases returns up to q.Limit child cases after q.After.
	SearchCases(ctx context.Context, q CaseQuery) ([]*ChildCase, error)
	// GetCase loads a child case: CHILD_CASE_NOT_FOUND when none.
	GetCase(ctx context.Context, sourceCode, number string) (*ChildCase, error)
	// Timeline returns the events of sender sourceCode about subject,
	// oldest first.
	Timeline(ctx context.Context, sourceCode, subject string) ([]*Event, error)
	// Indicators returns the stored values of these senders (nil: all),
	// of one period ("" every period).
	Indicators(ctx context.Context, sources []string, period string) ([]*Indicator, error)
	// FeedStats returns per sender the newest event applied.
	FeedStats(ctx context.Context, sources []string) (map[string]*FeedStat, error)
	// DeadLetterCounts returns per CloudEvents source the inbound dead
	// letters not yet replayed.
	DeadLetterCounts(ctx context.Context) (map[string]int64, error)
	// Connectors returns the tenant's connectors of these directions.
	Connectors(ctx context.Context, directions []Direction) ([]*ConnectorState, error)
}

// Tenants reads the tenant tree (tenant.Repo satisfies it). It is called
// with a system viewer.
type Tenants interface {
	GetByCode(ctx context.Context, code string) (*tenant.Tenant, error)
	// Subtree returns the tenant at path and every descendant.
	Subtree(ctx context.Context, path string, maxDepth int) ([]*tenant.Tenant, error)
}

// Signer signs and verifies with tenants' keys (secrets.Signer satisfies
// it).
type Signer interface {
	Sign(ctx context.Context, name string, data []byte) ([]byte, error)
	Verify(ctx context.Context, name string, data, sig []byte) (bool, error)
	PublicKey(ctx context.Context, name string) (ed25519.PublicKey, error)
}

// PeerKey is a registered public key of a tenant hosted elsewhere.
type PeerKey struct {
	Version int
	Key     ed25519.PublicKey
}

// PeerKeys reads the registered keys of remote tenants (system only).
type PeerKeys interface {
	// PeerKeys returns the tenant's keys that are not revoked, newest
	// first; none is not an error.
	PeerKeys(ctx context.Context, tenantCode string) ([]PeerKey, error)
}

// EventLog appends to a tenant's own event log in the caller's transaction
// (caseflow.EventLog satisfies it); the outbound relay carries the events
// up.
type EventLog interface {
	Append(ctx context.Context, e *caseflow.Event) error
}

// Cases is the case loop as commands use it (*caseflow.Usecase).
type Cases interface {
	Submit(ctx context.Context, in caseflow.SubmitInput) (*caseflow.Case, error)
	Mark(ctx context.Context, number string, op caseflow.Operation, post string, in caseflow.Input,
		change func(c *caseflow.Case) (map[string]string, error)) (*caseflow.Case, error)
}

// Supervisor raises 督办 (*supervision.Usecase).
type Supervisor interface {
	Supervise(ctx context.Context, in supervision.SuperviseInput) (*supervision.Order, error)
}

// Transaction runs fn in one database transaction carried by its context.
// It must be the one the case loop runs in, so a command's effects, its
// dedupe record and its response event commit together.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// KeyName is the default name of a tenant's signing key in the Signer.
func KeyName(tenantCode string) string { return "tenant-" + tenantCode }

// isDescendant reports whether child sits below ancestor in the tree
// (direct or deeper; not the tenant itself).
func isDescendant(child, ancestor *tenant.Tenant) bool {
	return len(child.Path) > len(ancestor.Path) && child.Path[:len(ancestor.Path)+1] == ancestor.Path+"/"
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
