package relay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	entconnector "github.com/cityops/cityops/ent/connector"
	"github.com/cityops/cityops/ent/deadletter"
	"github.com/cityops/cityops/ent/eventhead"
)

// errLeaseLost is returned when another replica holds the connector now
// (this one's lease expired): the batch was published but its cursor is
// the other replica's to move, so it will be published again.
var errLeaseLost = errors.New("relay: lease lost")

// eventStream is the event head stream of the outbound log.
const eventStream = "events"

// connector is what the relay needs of a claimed outbound connector.
type connector struct {
	ID         int
	TenantID   int
	TenantCode string
	TenantPath string
	Name       string
	Dest       Destination
	EventTypes []string
	Encoding   string
	Cursor     int64
}

// fingerprint changes when a setting that shapes the published feed
// changes, so the relay restarts the connector's work with it.
func (c *connector) fingerprint() string {
	return strings.Join([]string{c.Dest.key(), strings.Join(c.EventTypes, ","), c.Encoding, c.TenantCode}, "|")
}

// wants reports whether the connector relays an event type.
func (c *connector) wants(typ string) bool {
	if len(c.EventTypes) == 0 {
		return true
	}
	for _, p := range c.EventTypes {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// store is the relay's access to the database. Connector bookkeeping
// (leases, cursors, status) is written with plain SQL so it does not touch
// updated_at, which tells operators when the settings changed.
type store struct {
	db     *database.DB
	holder string
	now    func() time.Time
	ttl    time.Duration
}

// sys is the context of the relay's cross-tenant bookkeeping.
func sys(ctx context.Context) context.Context { return viewer.SystemContext(ctx, "federation relay") }

// rebind turns ? placeholders into $n for PostgreSQL.
func (s *store) rebind(q string) string {
	if s.db.Dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// exec runs one statement as the system and returns the rows affected.
func (s *store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.db.Client(ctx).ExecContext(sys(ctx), s.rebind(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// claim renews the leases this replica holds on enabled outbound
// connectors and claims free or expired ones up to limit in all, then
// returns every connector it holds. On PostgreSQL the claim is one
// UPDATE of the rows a SELECT … FOR UPDATE SKIP LOCKED picked, so replicas
// claiming at once never wait for or take each other's rows; SQLite
// serializes writers, so there a read and conditional updates in one
// (immediate) transaction do the same.
func (s *store) claim(ctx context.Context, limit int) ([]*connector, error) {
	now := s.now().UTC()
	until := now.Add(s.ttl)
	var ids []int
	err := s.db.InTx(sys(ctx), func(ctx context.Context) error {
		ids = ids[:0]
		// Renew first: a lease of ours is ours even when a concurrent
		// cursor update holds its row lock.
		mine, err := s.exec(ctx, `UPDATE connectors SET lease_expires_at = ?
			WHERE lease_holder = ? AND direction = 'outbound' AND enabled = ?`, until, s.holder, true)
		if err != nil {
			return fmt.Errorf("renew leases: %w", err)
		}
		limit := limit - int(mine)
		if limit <= 0 {
			return nil
		}
		if s.db.Dialect == dialect.Postgres {
			// The candidates in a CTE, which PostgreSQL evaluates once: as
			// a plain IN (subquery) it may be rescanned and, skipping the
			// rows it just locked, claim more than limit.
			rows, err := database.TxFromContext(ctx).QueryContext(ctx, `WITH free AS (
					SELECT id FROM connectors
					WHERE direction = 'outbound' AND enabled AND lease_holder <> $1
					  AND (lease_holder = '' OR lease_expires_at IS NULL OR lease_expires_at < $3)
					ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
				UPDATE connectors SET lease_holder = $1, lease_expires_at = $2
				FROM free WHERE connectors.id = free.id
				RETURNING connectors.id`, s.holder, until, now, limit)
			if err != nil {
				return fmt.Errorf("claim connectors: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					return fmt.Errorf("claim connectors: %w", err)
				}
				ids = append(ids, id)
			}
			return rows.Err()
		}
		free, err := s.db.Client(ctx).Connector.Query().
			Where(entconnector.DirectionEQ(entconnector.DirectionOutbound), entconnector.Enabled(true),
				entconnector.LeaseHolderNEQ(s.holder)).
			Order(entconnector.ByID()).All(ctx)
		if err != nil {
			return fmt.Errorf("claim connectors: %w", err)
		}
		for _, c := range free {
			if len(ids) >= limit {
				break
			}
			if c.LeaseHolder != "" && c.LeaseExpiresAt != nil && !c.LeaseExpiresAt.Before(now) {
				continue
			}
			n, err := s.exec(ctx, `UPDATE connectors SET lease_holder = ?, lease_expires_at = ? WHERE id = ? AND lease_holder = ?`,
				s.holder, until, c.ID, c.LeaseHolder)
			if err != nil {
				return fmt.Errorf("claim connector %d: %w", c.ID, err)
			}
			if n == 1 {
				ids = append(ids, c.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.held(ctx)
}

// held loads every enabled outbound connector this replica holds.
func (s *store) held(ctx context.Context) ([]*connector, error) {
	rows, err := s.db.Ent.Connector.Query().
		Where(entconnector.LeaseHolder(s.holder), entconnector.DirectionEQ(entconnector.DirectionOutbound), entconnector.Enabled(true)).
		WithTenant().Order(entconnector.ByID()).All(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("load connectors: %w", err)
	}
	out := make([]*connector, 0, len(rows))
	for _, c := range rows {
		out = append(out, toConnector(c))
	}
	return out, nil
}

func toConnector(c *ent.Connector) *connector {
	out := &connector{
		ID: c.ID, TenantID: c.TenantID, Name: c.Name, EventTypes: slices.Clone(c.EventTypes),
		Encoding: string(c.Encoding), Cursor: c.Cursor,
		Dest: Destination{Brokers: slices.Clone(c.Brokers), Topic: c.Topic, TLS: c.TLS,
			SASLMechanism: c.SaslMechanism, SASLSecretRef: c.SaslSecretRef},
	}
	if t := c.Edges.Tenant; t != nil {
		out.TenantCode, out.TenantPath = t.Code, t.Path
	}
	if out.Dest.Topic == "" && out.TenantCode != "" {
		out.Dest.Topic = cloudevent.EventsTopic(out.TenantCode)
	}
	return out
}

// cursor reads a connector's cursor, and whether this replica still holds
// it.
func (s *store) cursor(ctx context.Context, id int) (int64, bool, error) {
	c, err := s.db.Ent.Connector.Get(sys(ctx), id)
	if err != nil {
		if ent.IsNotFound(err) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("read cursor: %w", err)
	}
	return c.Cursor, c.LeaseHolder == s.holder && c.Enabled, nil
}

// release gives up leases this replica holds (all of them with no ids).
func (s *store) release(ctx context.Context, ids ...int) error {
	if len(ids) == 0 {
		_, err := s.exec(ctx, `UPDATE connectors SET lease_holder = '', lease_expires_at = NULL WHERE lease_holder = ?`, s.holder)
		return err
	}
	for _, id := range ids {
		if _, err := s.exec(ctx, `UPDATE connectors SET lease_holder = '', lease_expires_at = NULL WHERE id = ? AND lease_holder = ?`, id, s.holder); err != nil {
			return err
		}
	}
	return nil
}

// events reads up to limit entries of a tenant's log after seq, in the
// tenant's scope (row-level security shows the relay that tenant only).
// Sequences are gapless, so the next batch is exactly the range
// (after, after+limit]: bounding it keeps the read at one batch of rows
// whatever plan the database picks (without statistics, a freshly
// bulk-loaded backlog would be read whole and sorted for every batch). An
// empty range falls back to the open query, which also steps over a gap
// should one ever exist.
func (s *store) events(ctx context.Context, c *connector, after int64, limit int) ([]*row, error) {
	const q = `SELECT seq, event_id, type, subject, time, data FROM tenant_events
		WHERE tenant_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`
	var out []*row
	read := func(ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error)) error {
		for _, upto := range []int64{after + int64(limit), math.MaxInt64} {
			out = out[:0]
			rows, err := query(ctx, s.rebind(q), c.TenantID, after, upto, limit)
			if err != nil {
				return err
			}
			for rows.Next() {
				rw := &row{}
				if err := rows.Scan(&rw.Seq, &rw.ID, &rw.Type, &rw.Subject, &rw.Time, &rw.Data); err != nil {
					rows.Close()
					return err
				}
				rw.Time = rw.Time.UTC()
				out = append(out, rw)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(out) > 0 {
				return nil
			}
		}
		return nil
	}
	var err error
	if s.db.Dialect == dialect.Postgres {
		// One transaction carries the tenant scope for row-level security.
		tctx := viewer.TenantContext(ctx, c.TenantID, c.TenantCode, c.TenantPath)
		err = s.db.InTx(tctx, func(ctx context.Context) error {
			return read(ctx, database.TxFromContext(ctx).QueryContext)
		})
	} else {
		// SQLite has no row-level security, and a transaction would take
		// its write lock: a plain read, filtered by tenant.
		err = read(ctx, s.db.SQL.QueryContext)
	}
	if err != nil {
		return nil, fmt.Errorf("read events of tenant %s: %w", c.TenantCode, err)
	}
	return out, nil
}

// LastSeq returns the last sequence of a tenant's event log (0 when it has
// none), for lag = LastSeq − cursor.
func LastSeq(ctx context.Context, db *database.DB, tenantID int) (int64, error) {
	h, err := db.Client(ctx).EventHead.Query().
		Where(eventhead.TenantID(tenantID), eventhead.Stream(eventStream)).Only(sys(ctx))
	if err != nil {
		if ent.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("last event sequence: %w", err)
	}
	return h.Last, nil
}

// deadLetter is an event the relay gave up on.
type deadLetter struct {
	seq     int64
	eventID string
	typ     string
	source  string
	reason  string
	detail  string
	payload []byte
	headers map[string]string
}

// commit records a published prefix of a batch in one transaction: the
// dead letters of its poison events, then the cursor, moved only if this
// replica still holds the lease (renewing it). lastEvent is the time of
// the last event relayed, zero when none was.
func (s *store) commit(ctx context.Context, c *connector, cursor int64, lastEvent time.Time, dead []*deadLetter) error {
	now := s.now().UTC()
	return s.db.InTx(sys(ctx), func(ctx context.Context) error {
		if len(dead) > 0 {
			cl := s.db.Client(ctx)
			bulk := make([]*ent.DeadLetterCreate, len(dead))
			for i, d := range dead {
				bulk[i] = cl.DeadLetter.Create().SetTenantID(c.TenantID).SetConnector(c.Name).
					SetDirection(deadletter.DirectionOutbound).SetEventID(d.eventID).SetSeq(d.seq).
					SetEventType(d.typ).SetSource(d.source).SetReason(d.reason).SetDetail(d.detail).
					SetTopic(c.Dest.Topic).SetPayload(d.payload).SetHeaders(d.headers).SetCreatedAt(now)
			}
			if err := cl.DeadLetter.CreateBulk(bulk...).Exec(ctx); err != nil {
				return fmt.Errorf("record dead letters: %w", err)
			}
		}
		var last any
		if !lastEvent.IsZero() {
			last = lastEvent.UTC()
		}
		n, err := s.exec(ctx, `UPDATE connectors SET cursor = ?, lease_expires_at = ?, last_success_at = ?,
			last_event_at = COALESCE(?, last_event_at), last_error = '', failures = 0
			WHERE id = ? AND lease_holder = ? AND cursor <= ?`,
			cursor, now.Add(s.ttl), now, last, c.ID, s.holder, cursor)
		if err != nil {
			return fmt.Errorf("advance cursor: %w", err)
		}
		if n != 1 {
			return errLeaseLost
		}
		return nil
	})
}

// failed records a failed batch on the connector (its last error and the
// count of consecutive failures).
func (s *store) failed(ctx context.Context, c *connector, cause error) error {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	_, err := s.exec(ctx, `UPDATE connectors SET last_error = ?, failures = failures + 1 WHERE id = ? AND lease_holder = ?`,
		msg, c.ID, s.holder)
	return err
}
