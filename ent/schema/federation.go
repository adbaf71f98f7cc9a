package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Connector is a tenant's link to a Kafka cluster (ARCHITECTURE
// "Federation"): outbound, it relays the tenant's event log to a topic with
// its own cursor; inbound, it consumes its children's topics into the
// federated store, or its parent's commands. Credentials are secret
// references, never values.
type Connector struct {
	ent.Schema
}

// Annotations of the Connector.
func (Connector) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "connectors"}}
}

// Mixin of the Connector.
func (Connector) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the Connector.
func (Connector) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64),
		field.Enum("direction").Values("outbound", "inbound", "commands_in", "commands_out"),
		field.Strings("brokers").Optional().Comment("Bootstrap servers host:port; empty means the embedded broker."),
		field.String("topic").Default("").MaxLen(255).Comment("Outbound: cityops.<code>.events by default."),
		field.Strings("source_codes").Optional().Comment("Inbound: the child tenants consumed; empty for every descendant."),
		field.String("group_id").Default("").MaxLen(255).Comment("Inbound consumer group."),
		field.Bool("tls").Default(false),
		field.String("sasl_mechanism").Default("").MaxLen(32).Comment("\"\", SCRAM-SHA-256 or SCRAM-SHA-512."),
		field.String("sasl_secret_ref").Default("").MaxLen(255).Comment("secret://… holding username and password."),
		field.Strings("event_types").Optional().Comment("Type prefixes relayed; empty for all."),
		field.Enum("encoding").Values("proto", "json").Default("proto"),
		field.Bool("enabled").Default(true),
		field.Int64("cursor").Default(0).Comment("Outbound: the last event sequence the broker acknowledged."),
		field.String("lease_holder").Default("").MaxLen(128).Comment("The relay replica working the connector."),
		field.Time("lease_expires_at").Optional().Nillable(),
		field.Time("last_success_at").Optional().Nillable(),
		field.Time("last_event_at").Optional().Nillable().Comment("Time of the last event relayed or applied."),
		field.String("last_error").Default("").MaxLen(1024),
		field.Int("failures").Default(0).Comment("Consecutive failures, for backoff."),
	}
}

// Indexes of the Connector.
func (Connector) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// DeadLetter is an event a connector could not deliver (outbound: too
// large, refused) or would not accept (inbound: forged, unknown sender, not
// a descendant, malformed, unknown type), kept with the reason for an
// operator to inspect and replay.
type DeadLetter struct {
	ent.Schema
}

// Annotations of the DeadLetter.
func (DeadLetter) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "dead_letters"}}
}

// Mixin of the DeadLetter.
func (DeadLetter) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the DeadLetter.
func (DeadLetter) Fields() []ent.Field {
	return []ent.Field{
		field.String("connector").NotEmpty().MaxLen(64),
		field.Enum("direction").Values("outbound", "inbound", "commands_in", "commands_out"),
		field.String("event_id").Default("").MaxLen(64),
		field.Int64("seq").Default(0).Comment("Outbound: the event's sequence in the tenant log."),
		field.String("event_type").Default("").MaxLen(128),
		field.String("source").Default("").MaxLen(128).Comment("CloudEvents source as received."),
		field.String("reason").NotEmpty().MaxLen(32).Comment("too_large, refused, forged, unknown_sender, not_descendant, malformed, unknown_type."),
		field.Text("detail").Default(""),
		field.String("topic").Default("").MaxLen(255),
		field.Int32("partition").Default(0),
		field.Int64("offset").Default(0),
		field.Bytes("payload").Optional(),
		field.JSON("headers", map[string]string{}).Optional(),
		field.Time("created_at").Immutable(),
		field.Time("replayed_at").Optional().Nillable(),
		field.Int("replay_count").Default(0),
	}
}

// Indexes of the DeadLetter.
func (DeadLetter) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "connector", "created_at"),
		index.Fields("tenant_id", "reason"),
	}
}

// FederatedEvent is an event a tenant received from a child (or a command
// from its parent), verified and applied; its event id makes applying
// idempotent, and the events of a child case are that case's timeline in
// the receiver's federated store.
type FederatedEvent struct {
	ent.Schema
}

// Annotations of the FederatedEvent.
func (FederatedEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "federated_events"}}
}

// Mixin of the FederatedEvent.
func (FederatedEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the FederatedEvent.
func (FederatedEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("event_id").NotEmpty().MaxLen(64).Immutable(),
		field.String("source_code").NotEmpty().MaxLen(12).Immutable().Comment("The sending tenant."),
		field.Int64("source_seq").Default(0).Immutable(),
		field.String("type").NotEmpty().MaxLen(128).Immutable(),
		field.String("subject").Default("").MaxLen(64).Immutable(),
		field.Time("time").Immutable(),
		field.Bytes("data").Immutable(),
		field.Time("received_at").Immutable(),
	}
}

// Indexes of the FederatedEvent.
func (FederatedEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "event_id").Unique(),
		index.Fields("tenant_id", "source_code", "subject"),
	}
}

// FederatedCase is the current state of a descendant's case as the
// receiving tenant knows it from the feed: what a city's oversight views
// list and search.
type FederatedCase struct {
	ent.Schema
}

// Annotations of the FederatedCase.
func (FederatedCase) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "federated_cases"}}
}

// Mixin of the FederatedCase.
func (FederatedCase) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the FederatedCase.
func (FederatedCase) Fields() []ent.Field {
	return []ent.Field{
		field.String("source_code").NotEmpty().MaxLen(12),
		field.String("number").NotEmpty().MaxLen(32),
		field.String("state").NotEmpty().MaxLen(32),
		field.String("source").Default("").MaxLen(32),
		field.String("kind").Default("").MaxLen(16),
		field.String("class_code").Default("").MaxLen(16),
		field.String("national_class_code").Default("").MaxLen(16),
		field.Text("description").Default(""),
		field.Float("lon").Default(0),
		field.Float("lat").Default(0),
		field.String("address").Default("").MaxLen(256),
		field.String("grid_code").Default("").MaxLen(15),
		field.String("street_code").Default("").MaxLen(9),
		field.String("district_code").Default("").MaxLen(6),
		field.String("area_class").Default("").MaxLen(16),
		field.String("urgency").Default("").MaxLen(16),
		field.String("primary_department_code").Default("").MaxLen(64),
		field.Bool("overdue").Default(false),
		field.Bool("supervised").Default(false),
		field.Time("reported_at").Optional().Nillable(),
		field.Time("dispose_deadline").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		field.Int64("version").Default(0).Comment("The child's case version last applied; older events do not overwrite."),
		field.Int64("last_seq").Default(0),
		field.Time("last_event_at"),
		field.Bytes("data").Optional().Comment("The last applied event's payload."),
	}
}

// Indexes of the FederatedCase.
func (FederatedCase) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "source_code", "number").Unique(),
		index.Fields("tenant_id", "state"),
		index.Fields("tenant_id", "last_event_at"),
	}
}

// FederatedIndicator is a child's latest value of an indicator (indicator
// snapshots in the feed), for side-by-side views.
type FederatedIndicator struct {
	ent.Schema
}

// Annotations of the FederatedIndicator.
func (FederatedIndicator) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "federated_indicators"}}
}

// Mixin of the FederatedIndicator.
func (FederatedIndicator) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the FederatedIndicator.
func (FederatedIndicator) Fields() []ent.Field {
	return []ent.Field{
		field.String("source_code").NotEmpty().MaxLen(12),
		field.String("indicator").NotEmpty().MaxLen(64),
		field.String("period").Default("").MaxLen(16),
		field.Float("value").Default(0),
		field.Time("at"),
	}
}

// Indexes of the FederatedIndicator.
func (FederatedIndicator) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "source_code", "indicator", "period").Unique()}
}

// FederationCommand is an order an overseer sent down (督办 on a child
// case, 转办 of a new case, a feedback request) and its status as the
// child's responses come back.
type FederationCommand struct {
	ent.Schema
}

// Annotations of the FederationCommand.
func (FederationCommand) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "federation_commands"}}
}

// Mixin of the FederationCommand.
func (FederationCommand) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the FederationCommand.
func (FederationCommand) Fields() []ent.Field {
	return []ent.Field{
		field.String("command_id").NotEmpty().MaxLen(64).Immutable(),
		field.String("target_code").NotEmpty().MaxLen(12).Comment("The child tenant the command is for."),
		field.Enum("kind").Values("supervise", "assign", "feedback_request"),
		field.String("case_number").Default("").MaxLen(32),
		field.Text("reason").Default(""),
		field.Time("deadline").Optional().Nillable(),
		field.Enum("status").Values("sent", "received", "answered", "overdue", "rejected").Default("sent"),
		field.Text("response").Default(""),
		field.Time("published_at").Optional().Nillable().Comment("When the broker acknowledged the command (the commands outbox)."),
		field.Time("received_at").Optional().Nillable(),
		field.Time("answered_at").Optional().Nillable(),
		field.String("created_by").Default("").MaxLen(64),
		field.Bytes("payload").Optional(),
	}
}

// Indexes of the FederationCommand.
func (FederationCommand) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "command_id").Unique(),
		index.Fields("tenant_id", "target_code", "status"),
	}
}

// PeerKey is a public signing key of a tenant whose events this platform
// receives: hosted tenants' keys come from the signer, remote deployments'
// keys are registered here. Platform bookkeeping, system only.
type PeerKey struct {
	ent.Schema
}

// Annotations of the PeerKey.
func (PeerKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "peer_keys"}}
}

// Mixin of the PeerKey.
func (PeerKey) Mixin() []ent.Mixin {
	return []ent.Mixin{SystemOnlyMixin{}}
}

// Fields of the PeerKey.
func (PeerKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("tenant_code").NotEmpty().MaxLen(12),
		field.Int("version").Positive(),
		field.Bytes("public_key").NotEmpty().Comment("Ed25519, 32 bytes."),
		field.Time("created_at").Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the PeerKey.
func (PeerKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_code", "version").Unique()}
}
