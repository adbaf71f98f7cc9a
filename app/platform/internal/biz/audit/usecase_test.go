package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/audit"
	data "github.com/cityops/cityops/app/platform/internal/data/audit"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The two tenants of these tests. Audit entries carry tenant_id without a
// foreign key (the trail outlives what it describes), so no tenant rows
// are needed.
const (
	tenantA, codeA = 1, "450126"
	tenantB, codeB = 2, "450181"
)

func sys() context.Context { return viewer.SystemContext(context.Background(), "test") }

func tenantViewer(id int, code string, roles ...string) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: 9, TenantID: id, TenantCode: code, HomeTenantID: id, HomeTenantCode: code, Roles: roles,
	})
}

func reason(err error) string { return kerrors.FromError(err).Reason }

// store is a test database seen two ways: db as the application (ent,
// privacy, row-level security) and owner as the one who owns the tables,
// who can tamper with them behind the platform's back.
type store struct {
	db      *database.DB
	owner   *sql.DB
	dialect string
}

// eachStore runs fn on SQLite and PostgreSQL like testdb.Each, with the
// owner's connection as well.
func eachStore(t *testing.T, fn func(t *testing.T, s store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := testdb.SQLite(t)
		fn(t, store{db: db, owner: db.SQL, dialect: "sqlite"})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		app, owner := testdb.PostgresDSNs(t)
		// More connections than testdb's default, so that the
		// concurrency tests really contend for the head row.
		db, closeDB, err := database.Open(t.Context(), database.Config{Driver: database.DriverPostgres, DSN: app, MaxOpenConns: 9})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeDB)
		o, err := sql.Open("pgx", owner)
		if err != nil {
			t.Fatal(err)
		}
		o.SetMaxOpenConns(2)
		t.Cleanup(func() { _ = o.Close() })
		fn(t, store{db: db, owner: o, dialect: "postgres"})
	})
}

func newUsecase(db *database.DB, opts ...audit.Option) *audit.Usecase {
	return audit.NewUsecase(data.NewRepo(db), db, opts...)
}

// tamper runs statements as the owner. On PostgreSQL the append-only
// trigger (migration row_level_security) refuses UPDATE and DELETE even to
// the owner, so it is disabled for the tampering transaction only, as an
// attacker with owner rights could; ALTER TABLE is transactional there.
// Where the trigger does not exist (an older schema) the statements run
// as they are.
func (s store) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.owner.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	triggers := false
	if s.dialect == "postgres" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		triggers = n > 0
	}
	if triggers {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE audit_entries DISABLE TRIGGER USER`); err != nil {
			t.Fatalf("disable the append-only trigger as owner: %v", err)
		}
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("tamper %q: %v", q, err)
		}
	}
	if triggers {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE audit_entries ENABLE TRIGGER USER`); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func entry(tenant int, code string, i int) audit.Entry {
	return audit.Entry{
		TenantID: tenant, TenantCode: code,
		Actor: fmt.Sprintf("user:%d", i%3), ActorName: fmt.Sprintf("u%d", i%3), Role: "tenant_admin",
		Operation: []string{"/cityops.tenant.v1.TenantService/UpdateTenant", "/cityops.identity.v1.IdentityService/CreateUser"}[i%2],
		Target:    fmt.Sprintf("tenants/%s/items/%d", code, i), RequestID: fmt.Sprintf("req-%d", i),
		SourceAddr: "10.0.0.1", Outcome: []string{"ok", "ok", "FORBIDDEN"}[i%3],
	}
}

func appendN(t testing.TB, uc *audit.Usecase, tenant int, code string, n int) {
	t.Helper()
	for i := range n {
		if err := uc.Append(context.Background(), entry(tenant, code, i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func verify(t *testing.T, uc *audit.Usecase, chain string) audit.Report {
	t.Helper()
	rep, err := uc.Verify(sys(), chain)
	if err != nil {
		t.Fatalf("verify %s: %v", chain, err)
	}
	return rep
}

func mustOK(t *testing.T, rep audit.Report, entries int64) {
	t.Helper()
	if !rep.OK || len(rep.Problems) != 0 || rep.Entries != entries {
		t.Fatalf("report = %+v, want OK with %d entries", rep, entries)
	}
}

func TestAppendThenVerify(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s store) {
		at := time.Date(2026, 11, 22, 9, 30, 1, 123456789, time.FixedZone("CST", 8*3600))
		uc := newUsecase(s.db, audit.WithVerifyPageSize(4)) // several pages
		e := entry(tenantA, codeA, 0)
		e.At, e.Target, e.Detail = at, "tenants/450126/first", "第一条"
		// Any caller may append: Append acts as the system itself.
		if err := uc.Append(tenantViewer(tenantA, codeA, "supervisor"), e); err != nil {
			t.Fatal(err)
		}
		appendN(t, uc, tenantA, codeA, 10)
		if err := uc.Append(context.Background(), audit.Entry{Actor: "system", Operation: "migrate", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		mustOK(t, verify(t, uc, codeA), 11)
		mustOK(t, verify(t, uc, audit.PlatformChain), 1)
		mustOK(t, verify(t, uc, "999999"), 0) // no chain yet: nothing to contradict

		// The first entry reads back exactly as it was hashed, whichever
		// database stored the time.
		rows, next, err := uc.Search(tenantViewer(tenantA, codeA, "tenant_admin"), audit.Filter{Target: e.Target})
		if err != nil || len(rows) != 1 || next != "" {
			t.Fatalf("search = %d rows, %q, %v", len(rows), next, err)
		}
		want := audit.Record{Entry: e, Chain: codeA, Seq: 1}
		want.At = at.UTC().Truncate(time.Microsecond)
		want.Hash = audit.ComputeHash(&want)
		if diff := cmp.Diff(want, rows[0]); diff != "" {
			t.Errorf("stored entry (-want +got):\n%s", diff)
		}
	})
}

// TestConcurrentAppends: 8 writers on one chain, starting before the chain
// exists (so they also race to create its head), give a gapless chain.
func TestConcurrentAppends(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s store) {
		uc := newUsecase(s.db)
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				for i := range each {
					e := entry(tenantA, codeA, w*each+i)
					// Half of them inside a caller's transaction, as the
					// unit-of-work middleware does.
					if i%2 == 0 {
						errs <- s.db.InTx(tenantViewer(tenantA, codeA), func(ctx context.Context) error { return uc.Append(ctx, e) })
					} else {
						errs <- uc.Append(context.Background(), e)
					}
				}
			})
		}
		// Verifying while the writers append must never report a problem:
		// Verify takes no lock, so this checks its reading order.
		done := make(chan struct{})
		verified := make(chan error, 1)
		go func() {
			for {
				rep, err := uc.Verify(sys(), codeA)
				if err == nil && !rep.OK {
					err = fmt.Errorf("verify during appends: %+v", rep)
				}
				select {
				case <-done:
					verified <- err
					return
				default:
				}
				if err != nil {
					<-done
					verified <- err
					return
				}
			}
		}()
		close(start)
		wg.Wait()
		close(done)
		if err := <-verified; err != nil {
			t.Error(err)
		}
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("append: %v", err)
			}
		}
		mustOK(t, verify(t, uc, codeA), writers*each)
		rows, _, err := uc.Search(sys(), audit.Filter{TenantCode: codeA, PageSize: audit.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if want := int64(writers*each - i); r.Seq != want {
				t.Fatalf("row %d has seq %d, want %d", i, r.Seq, want)
			}
		}
	})
}

func TestTenantsHaveIndependentChains(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s store) {
		uc := newUsecase(s.db)
		var wg sync.WaitGroup
		for _, tn := range []struct {
			id   int
			code string
		}{{tenantA, codeA}, {tenantB, codeB}} {
			wg.Go(func() { appendN(t, uc, tn.id, tn.code, 12) })
		}
		wg.Wait()
		mustOK(t, verify(t, uc, codeA), 12)
		mustOK(t, verify(t, uc, codeB), 12)
		// Breaking one chain leaves the other intact.
		s.tamper(t, `DELETE FROM audit_entries WHERE chain = '`+codeA+`' AND seq = 5`)
		if rep := verify(t, uc, codeA); rep.OK {
			t.Errorf("chain %s verified after a deletion", codeA)
		}
		mustOK(t, verify(t, uc, codeB), 12)
	})
}

// TestTamperingIsDetected changes the stored chain behind the platform's
// back, as a database owner could, and checks the first problem reported.
func TestTamperingIsDetected(t *testing.T) {
	t.Parallel()
	const n = 10
	rehash := func(t *testing.T, s store, uc *audit.Usecase, from int64, target string) []string {
		// A forger who knows the algorithm recomputes the hashes from the
		// altered entry to the end, but cannot move the head.
		rows, _, err := uc.Search(sys(), audit.Filter{TenantCode: codeA, PageSize: audit.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		var stmts []string
		prev := ""
		for i := len(rows) - 1; i >= 0; i-- {
			r := rows[i]
			if r.Seq < from {
				prev = r.Hash
				continue
			}
			if r.Seq == from {
				r.Target = target
			}
			r.PrevHash = prev
			r.Hash = audit.ComputeHash(&r)
			prev = r.Hash
			stmts = append(stmts, fmt.Sprintf(`UPDATE audit_entries SET target = '%s', prev_hash = '%s', hash = '%s' WHERE chain = '%s' AND seq = %d`,
				r.Target, r.PrevHash, r.Hash, codeA, r.Seq))
		}
		return stmts
	}
	tests := []struct {
		name     string
		tamper   func(t *testing.T, s store, uc *audit.Usecase) []string
		entries  int64
		wantSeq  int64
		wantKind audit.Kind
	}{
		{
			name: "altered target",
			tamper: func(*testing.T, store, *audit.Usecase) []string {
				return []string{`UPDATE audit_entries SET target = 'tenants/450126/innocent' WHERE chain = '450126' AND seq = 4`}
			},
			entries: n, wantSeq: 4, wantKind: audit.KindAltered,
		},
		{
			name: "altered time",
			tamper: func(_ *testing.T, s store, _ *audit.Usecase) []string {
				if s.dialect == "postgres" {
					return []string{`UPDATE audit_entries SET at = at - interval '1 day' WHERE chain = '450126' AND seq = 2`}
				}
				return []string{`UPDATE audit_entries SET at = '2020-01-01 00:00:00+00:00' WHERE chain = '450126' AND seq = 2`}
			},
			entries: n, wantSeq: 2, wantKind: audit.KindAltered,
		},
		{
			name: "deleted in the middle",
			tamper: func(*testing.T, store, *audit.Usecase) []string {
				return []string{`DELETE FROM audit_entries WHERE chain = '450126' AND seq IN (5, 6)`}
			},
			entries: n - 2, wantSeq: 7, wantKind: audit.KindGap,
		},
		{
			name: "deleted the first",
			tamper: func(*testing.T, store, *audit.Usecase) []string {
				return []string{`DELETE FROM audit_entries WHERE chain = '450126' AND seq = 1`}
			},
			entries: n - 1, wantSeq: 2, wantKind: audit.KindGap,
		},
		{
			name: "deleted the last",
			tamper: func(*testing.T, store, *audit.Usecase) []string {
				return []string{fmt.Sprintf(`DELETE FROM audit_entries WHERE chain = '450126' AND seq = %d`, n)}
			},
			entries: n - 1, wantSeq: n, wantKind: audit.KindTailMismatch,
		},
		{
			name: "one entry re-hashed",
			tamper: func(t *testing.T, s store, uc *audit.Usecase) []string {
				return rehash(t, s, uc, 3, "forged")[:1]
			},
			entries: n, wantSeq: 4, wantKind: audit.KindBrokenLink,
		},
		{
			name: "re-hashed to the end without the head",
			tamper: func(t *testing.T, s store, uc *audit.Usecase) []string {
				return rehash(t, s, uc, 3, "forged")
			},
			entries: n, wantSeq: n, wantKind: audit.KindTailMismatch,
		},
		{
			name: "entry slipped in beyond the head",
			tamper: func(*testing.T, store, *audit.Usecase) []string {
				return []string{fmt.Sprintf(`INSERT INTO audit_entries (chain, seq, tenant_id, at, actor, operation, outcome, hash) `+
					`VALUES ('450126', %d, 1, '2026-11-22 00:00:00+00:00', 'user:1', 'x', 'ok', 'x')`, n+1)}
			},
			entries: n, wantSeq: n + 1, wantKind: audit.KindUnheaded,
		},
		{
			name: "head removed",
			tamper: func(*testing.T, store, *audit.Usecase) []string {
				return []string{`DELETE FROM audit_heads WHERE chain = '450126'`}
			},
			entries: n, wantSeq: 1, wantKind: audit.KindUnheaded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, s store) {
				uc := newUsecase(s.db, audit.WithVerifyPageSize(3))
				appendN(t, uc, tenantA, codeA, n)
				appendN(t, uc, tenantB, codeB, 3)
				s.tamper(t, tt.tamper(t, s, uc)...)
				rep := verify(t, uc, codeA)
				if rep.OK || len(rep.Problems) == 0 {
					t.Fatalf("tampered chain verified: %+v", rep)
				}
				if p := rep.Problems[0]; p.Seq != tt.wantSeq || p.Kind != tt.wantKind {
					t.Errorf("first problem = %+v, want %s at seq %d (all: %+v)", p, tt.wantKind, tt.wantSeq, rep.Problems)
				}
				if rep.Entries != tt.entries {
					t.Errorf("entries = %d, want %d", rep.Entries, tt.entries)
				}
				mustOK(t, verify(t, uc, codeB), 3)
			})
		})
	}
}

// TestTamperingWithTheOwnersOwnRightsIsRefused: without disabling the
// trigger first, even the owner cannot change the trail on PostgreSQL.
func TestTamperingWithTheOwnersOwnRightsIsRefused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s store) {
		if s.dialect != "postgres" {
			t.Skip("SQLite has no triggers guarding the trail; the ent privacy rules are its only guard")
		}
		uc := newUsecase(s.db)
		appendN(t, uc, tenantA, codeA, 2)
		var triggers int
		if err := s.owner.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal`).Scan(&triggers); err != nil {
			t.Fatal(err)
		}
		if triggers == 0 {
			t.Skip("the append-only trigger is not in this schema")
		}
		for _, q := range []string{`UPDATE audit_entries SET target = 'x'`, `DELETE FROM audit_entries`, `TRUNCATE audit_entries`} {
			if _, err := s.owner.ExecContext(t.Context(), q); err == nil {
				t.Errorf("%s as owner succeeded", q)
			}
		}
		mustOK(t, verify(t, uc, codeA), 2)
	})
}

func TestEntriesCannotChangeThroughEnt(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		appendN(t, uc, tenantA, codeA, 3)
		ctx := sys()
		first, err := db.Ent.AuditEntry.Query().First(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for name, op := range map[string]func(context.Context) error{
			"update one": func(ctx context.Context) error { return db.Ent.AuditEntry.UpdateOneID(first.ID).Exec(ctx) },
			"update all": func(ctx context.Context) error { return db.Ent.AuditEntry.Update().Exec(ctx) },
			"delete one": func(ctx context.Context) error { return db.Ent.AuditEntry.DeleteOneID(first.ID).Exec(ctx) },
			"delete all": func(ctx context.Context) error { _, err := db.Ent.AuditEntry.Delete().Exec(ctx); return err },
		} {
			for who, ctx := range map[string]context.Context{"system": sys(), "tenant admin": tenantViewer(tenantA, codeA, "tenant_admin")} {
				if err := op(ctx); err == nil {
					t.Errorf("%s as %s succeeded", name, who)
				}
			}
		}
		// Only the system appends; only the system sees the heads.
		err = db.Ent.AuditEntry.Create().SetChain(codeA).SetSeq(99).SetTenantID(tenantA).SetAt(time.Now()).
			SetActor("user:9").SetOperation("x").SetOutcome("ok").SetHash("x").Exec(tenantViewer(tenantA, codeA, "tenant_admin"))
		if err == nil {
			t.Error("a tenant admin created an audit entry")
		}
		if n, err := db.Ent.AuditHead.Query().Count(tenantViewer(tenantA, codeA, "tenant_admin")); err == nil && n > 0 {
			t.Errorf("a tenant admin sees %d audit heads", n)
		}
		mustOK(t, verify(t, uc, codeA), 3)
	})
}

func TestAppendRollsBackWithTheCaller(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		boom := errors.New("the audited write failed")
		// The first append of a chain also creates its head: both go.
		err := db.InTx(tenantViewer(tenantA, codeA), func(ctx context.Context) error {
			if err := uc.Append(ctx, entry(tenantA, codeA, 1)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if n := db.Ent.AuditEntry.Query().CountX(sys()); n != 0 {
			t.Errorf("%d entries after rollback", n)
		}
		if n := db.Ent.AuditHead.Query().CountX(sys()); n != 0 {
			t.Errorf("%d heads after rollback", n)
		}
		// Later appends start the chain afresh, and a committed unit of
		// work keeps its entry.
		if err := db.InTx(tenantViewer(tenantA, codeA), func(ctx context.Context) error {
			return uc.Append(ctx, entry(tenantA, codeA, 2))
		}); err != nil {
			t.Fatal(err)
		}
		appendN(t, uc, tenantA, codeA, 1)
		err = db.InTx(sys(), func(ctx context.Context) error {
			if err := uc.Append(ctx, entry(tenantA, codeA, 3)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		mustOK(t, verify(t, uc, codeA), 2)
	})
}

func TestHostileValuesAppendAndVerify(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s store) {
		uc := newUsecase(s.db)
		hostile := []string{
			`'; DROP TABLE audit_entries; --`,
			`" OR 1=1 --`,
			strings.Repeat("x", 10<<10),
			strings.Repeat("审计", 2000),
			"nul\x00in\x00the\x00middle",
			"bad \xff\xfe utf-8 \xc3",
			"%_\\ like wildcards",
			"",
		}
		for i, v := range hostile {
			e := audit.Entry{
				TenantID: tenantA, TenantCode: codeA, Actor: v, ActorName: v, Role: v, Operation: v,
				Target: v, RequestID: v, SourceAddr: v, Outcome: v, Detail: v,
			}
			if err := uc.Append(context.Background(), e); err != nil {
				t.Fatalf("append hostile value %d: %v", i, err)
			}
		}
		mustOK(t, verify(t, uc, codeA), int64(len(hostile)))
		rows, _, err := uc.Search(sys(), audit.Filter{TenantCode: codeA})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for name, pair := range map[string]struct {
				v     string
				limit int
			}{"actor": {r.Actor, audit.MaxActor}, "target": {r.Target, audit.MaxTarget}, "detail": {r.Detail, audit.MaxDetail}} {
				if len(pair.v) > pair.limit || !utf8.ValidString(pair.v) || strings.ContainsRune(pair.v, 0) {
					t.Errorf("seq %d %s = %q: not bounded and clean", r.Seq, name, pair.v)
				}
			}
		}
		// The 10 KB target is cut with a marker; the NUL is visible.
		byTarget := map[int64]string{}
		for _, r := range rows {
			byTarget[r.Seq] = r.Target
		}
		if got := byTarget[3]; !strings.HasSuffix(got, "…[truncated, 10240 bytes]") {
			t.Errorf("long target stored as %q", got)
		}
		if got := byTarget[5]; got != `nul\x00in\x00the\x00middle` {
			t.Errorf("NUL target stored as %q", got)
		}
		// The table survived the injection attempt.
		if rows, _, err := uc.Search(sys(), audit.Filter{TenantCode: codeA, Target: `'; DROP TABLE audit_entries; --`}); err != nil || len(rows) != 1 {
			t.Errorf("search by the injection string: %d rows, %v", len(rows), err)
		}
	})
}

func TestSearch(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s store) {
		base := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
		uc := newUsecase(s.db)
		const nA = 25
		for i := range nA {
			e := entry(tenantA, codeA, i)
			e.At = base.Add(time.Duration(i) * time.Minute) // seq i+1 at base+i minutes
			if err := uc.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		appendN(t, uc, tenantB, codeB, 5)
		if err := uc.Append(context.Background(), audit.Entry{Actor: "system", Operation: "platform-op", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		admin := tenantViewer(tenantA, codeA, "tenant_admin")
		seqs := func(rows []audit.Record) []int64 {
			out := make([]int64, 0, len(rows))
			for _, r := range rows {
				if r.Chain != codeA || r.TenantID != tenantA {
					t.Errorf("tenant %s's search returned an entry of %s (tenant %d)", codeA, r.Chain, r.TenantID)
				}
				out = append(out, r.Seq)
			}
			return out
		}
		// Pagination: newest first, no duplicates, no losses.
		var all []int64
		tok := ""
		pages := 0
		for {
			rows, next, err := uc.Search(admin, audit.Filter{TenantCode: codeA, PageSize: 10, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			all = append(all, seqs(rows)...)
			if next == "" {
				break
			}
			tok = next
		}
		want := make([]int64, 0, nA)
		for i := nA; i >= 1; i-- {
			want = append(want, int64(i))
		}
		if diff := cmp.Diff(want, all); diff != "" || pages != 3 {
			t.Errorf("paged search in %d pages (-want +got):\n%s", pages, diff)
		}
		tests := []struct {
			name string
			f    audit.Filter
			want []int64
		}{
			{name: "actor", f: audit.Filter{Actor: "user:1"}, want: []int64{23, 20, 17, 14, 11, 8, 5, 2}},
			{name: "operation and outcome", f: audit.Filter{Operation: "/cityops.identity.v1.IdentityService/CreateUser", Outcome: "FORBIDDEN"}, want: []int64{24, 18, 12, 6}},
			{name: "target", f: audit.Filter{Target: "tenants/450126/items/7"}, want: []int64{8}},
			{name: "time range", f: audit.Filter{From: base.Add(5 * time.Minute), To: base.Add(10 * time.Minute)}, want: []int64{10, 9, 8, 7, 6}},
			{name: "time range in another zone", f: audit.Filter{From: base.Add(5 * time.Minute).In(time.FixedZone("CST", 8*3600))}, want: want[:20]},
			{name: "nothing", f: audit.Filter{Actor: "user:404"}, want: []int64{}},
		}
		for _, tt := range tests {
			rows, next, err := uc.Search(admin, tt.f)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if diff := cmp.Diff(tt.want, seqs(rows)); diff != "" || next != "" {
				t.Errorf("%s: next %q (-want +got):\n%s", tt.name, next, diff)
			}
		}
		// Tenant B's leader sees B's five entries only.
		rows, _, err := uc.Search(tenantViewer(tenantB, codeB, "leader"), audit.Filter{})
		if err != nil || len(rows) != 5 {
			t.Fatalf("tenant B search: %d rows, %v", len(rows), err)
		}
		for _, r := range rows {
			if r.Chain != codeB {
				t.Errorf("tenant B sees an entry of %s", r.Chain)
			}
		}
		// And the privacy rules hold below the use case too.
		if n, err := s.db.Ent.AuditEntry.Query().Count(admin); err != nil || n != nA {
			t.Errorf("tenant A counts %d entries through ent (%v), want %d", n, err, nA)
		}
		for _, tt := range []struct {
			name   string
			ctx    context.Context
			f      audit.Filter
			reason string
		}{
			{"another tenant", admin, audit.Filter{TenantCode: codeB}, "FORBIDDEN"},
			{"no tenant", tenantViewer(0, ""), audit.Filter{}, "FORBIDDEN"},
			{"no viewer", context.Background(), audit.Filter{}, "UNAUTHENTICATED"},
			{"bad token", admin, audit.Filter{PageToken: "not-a-token"}, "INVALID_ARGUMENT"},
			{"reversed range", admin, audit.Filter{From: base.Add(time.Hour), To: base}, "INVALID_ARGUMENT"},
			{"long filter", admin, audit.Filter{Target: strings.Repeat("x", 257)}, "INVALID_ARGUMENT"},
		} {
			if _, _, err := uc.Search(tt.ctx, tt.f); reason(err) != tt.reason {
				t.Errorf("%s: err = %v, want %s", tt.name, err, tt.reason)
			}
		}
		// The system sees the platform chain.
		rows, _, err = uc.Search(sys(), audit.Filter{})
		if err != nil || len(rows) != 1 || rows[0].Operation != "platform-op" || rows[0].TenantID != 0 {
			t.Errorf("platform search = %+v, %v", rows, err)
		}
	})
}

func TestVerifyIsScopedToTheViewersTenant(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		appendN(t, uc, tenantA, codeA, 2)
		rep, err := uc.Verify(tenantViewer(tenantA, codeA, "tenant_admin"), codeA)
		if err != nil || !rep.OK || rep.Entries != 2 {
			t.Errorf("own chain: %+v, %v", rep, err)
		}
		if _, err := uc.Verify(tenantViewer(tenantB, codeB, "tenant_admin"), codeA); reason(err) != "FORBIDDEN" {
			t.Errorf("another tenant's chain: %v", err)
		}
		if _, err := uc.Verify(context.Background(), codeA); reason(err) != "UNAUTHENTICATED" {
			t.Errorf("no viewer: %v", err)
		}
	})
}
