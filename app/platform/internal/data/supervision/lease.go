package supervision

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/ent/lease"
)

type leaseRepo struct {
	db *database.DB
}

// NewLeaseRepo returns the lease repository. Leases are the platform's own
// rows (row-level security reserves them to cityops.system), so it acts as
// the system whatever the caller's viewer.
func NewLeaseRepo(db *database.DB) biz.LeaseRepo { return &leaseRepo{db: db} }

var _ biz.LeaseRepo = (*leaseRepo)(nil)

// acquireSQL takes a lease in one statement, so it is race-free without
// locks of its own: the INSERT creates a missing lease; on conflict the row
// is locked (PostgreSQL) or the database is (SQLite), and the UPDATE's
// WHERE lets only its holder (a renewal) or anyone after expiry (a
// takeover) through. A concurrent taker that lost re-reads the row after
// the winner's commit and finds it neither expired nor its own, so it gets
// no row back. The fencing token grows with every change of holder.
// Both dialects accept it (SQLite ≥ 3.35 for RETURNING); only the
// placeholders differ.
const acquireSQL = `INSERT INTO leases (name, holder, expires_at, fencing) VALUES (?, ?, ?, 1)
ON CONFLICT (name) DO UPDATE SET
  holder = excluded.holder,
  expires_at = excluded.expires_at,
  fencing = CASE WHEN leases.holder = excluded.holder THEN leases.fencing ELSE leases.fencing + 1 END
WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
RETURNING fencing`

// releaseSQL ends a lease its holder gives up (expired as of now).
const releaseSQL = `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at > ?`

// placeholders rewrites ? into PostgreSQL's $1, $2 … (the statements have
// no literal question marks).
func (r *leaseRepo) placeholders(q string) string {
	if r.db.Dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func system(ctx context.Context) context.Context {
	return viewer.SystemContext(ctx, "supervision lease")
}

// TryAcquire implements biz.LeaseRepo. Times are stored in UTC at
// microsecond precision, which both databases keep and which SQLite's text
// times then compare correctly.
func (r *leaseRepo) TryAcquire(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (*biz.Lease, bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return nil, false, errors.New("lease: name, holder and a positive ttl are required")
	}
	now = now.UTC().Truncate(time.Microsecond)
	expires := now.Add(ttl)
	var (
		out *biz.Lease
		won bool
	)
	err := r.db.InTx(system(database.WithoutTx(ctx)), func(ctx context.Context) error {
		rows, err := r.db.Client(ctx).QueryContext(ctx, r.placeholders(acquireSQL), name, holder, expires, now)
		if err != nil {
			return err
		}
		var fencing int64
		if rows.Next() {
			if err := rows.Scan(&fencing); err != nil {
				return errors.Join(err, rows.Close())
			}
			won = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if won {
			out = &biz.Lease{Name: name, Holder: holder, ExpiresAt: expires, Fencing: fencing}
			return nil
		}
		cur, err := r.db.Client(ctx).Lease.Query().Where(lease.Name(name)).Only(ctx)
		if err != nil {
			return err
		}
		out = &biz.Lease{Name: cur.Name, Holder: cur.Holder, ExpiresAt: cur.ExpiresAt.UTC(), Fencing: cur.Fencing}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return out, won, nil
}

// Release implements biz.LeaseRepo.
func (r *leaseRepo) Release(ctx context.Context, name, holder string, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	err := r.db.InTx(system(database.WithoutTx(ctx)), func(ctx context.Context) error {
		_, err := r.db.Client(ctx).ExecContext(ctx, r.placeholders(releaseSQL), now, name, holder, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
