// Package authz decides who may call which operation in which tenant:
// casbin RBAC with domains, where a domain is a tenant path
// ("000000/450000/450100/450126") and the object is the kratos operation.
//
// The policy of record (which role may call which operation) is the
// embedded policy.csv, with the operations that need no credentials in
// public.txt; Seed copies it into the database. Role bindings (who holds
// which role where) are data, written by SetRoles. Both live in the
// authz_rules table; every change bumps the "policy" revision in the same
// transaction, and every replica polls that revision and reloads, so a
// grant made on one replica takes effect on all of them within one poll
// interval (at once on the replica that made it).
//
// Where a role is held is part of its binding: an ordinary role in its own
// tenant, overseer on the descendants of its tenant (never the tenant
// itself: oversight of one's own tenant is not oversight), platform_operator
// everywhere. See MatchDomain.
package authz

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/viewer"
)

// RevisionName is the AuthzRevision row that counts changes of the rules.
const RevisionName = "policy"

// Rule types of casbin: policy lines and role bindings.
const (
	PTypePolicy  = "p"
	PTypeBinding = "g"
)

// Repo stores the rules (casbin "p" and "g" lines, values v0…v5) and the
// revision that counts their changes. data/authz implements it on ent.
type Repo interface {
	// LoadPolicyCtx adds every stored rule to m. It is the method of
	// casbin's persist.ContextAdapter, so the casbin adapter of the data
	// layer is the repository.
	LoadPolicyCtx(ctx context.Context, m model.Model) error
	// Revision returns the current revision, 0 when nothing was ever
	// written.
	Revision(ctx context.Context) (int64, error)
	// Rules returns the stored rules of ptype, each as its values v0…vn
	// without trailing empty values; only those whose v0 equals v0 unless
	// v0 is "".
	Rules(ctx context.Context, ptype, v0 string) ([][]string, error)
	// Replace makes the stored rules of ptype (only those whose v0 equals
	// v0, unless v0 is "") equal to rules, and bumps the revision when that
	// changed anything, in one transaction; it joins the transaction ctx
	// carries, if any. It reports whether anything changed.
	Replace(ctx context.Context, ptype, v0 string, rules [][]string) (changed bool, err error)
	// OnCommit runs fn once the transaction ctx carries has committed (not
	// at all when it rolls back), or at once when ctx carries none. fn gets
	// a context without the transaction.
	OnCommit(ctx context.Context, fn func(ctx context.Context))
}

// Options tune an Authorizer. The zero value is valid.
type Options struct {
	// PollInterval is how often Run checks the revision. Default: 2s. It
	// bounds how long a change made by another replica takes to apply here.
	PollInterval time.Duration
	// Logger receives reload failures (the previous policy stays in
	// force). Default: kratos' log.DefaultLogger.
	Logger log.Logger
}

// DefaultPollInterval is the PollInterval of the zero Options.
const DefaultPollInterval = 2 * time.Second

func (o *Options) setDefaults() {
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Logger == nil {
		o.Logger = log.DefaultLogger
	}
}

// snapshot is one loaded policy. Its enforcer is never modified after it
// is published, so requests read it without locks; a reload builds a new
// snapshot and swaps the pointer.
type snapshot struct {
	enforcer *casbin.Enforcer
	revision int64
	// decisions memoizes Allowed. casbin evaluates the matcher once per
	// policy line (tens of microseconds for today's ~90 lines, growing with
	// every operation added), while a decision is a pure function of the
	// immutable snapshot: it can never go stale, and a reload starts a new
	// memo with the new snapshot.
	decisions decisionMemo
}

// maxMemoizedDecisions bounds the memo of one snapshot (about 150 bytes an
// entry). Beyond it the memo starts over rather than growing: a subject
// scanning many tenants must not grow memory without limit.
const maxMemoizedDecisions = 1 << 16

// decisionMemo is a bounded, concurrency-safe map of decisions.
type decisionMemo struct {
	m atomic.Pointer[sync.Map]
	n atomic.Int64
}

func (d *decisionMemo) load(key string) (allowed, ok bool) {
	m := d.m.Load()
	if m == nil {
		return false, false
	}
	v, ok := m.Load(key)
	if !ok {
		return false, false
	}
	return v.(bool), true
}

func (d *decisionMemo) store(key string, allowed bool) {
	m := d.m.Load()
	if m == nil || d.n.Add(1) > maxMemoizedDecisions {
		// First use, or full: start over. Racing stores may land in the map
		// being dropped; they are only lost memo entries.
		m = new(sync.Map)
		d.m.Store(m)
		d.n.Store(1)
	}
	m.Store(key, allowed)
}

// Authorizer answers authorization questions from an in-memory copy of the
// rules and keeps that copy current. It is safe for concurrent use; a
// reload never blocks a request.
type Authorizer struct {
	repo   Repo
	policy *policy
	opts   Options
	log    *log.Helper

	// reloadMu serializes reloads (poll, explicit and after a local
	// change) so an older load cannot overwrite a newer one.
	reloadMu sync.Mutex
	cur      atomic.Pointer[snapshot]
}

// New parses the embedded policy of record and loads the stored rules.
// It does not seed: call Seed once the database is migrated (a fresh
// database has no "p" rules, and then every operation is denied).
func New(ctx context.Context, repo Repo, opts Options) (*Authorizer, error) {
	opts.setDefaults()
	p, err := parsePolicy(policyCSV, publicTxt)
	if err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	a := &Authorizer{repo: repo, policy: p, opts: opts, log: log.NewHelper(log.With(opts.Logger, "module", "authz"))}
	if err := a.Reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Run polls the revision every PollInterval and reloads when it moved,
// until ctx is done. A failed poll or reload is logged and retried at the
// next tick; meanwhile the last good policy stays in force (never an empty
// one, which would lock everybody out).
func (a *Authorizer) Run(ctx context.Context) {
	t := time.NewTicker(a.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.poll(ctx); err != nil && ctx.Err() == nil {
				a.log.WithContext(ctx).Errorf("authz: %v", err)
			}
		}
	}
}

// poll reloads when the stored revision differs from the loaded one.
// "Differs", not "is greater": a revision that went backwards (a restored
// backup) must be picked up too.
func (a *Authorizer) poll(ctx context.Context) error {
	rev, err := a.repo.Revision(ctx)
	if err != nil {
		return fmt.Errorf("poll revision: %w", err)
	}
	if rev == a.cur.Load().revision {
		return nil
	}
	return a.Reload(ctx)
}

// Reload loads every rule from the repository and swaps the new policy in.
func (a *Authorizer) Reload(ctx context.Context) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	// The revision is read before the rules: a change committed in between
	// then has a revision above the one recorded, and the next poll loads
	// again. Read after, such a change could be recorded as loaded without
	// its rules.
	rev, err := a.repo.Revision(ctx)
	if err != nil {
		return fmt.Errorf("authz reload: %w", err)
	}
	e, err := newEnforcer()
	if err != nil {
		return fmt.Errorf("authz reload: %w", err)
	}
	if err := a.repo.LoadPolicyCtx(ctx, e.GetModel()); err != nil {
		return fmt.Errorf("authz reload: %w", err)
	}
	if err := e.BuildRoleLinks(); err != nil {
		return fmt.Errorf("authz reload: %w", err)
	}
	a.cur.Store(&snapshot{enforcer: e, revision: rev})
	return nil
}

// reloadAfterChange is the commit hook of local changes. The change is
// committed whatever happens here; a failure only delays it to the next
// poll, so it is logged rather than returned.
func (a *Authorizer) reloadAfterChange(ctx context.Context) {
	if err := a.Reload(ctx); err != nil {
		a.log.WithContext(ctx).Errorf("authz: reload after change (the next poll retries): %v", err)
	}
}

// Revision returns the revision of the loaded policy.
func (a *Authorizer) Revision() int64 { return a.cur.Load().revision }

// Allowed reports whether subject ("user:<id>" or "apikey:<id>") may call
// operation in the tenant at domainPath. domainPath "" asks about an
// operation on the platform as a whole (creating or listing tenants): only
// roles held everywhere apply there. Public operations are allowed to
// anyone; anything the policy does not name is denied. Decisions are
// memoized per loaded policy (see snapshot), so a repeated question costs
// a map look-up.
func (a *Authorizer) Allowed(subject, domainPath, operation string) bool {
	if a.IsPublic(operation) {
		return true
	}
	if !validSubject(subject) || !validRequestDomain(domainPath) {
		return false
	}
	snap := a.cur.Load()
	key := subject + "\x00" + domainPath + "\x00" + operation
	if allowed, ok := snap.decisions.load(key); ok {
		return allowed
	}
	ok, err := snap.enforcer.Enforce(subject, domainPath, operation, ActionCall)
	allowed := err == nil && ok
	if err == nil {
		snap.decisions.store(key, allowed)
	}
	return allowed
}

// RolesIn returns the names of the roles subject holds in the tenant at
// domainPath, wherever they were granted (an overseer at an ancestor, a
// platform operator everywhere), in the order of viewer.AllRoles. Empty
// means the subject has nothing in that tenant.
func (a *Authorizer) RolesIn(subject, domainPath string) []string {
	if !validSubject(subject) || !validRequestDomain(domainPath) {
		return nil
	}
	held := a.cur.Load().enforcer.GetRolesForUserInDomain(subject, domainPath)
	return roleNames(held)
}

// IsPublic reports whether operation needs no credentials (public.txt).
func (a *Authorizer) IsPublic(operation string) bool {
	_, ok := a.policy.public[operation]
	return ok
}

// Operations returns every operation named in policy.csv or public.txt,
// sorted.
func (a *Authorizer) Operations() []string { return slices.Clone(a.policy.operations) }

// roleNames turns casbin role subjects ("role:leader") into role names in
// the order of viewer.AllRoles, dropping anything that is not a known role.
func roleNames(held []string) []string {
	var out []string
	for _, r := range viewer.AllRoles {
		if slices.Contains(held, rolePrefix+r) {
			out = append(out, r)
		}
	}
	return out
}

// validSubject reports whether s names an actor: "user:<id>" or
// "apikey:<id>" with a positive decimal id. Anything else — notably a role
// ("role:x", which casbin would find to hold itself) — gets nothing.
func validSubject(s string) bool {
	id, ok := strings.CutPrefix(s, userPrefix)
	if !ok {
		if id, ok = strings.CutPrefix(s, apiKeyPrefix); !ok {
			return false
		}
	}
	if id == "" || len(id) > 18 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// validRequestDomain reports whether d may be the domain of a request: a
// concrete tenant path or "" (the platform). A pattern is refused, since
// casbin compares a request domain equal to a binding domain before it
// calls MatchDomain, and "…/450100/*" would otherwise pick up the
// overseer's binding as if it were a tenant.
// NUL is refused too: it separates the parts of the decision memo's key.
func validRequestDomain(d string) bool {
	return !strings.ContainsAny(d, "*\x00")
}
