// Package connector is the use-case layer of the connector API: a tenant's
// Kafka connectors (ARCHITECTURE "Federation") — outbound feeds the relay
// (app/relay) publishes, inbound feeds and command channels the
// federation consumer works — and the dead letters they leave, with their
// inspection and replay. It declares what it needs of storage (Repo) and
// of the brokers (Publisher, InboundReplayer); package
// data/connector implements them.
package connector

import (
	"context"
	"time"

	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Direction is what a connector carries.
type Direction string

// Directions.
const (
	Outbound    Direction = "outbound"
	Inbound     Direction = "inbound"
	CommandsIn  Direction = "commands_in"
	CommandsOut Direction = "commands_out"
)

// Encoding is the data encoding of outbound events.
type Encoding string

// Encodings.
const (
	EncodingProto Encoding = "proto"
	EncodingJSON  Encoding = "json"
)

// Connector is a tenant's link to a Kafka cluster, with its feed health.
type Connector struct {
	ID            int
	TenantID      int
	Name          string
	Direction     Direction
	Brokers       []string
	Topic         string
	SourceCodes   []string
	GroupID       string
	TLS           bool
	SASLMechanism string
	SASLSecretRef string
	EventTypes    []string
	Encoding      Encoding
	Enabled       bool

	// Status, written by the relay and the consumers.
	Cursor         int64
	LeaseHolder    string
	LeaseExpiresAt *time.Time
	LastSuccessAt  *time.Time
	LastEventAt    *time.Time
	LastError      string
	Failures       int
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// Computed by the use case: the tenant's last event sequence and the
	// lag behind it (outbound), and the dead letters not yet replayed.
	LastSeq     int64
	Lag         int64
	DeadLetters int64
}

// DeadLetter is an event a connector gave up on.
type DeadLetter struct {
	ID        int
	TenantID  int
	Connector string
	Direction Direction
	EventID   string
	Seq       int64
	EventType string
	Source    string
	Reason    string
	Detail    string
	Topic     string
	Partition int32
	Offset    int64
	Payload   []byte
	// PayloadBytes is the payload's size (listings leave the payload out).
	PayloadBytes int64
	Headers      map[string]string
	CreatedAt    time.Time
	ReplayedAt   *time.Time
	ReplayCount  int
}

// DeadLetterFilter selects dead letters, newest first.
type DeadLetterFilter struct {
	Connector   string
	Reason      string
	PendingOnly bool
	// BeforeID continues a listing: only ids below it (0: from the newest).
	BeforeID int
	Limit    int
}

// Repo stores connectors and dead letters. Every method takes part in the
// transaction carried by ctx and sees the tenant of its viewer only.
type Repo interface {
	// Create inserts c: CONNECTOR_EXISTS when the name is taken.
	Create(ctx context.Context, c *Connector) (*Connector, error)
	// Update replaces the settings of the tenant's connector c.Name (and
	// its cursor when cursor is set, giving up the relay's lease so the
	// new position takes effect at once): CONNECTOR_NOT_FOUND when absent.
	Update(ctx context.Context, c *Connector, cursor *int64) (*Connector, error)
	// Delete removes a connector: CONNECTOR_NOT_FOUND when absent.
	Delete(ctx context.Context, tenantID int, name string) error
	// Get loads a connector: CONNECTOR_NOT_FOUND when absent.
	Get(ctx context.Context, tenantID int, name string) (*Connector, error)
	// List returns the tenant's connectors by name, of one direction or
	// (empty) all.
	List(ctx context.Context, tenantID int, d Direction) ([]*Connector, error)
	// LastSeq is the tenant's last event sequence (0 for none).
	LastSeq(ctx context.Context, tenantID int) (int64, error)
	// PendingDeadLetters counts dead letters not yet replayed, by connector.
	PendingDeadLetters(ctx context.Context, tenantID int) (map[string]int64, error)
	// ListDeadLetters returns up to f.Limit dead letters, newest first,
	// without payloads.
	ListDeadLetters(ctx context.Context, tenantID int, f DeadLetterFilter) ([]*DeadLetter, error)
	// GetDeadLetter loads one: DEAD_LETTER_NOT_FOUND when absent.
	GetDeadLetter(ctx context.Context, tenantID, id int) (*DeadLetter, error)
	// MarkReplayed records a successful replay.
	MarkReplayed(ctx context.Context, tenantID, id int, at time.Time) (*DeadLetter, error)
}

// Publisher publishes the stored record of an outbound (or commands_out)
// dead letter to its connector's destination again.
type Publisher interface {
	Republish(ctx context.Context, t *tenant.Tenant, c *Connector, d *DeadLetter) error
}

// InboundReplayer verifies and applies an inbound (or commands_in) dead
// letter again; the federation consumer implements it. c is nil when the
// connector was deleted since.
type InboundReplayer interface {
	ReplayInbound(ctx context.Context, t *tenant.Tenant, c *Connector, d *DeadLetter) error
}

// TenantScoper resolves the tenant of a tenant-scoped call (the tenant use
// case implements it) and answers TENANT_NOT_FOUND or TENANT_SUSPENDED.
type TenantScoper interface {
	Scope(ctx context.Context, code string) (*tenant.Tenant, error)
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
