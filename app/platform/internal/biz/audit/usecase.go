package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// DefaultVerifyPageSize is how many entries Verify reads at a time.
const DefaultVerifyPageSize = 500

// Usecase appends to, verifies and searches the audit trail.
type Usecase struct {
	repo       Repo
	tx         Transaction
	clock      func() time.Time
	verifyPage int
}

var (
	_ Appender = (*Usecase)(nil)
	_ Verifier = (*Usecase)(nil)
)

// Option tunes a Usecase.
type Option func(*Usecase)

// WithClock sets the clock that stamps entries without a time (tests).
func WithClock(now func() time.Time) Option { return func(u *Usecase) { u.clock = now } }

// WithVerifyPageSize sets how many entries Verify holds in memory at once
// (default DefaultVerifyPageSize).
func WithVerifyPageSize(n int) Option {
	return func(u *Usecase) {
		if n > 0 {
			u.verifyPage = n
		}
	}
}

// NewUsecase wires the audit use cases.
func NewUsecase(repo Repo, tx Transaction, opts ...Option) *Usecase {
	u := &Usecase{repo: repo, tx: tx, clock: time.Now, verifyPage: DefaultVerifyPageSize}
	for _, o := range opts {
		o(u)
	}
	return u
}

func errInvalidTenant(id int, code string) error {
	return fmt.Errorf("audit append: tenant %d needs its code (got %q) to name its chain", id, code)
}

// Append adds e to the end of its chain. It joins the transaction carried
// by ctx, if any, so the entry commits or rolls back with the audited
// write; otherwise it runs in a transaction of its own. It acts as the
// system viewer derived from ctx (the only viewer allowed to write audit
// rows), whoever the caller is.
//
// Concurrent appends to one chain take turns on the chain's head row
// (SELECT … FOR UPDATE on PostgreSQL; SQLite's write transactions are
// serialized already), so sequence numbers have no gaps or duplicates.
func (u *Usecase) Append(ctx context.Context, e Entry) error {
	r, err := normalize(e, u.clock)
	if err != nil {
		return err
	}
	ctx = viewer.SystemContext(ctx, "audit")
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		h, err := u.repo.LockHead(ctx, r.Chain)
		if err != nil {
			return err
		}
		r.Seq, r.PrevHash = h.Seq+1, h.Hash
		r.Hash = ComputeHash(&r)
		if err := u.repo.Insert(ctx, &r); err != nil {
			return err
		}
		return u.repo.AdvanceHead(ctx, h, r.Seq, r.Hash)
	})
	if err != nil {
		return fmt.Errorf("audit append to %s: %w", r.Chain, err)
	}
	return nil
}

// Verify walks chain in seq order, a page at a time, recomputes every
// hash and checks every link, then compares the end of the chain with its
// head. A viewer other than the system may only verify its acting
// tenant's chain.
//
// Verify needs no lock and no snapshot while appends go on: it reads the
// head first and walks only the entries up to it, which were all committed
// with (or before) that head. Entries the head does not account for are
// looked for afterwards by reading the highest seq before re-reading the
// head; an append commits its entry and its head together, so only an
// entry written around the platform can make the first exceed the second.
func (u *Usecase) Verify(ctx context.Context, chain string) (Report, error) {
	if err := mayVerify(ctx, chain); err != nil {
		return Report{}, err
	}
	ctx = viewer.SystemContext(ctx, "audit verify")
	rep := Report{Chain: chain}
	add := func(p Problem) {
		if len(rep.Problems) < MaxProblems {
			rep.Problems = append(rep.Problems, p)
		}
	}
	head, headed, err := u.repo.Head(ctx, chain)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify %s: %w", chain, err)
	}
	upTo := int64(math.MaxInt64)
	if headed {
		upTo = head.Seq
	}
	var (
		lastSeq  int64
		lastHash string
	)
	for {
		page, err := u.repo.Page(ctx, chain, lastSeq, upTo, u.verifyPage)
		if err != nil {
			return Report{}, fmt.Errorf("audit verify %s: %w", chain, err)
		}
		for i := range page {
			r := &page[i]
			rep.Entries++
			switch {
			case r.Seq != lastSeq+1:
				// The link is necessarily broken too; the gap says why.
				add(Problem{Seq: r.Seq, Kind: KindGap, Detail: missing(lastSeq+1, r.Seq-1),
					Want: strconv.FormatInt(lastSeq+1, 10), Got: strconv.FormatInt(r.Seq, 10)})
			case r.PrevHash != lastHash:
				add(Problem{Seq: r.Seq, Kind: KindBrokenLink,
					Detail: fmt.Sprintf("prev_hash is not the hash of entry %d", lastSeq),
					Want:   lastHash, Got: r.PrevHash})
			}
			if got := ComputeHash(r); got != r.Hash {
				add(Problem{Seq: r.Seq, Kind: KindAltered,
					Detail: "the entry's content does not match its hash",
					Want:   r.Hash, Got: got})
			}
			lastSeq, lastHash = r.Seq, r.Hash
		}
		if len(page) < u.verifyPage {
			break
		}
	}
	if headed && (lastSeq != head.Seq || lastHash != head.Hash) {
		add(Problem{Seq: head.Seq, Kind: KindTailMismatch,
			Detail: fmt.Sprintf("the head records entry %d, the chain ends at entry %d", head.Seq, lastSeq),
			Want:   fmt.Sprintf("%d:%s", head.Seq, head.Hash), Got: fmt.Sprintf("%d:%s", lastSeq, lastHash)})
	}
	// Highest seq first, head second: see the doc comment.
	maxSeq, err := u.repo.MaxSeq(ctx, chain)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify %s: %w", chain, err)
	}
	head2, headed2, err := u.repo.Head(ctx, chain)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify %s: %w", chain, err)
	}
	switch {
	case !headed2 && maxSeq > 0:
		add(Problem{Seq: 1, Kind: KindUnheaded,
			Detail: fmt.Sprintf("the chain has entries up to %d but no head", maxSeq),
			Want:   "0", Got: strconv.FormatInt(maxSeq, 10)})
	case headed2 && maxSeq > head2.Seq:
		add(Problem{Seq: head2.Seq + 1, Kind: KindUnheaded,
			Detail: fmt.Sprintf("entries %d to %d lie beyond the head", head2.Seq+1, maxSeq),
			Want:   strconv.FormatInt(head2.Seq, 10), Got: strconv.FormatInt(maxSeq, 10)})
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// missing describes the entries from..to as deleted.
func missing(from, to int64) string {
	if from == to {
		return fmt.Sprintf("entry %d is missing", from)
	}
	return fmt.Sprintf("entries %d to %d are missing", from, to)
}

// mayVerify lets the system verify any chain and anyone else only the
// chain of the tenant they act in (the API's authorization decides who
// may call at all; this keeps a wrong route from crossing tenants).
func mayVerify(ctx context.Context, chain string) error {
	v, ok := viewer.FromContext(ctx)
	switch {
	case !ok:
		return errorsv1.ErrorUnauthenticated("audit verify: no viewer")
	case v.IsSystem():
		return nil
	case v.TenantID == 0 || v.TenantCode != chain:
		return errorsv1.ErrorForbidden("audit verify: viewer of tenant %q may not verify chain %q", v.TenantCode, chain)
	}
	return nil
}

// Search returns one page of the viewer's tenant's entries, newest first,
// and the token of the next page ("" on the last). It reads with the
// caller's viewer, so the privacy rules scope it to the acting tenant.
func (u *Usecase) Search(ctx context.Context, f Filter) ([]Record, string, error) {
	chain, err := searchChain(ctx, f.TenantCode)
	if err != nil {
		return nil, "", err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, "", invalid("start_time", "开始时间必须早于结束时间", "the start time must be before the end time")
	}
	for _, s := range []struct{ field, v string }{
		{"actor", f.Actor}, {"operation", f.Operation}, {"outcome", f.Outcome}, {"target", f.Target},
	} {
		if len(s.v) > MaxFilterLen {
			return nil, "", invalid(s.field, fmt.Sprintf("长度不能超过 %d 字节", MaxFilterLen), fmt.Sprintf("must be at most %d bytes", MaxFilterLen))
		}
	}
	size := f.PageSize
	switch {
	case size <= 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	q := Query{
		Chain: chain, Actor: f.Actor, Operation: f.Operation, Outcome: f.Outcome, Target: f.Target,
		Limit: size + 1, // one more tells whether a next page exists
	}
	// Stored times are UTC; SQLite compares them as text, so the bounds
	// must be UTC as well.
	if !f.From.IsZero() {
		q.From = f.From.UTC()
	}
	if !f.To.IsZero() {
		q.To = f.To.UTC()
	}
	if f.PageToken != "" {
		seq, ok := decodeToken(f.PageToken)
		if !ok {
			return nil, "", invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
		}
		q.BeforeSeq = seq
	}
	rows, err := u.repo.Search(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("audit search: %w", err)
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = encodeToken(rows[size-1].Seq)
	}
	return rows, next, nil
}

// searchChain is the chain a search reads: the viewer's acting tenant's,
// or for the system viewer the one it names (default PlatformChain).
func searchChain(ctx context.Context, code string) (string, error) {
	v, ok := viewer.FromContext(ctx)
	switch {
	case !ok:
		return "", errorsv1.ErrorUnauthenticated("audit search: no viewer")
	case v.IsSystem() && v.TenantID == 0:
		return orDefault(code, PlatformChain), nil
	case v.TenantID == 0 || v.TenantCode == "":
		return "", errorsv1.ErrorForbidden("audit search: viewer acts in no tenant")
	case code != "" && code != v.TenantCode:
		return "", errorsv1.ErrorForbidden("audit search: viewer of tenant %q may not search tenant %q", v.TenantCode, code)
	}
	return v.TenantCode, nil
}

// Page tokens are "s:<seq>" in unpadded base64url: opaque to clients, and
// versioned by the prefix should the ordering ever change.
func encodeToken(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s:" + strconv.FormatInt(seq, 10)))
}

func decodeToken(tok string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(raw), "s:")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(s, 10, 64)
	if err != nil || seq <= 0 {
		return 0, false
	}
	return seq, true
}

// invalid builds INVALID_ARGUMENT about one field with a bilingual detail,
// the shape every CityOps API uses.
func invalid(field, zh, en string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}
