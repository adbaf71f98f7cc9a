// Package audit keeps the audit trail of CityOps: every write (an API call
// or a system action) appends one Entry to its tenant's append-only log,
// and the entries of a chain (a tenant's code, or "platform" for writes
// that name no tenant) are hash-chained so that Verify finds any entry that
// was altered, deleted or slipped in afterwards.
//
// Append runs inside the caller's transaction when there is one, so a
// write and its audit entry commit or roll back together; it always acts as
// the system viewer, because only the system may write audit rows. Search
// reads with the caller's own viewer, so the privacy rules keep a tenant's
// users to their tenant's entries.
package audit

import (
	"context"
	"time"
)

// PlatformChain is the chain of entries that name no tenant: platform
// operations, failed calls for tenants that do not exist, logins before a
// tenant is known.
const PlatformChain = "platform"

// Maximum byte lengths of the stored fields (they match ent/schema/audit.go).
// Longer values are cut with a marker rather than failing the append: the
// audit of a hostile request must still be written.
const (
	MaxChain      = 16
	MaxActor      = 64
	MaxActorName  = 128
	MaxRole       = 256
	MaxOperation  = 256
	MaxTarget     = 256
	MaxRequestID  = 64
	MaxSourceAddr = 64
	MaxOutcome    = 64
	MaxDetail     = 1024
)

// MaxFilterLen bounds every string filter of a search.
const MaxFilterLen = 256

// Page sizes of Search.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// MaxProblems caps the problems a Report lists; a chain broken everywhere
// (a restored backup of another tenant, say) would otherwise produce a
// report as large as the chain.
const MaxProblems = 100

// Entry is one audited write as the caller describes it.
type Entry struct {
	// TenantID is the tenant the write acted in; 0 puts the entry on the
	// platform chain (TenantCode is then not used for chaining: put a
	// requested but unknown tenant code into Target instead, so callers
	// cannot create chains at will).
	TenantID int
	// TenantCode is the code of TenantID; it names the tenant's chain and is
	// required when TenantID is set.
	TenantCode string
	// At is when the write happened; zero means now. It is stored in UTC,
	// truncated to microseconds (PostgreSQL's precision).
	At time.Time
	// Actor is viewer.Actor(): "user:12", "apikey:3", "system", "anonymous".
	Actor string
	// ActorName is the user's login or the key's name.
	ActorName string
	// Role is the actor's roles in the acting tenant, comma-separated.
	Role string
	// Operation is the API operation or the name of the system action.
	Operation string
	// Target is what was written to, e.g. "tenants/450126".
	Target string
	// RequestID is the request's X-Request-Id.
	RequestID string
	// SourceAddr is the caller's address.
	SourceAddr string
	// Outcome is "ok" or the error reason.
	Outcome string
	// Detail is free text, e.g. the system viewer's reason.
	Detail string
}

// OutcomeOK is the outcome of a write that succeeded; a failed one
// records its error reason (FORBIDDEN, TENANT_NOT_FOUND, …).
const OutcomeOK = "ok"

// Record is an Entry as stored: normalized (bounded, valid UTF-8, UTC),
// placed on its chain and sealed with its hash.
type Record struct {
	Entry
	Chain    string
	Seq      int64
	PrevHash string
	Hash     string
}

// Head is the last entry of a chain as the chain's head row records it.
type Head struct {
	ID    int
	Chain string
	Seq   int64
	Hash  string
}

// Filter selects entries for Search. The zero value lists the newest 50
// entries of the viewer's tenant.
type Filter struct {
	// TenantCode is the tenant the request names; it must be the viewer's
	// acting tenant (empty: the viewer's). Only the system viewer may name
	// any chain, including PlatformChain.
	TenantCode string
	// From (inclusive) and To (exclusive) bound At; zero means unbounded.
	From, To time.Time
	// Actor, Operation, Outcome and Target match exactly; empty matches any.
	Actor, Operation, Outcome, Target string
	// PageSize is 1–500; 0 means 50.
	PageSize int
	// PageToken continues a previous search.
	PageToken string
}

// Query is what the repository searches: one chain, newest first.
type Query struct {
	Chain                             string
	From, To                          time.Time
	Actor, Operation, Outcome, Target string
	// BeforeSeq, when positive, keeps entries with seq < BeforeSeq (keyset).
	BeforeSeq int64
	// Limit is the maximum number of records returned.
	Limit int
}

// Kind is what is wrong with a chain at one entry.
type Kind string

// Problem kinds.
const (
	// KindAltered: the entry's content does not match its hash.
	KindAltered Kind = "altered"
	// KindGap: sequence numbers jump, entries were deleted.
	KindGap Kind = "gap"
	// KindBrokenLink: prev_hash is not the previous entry's hash (an entry
	// was re-hashed, replaced or the chain spliced).
	KindBrokenLink Kind = "broken_link"
	// KindTailMismatch: the last entry is not the one the head records.
	KindTailMismatch Kind = "tail_mismatch"
	// KindUnheaded: entries exist that the head does not account for.
	KindUnheaded Kind = "unheaded"
)

// Problem is one inconsistency of a chain.
type Problem struct {
	// Seq is the entry where the problem shows (for a gap, the first entry
	// after it; for a tail mismatch, the head's seq).
	Seq  int64
	Kind Kind
	// Detail says what was found, in English.
	Detail string
	// Want and Got are what the chain should hold and holds (hashes or
	// sequence numbers), so front ends can phrase the problem in their
	// language.
	Want, Got string
}

// Report is the result of verifying one chain.
type Report struct {
	Chain string
	// Entries is how many entries were walked.
	Entries int64
	// OK is true when no problem was found.
	OK bool
	// Problems lists the problems in chain order, at most MaxProblems.
	Problems []Problem
}

// Repo stores audit chains. Every method runs in the transaction carried
// by ctx, when there is one.
type Repo interface {
	// LockHead returns the head of chain, locked until the transaction
	// ends, creating it (seq 0, empty hash) on first use. Two transactions
	// creating the same head concurrently must both succeed.
	LockHead(ctx context.Context, chain string) (Head, error)
	// Insert stores a sealed record.
	Insert(ctx context.Context, r *Record) error
	// AdvanceHead moves the locked head h to seq and hash.
	AdvanceHead(ctx context.Context, h Head, seq int64, hash string) error
	// Head returns the head of chain without locking it; ok is false when
	// the chain has none.
	Head(ctx context.Context, chain string) (h Head, ok bool, err error)
	// MaxSeq returns the highest seq stored for chain, 0 when none.
	MaxSeq(ctx context.Context, chain string) (int64, error)
	// Page returns up to limit records of chain with afterSeq < seq <=
	// maxSeq, in seq order.
	Page(ctx context.Context, chain string, afterSeq, maxSeq int64, limit int) ([]Record, error)
	// Search returns up to q.Limit records matching q, newest (highest
	// seq) first.
	Search(ctx context.Context, q Query) ([]Record, error)
}

// Transaction runs fn in one database transaction carried by the context;
// a nested call joins the caller's transaction.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Appender appends audit entries; the unit-of-work middleware and system
// actions depend on it.
type Appender interface {
	Append(ctx context.Context, e Entry) error
}

// Verifier verifies audit chains.
type Verifier interface {
	Verify(ctx context.Context, chain string) (Report, error)
}
