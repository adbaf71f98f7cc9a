package connector

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Config tunes the use cases; the zero value is the default.
type Config struct {
	// Now is the clock (tests).
	Now func() time.Time
}

// Usecase is what the connector API does.
type Usecase struct {
	repo      Repo
	tenants   TenantScoper
	tx        Transaction
	publisher Publisher
	inbound   InboundReplayer
	now       func() time.Time
}

// NewUsecase wires the connector use cases. publisher replays outbound
// dead letters and inbound replays inbound ones; either may be nil, and
// replaying then answers DEAD_LETTER_NOT_REPLAYABLE.
func NewUsecase(repo Repo, tenants TenantScoper, tx Transaction, publisher Publisher, inbound InboundReplayer, cfg Config) *Usecase {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Usecase{repo: repo, tenants: tenants, tx: tx, publisher: publisher, inbound: inbound, now: cfg.Now}
}

// SetInboundReplayer installs the inbound replayer once the federation
// consumer exists (it is built after the API in the platform's wiring).
func (u *Usecase) SetInboundReplayer(r InboundReplayer) { u.inbound = r }

// scope resolves the tenant of a call and checks that the viewer acts in
// it; a tenant the viewer does not act in answers TENANT_NOT_FOUND, like
// one that does not exist. A system viewer (cityctl) is narrowed to the
// tenant so that storage, and row-level security, see that tenant only.
func (u *Usecase) scope(ctx context.Context, code string) (context.Context, *tenant.Tenant, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return nil, nil, errorsv1.ErrorUnauthenticated("no viewer")
	}
	t, err := u.tenants.Scope(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	if v.IsSystem() {
		return viewer.TenantContext(ctx, t.ID, t.Code, t.Path), t, nil
	}
	if v.TenantID != t.ID {
		return nil, nil, tenant.NotFound(code)
	}
	return ctx, t, nil
}

// NotFound is CONNECTOR_NOT_FOUND for name.
func NotFound(name string) error {
	return federationv1.ErrorConnectorNotFound("connector %s not found", name).WithMetadata(map[string]string{"name": name})
}

// Exists is CONNECTOR_EXISTS for name.
func Exists(name string) error {
	return federationv1.ErrorConnectorExists("connector %s exists", name).WithMetadata(map[string]string{"name": name})
}

// DeadLetterNotFound is DEAD_LETTER_NOT_FOUND for id.
func DeadLetterNotFound(id int) error {
	return federationv1.ErrorDeadLetterNotFound("dead letter %d not found", id).WithMetadata(map[string]string{"id": strconv.Itoa(id)})
}

func invalid(field, zh, en string) error {
	return federationv1.ErrorConnectorInvalid("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

func notReplayable(id int, zh, en string) error {
	return federationv1.ErrorDeadLetterNotReplayable("dead letter %d: %s", id, en).WithMetadata(map[string]string{
		"id": strconv.Itoa(id), "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// SASL mechanisms a connector may name.
var saslMechanisms = []string{"", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// check normalizes and validates c's settings for tenant t (rules the
// request validation cannot see).
func check(t *tenant.Tenant, c *Connector) error {
	switch c.Direction {
	case Outbound, Inbound, CommandsIn, CommandsOut:
	default:
		return invalid("direction", "须为 outbound、inbound、commands_in 或 commands_out", "must be outbound, inbound, commands_in or commands_out")
	}
	switch c.Encoding {
	case "":
		c.Encoding = EncodingProto
	case EncodingProto, EncodingJSON:
	default:
		return invalid("encoding", "须为 proto 或 json", "must be proto or json")
	}
	seen := map[string]bool{}
	brokers := c.Brokers[:0:0]
	for _, b := range c.Brokers {
		if !seen[b] {
			seen[b] = true
			brokers = append(brokers, b)
		}
	}
	c.Brokers = brokers
	if !slices.Contains(saslMechanisms, c.SASLMechanism) {
		return invalid("sasl_mechanism", "须为空、SCRAM-SHA-256 或 SCRAM-SHA-512", "must be empty, SCRAM-SHA-256 or SCRAM-SHA-512")
	}
	switch {
	case c.SASLMechanism != "" && c.SASLSecretRef == "":
		return invalid("sasl_secret_ref", "使用 SASL 时须给出凭据的密钥引用（secret://…）", "SASL needs a secret reference (secret://…) to the credentials")
	case c.SASLMechanism == "" && c.SASLSecretRef != "":
		return invalid("sasl_mechanism", "给出了凭据引用却未指定 SASL 机制", "a credentials reference needs a SASL mechanism")
	case c.SASLSecretRef != "":
		if _, err := secrets.ParseRef(c.SASLSecretRef); err != nil {
			return invalid("sasl_secret_ref", "密钥引用格式不正确："+err.Error(), "malformed secret reference: "+err.Error())
		}
	}
	// A tenant speaks only on its own topics: cityops.<code>.… of another
	// tenant is refused where this tenant writes or is written to.
	own := map[Direction]string{Outbound: cloudevent.EventsTopic(t.Code), CommandsIn: cloudevent.CommandsTopic(t.Code)}
	if want, ok := own[c.Direction]; ok && c.Topic != "" && strings.HasPrefix(c.Topic, "cityops.") && c.Topic != want {
		return invalid("topic", "主题 "+c.Topic+" 属于其他租户，本租户的主题是 "+want,
			"topic "+c.Topic+" belongs to another tenant; this tenant's is "+want)
	}
	if len(c.SourceCodes) > 0 && c.Direction != Inbound && c.Direction != CommandsOut {
		return invalid("source_codes", "仅接入（inbound）和下发指令（commands_out）连接器可指定下级租户",
			"only inbound and commands_out connectors name descendant tenants")
	}
	for _, sc := range c.SourceCodes {
		if sc == t.Code {
			return invalid("source_codes", "不能接入本租户自己的数据", "a tenant does not consume its own feed")
		}
	}
	if c.GroupID == "" && (c.Direction == Inbound || c.Direction == CommandsIn) {
		// Inside the ACL prefix the tenant's principals may use
		// (deploy/kafka/users.yaml).
		c.GroupID = "cityops." + t.Code + "." + c.Name
	}
	return nil
}

// Create adds a connector to the tenant.
func (u *Usecase) Create(ctx context.Context, code string, c *Connector, startAtEnd bool) (*Connector, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, err
	}
	if c.Name == "" {
		return nil, invalid("name", "名称不能为空", "the name is required")
	}
	if err := check(t, c); err != nil {
		return nil, err
	}
	c.TenantID, c.Cursor = t.ID, 0
	var out *Connector
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		if startAtEnd && c.Direction == Outbound {
			if c.Cursor, err = u.repo.LastSeq(ctx, t.ID); err != nil {
				return err
			}
		}
		out, err = u.repo.Create(ctx, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u.status(ctx, t, out)
}

// Update replaces a connector's settings; cursor, when set, moves an
// outbound connector's position.
func (u *Usecase) Update(ctx context.Context, code, name string, c *Connector, cursor *int64) (*Connector, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, err
	}
	if c.Name != "" && c.Name != name {
		return nil, invalid("name", "连接器不能改名", "a connector cannot be renamed")
	}
	c.Name, c.TenantID = name, t.ID
	var out *Connector
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := u.repo.Get(ctx, t.ID, name)
		if err != nil {
			return err
		}
		if c.Direction == "" {
			c.Direction = cur.Direction
		}
		if c.Direction != cur.Direction {
			return invalid("direction", "连接器的方向不能更改", "a connector's direction cannot change")
		}
		if err := check(t, c); err != nil {
			return err
		}
		if cursor != nil {
			if c.Direction != Outbound {
				return invalid("cursor", "仅外发连接器有游标", "only outbound connectors have a cursor")
			}
			last, err := u.repo.LastSeq(ctx, t.ID)
			if err != nil {
				return err
			}
			if *cursor < 0 || *cursor > last {
				return invalid("cursor", fmt.Sprintf("游标须在 0 到 %d（最新事件序号）之间", last),
					fmt.Sprintf("the cursor must be between 0 and %d (the last event)", last))
			}
		}
		out, err = u.repo.Update(ctx, c, cursor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u.status(ctx, t, out)
}

// Delete removes a connector.
func (u *Usecase) Delete(ctx context.Context, code, name string) error {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return err
	}
	return u.repo.Delete(ctx, t.ID, name)
}

// Get returns one connector with its health.
func (u *Usecase) Get(ctx context.Context, code, name string) (*Connector, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, err
	}
	c, err := u.repo.Get(ctx, t.ID, name)
	if err != nil {
		return nil, err
	}
	return u.status(ctx, t, c)
}

// List returns the tenant's connectors (of one direction, or all) with
// their health.
func (u *Usecase) List(ctx context.Context, code string, d Direction) ([]*Connector, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, err
	}
	cs, err := u.repo.List(ctx, t.ID, d)
	if err != nil {
		return nil, err
	}
	last, err := u.repo.LastSeq(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	dead, err := u.repo.PendingDeadLetters(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		fill(c, last, dead)
	}
	return cs, nil
}

// status fills a connector's computed health.
func (u *Usecase) status(ctx context.Context, t *tenant.Tenant, c *Connector) (*Connector, error) {
	last, err := u.repo.LastSeq(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	dead, err := u.repo.PendingDeadLetters(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	fill(c, last, dead)
	return c, nil
}

func fill(c *Connector, last int64, dead map[string]int64) {
	c.DeadLetters = dead[c.Name]
	if c.Direction == Outbound {
		c.LastSeq, c.Lag = last, max(0, last-c.Cursor)
	}
}

// Page sizes of the dead-letter listing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ListDeadLetters returns one page of dead letters, newest first, and the
// token of the next page ("" at the end).
func (u *Usecase) ListDeadLetters(ctx context.Context, code string, f DeadLetterFilter, pageSize int, pageToken string) ([]*DeadLetter, string, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, "", err
	}
	switch {
	case pageSize <= 0:
		pageSize = DefaultPageSize
	case pageSize > MaxPageSize:
		pageSize = MaxPageSize
	}
	if pageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(pageToken)
		id, perr := strconv.Atoi(string(raw))
		if err != nil || perr != nil || id <= 0 {
			return nil, "", errorsv1.ErrorInvalidArgument("page_token: malformed").WithMetadata(map[string]string{
				"field": "page_token", "detail": "malformed page token"})
		}
		f.BeforeID = id
	}
	f.Limit = pageSize + 1
	ds, err := u.repo.ListDeadLetters(ctx, t.ID, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ds) > pageSize {
		ds = ds[:pageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(ds[len(ds)-1].ID)))
	}
	return ds, next, nil
}

// GetDeadLetter returns one dead letter with its payload.
func (u *Usecase) GetDeadLetter(ctx context.Context, code string, id int) (*DeadLetter, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, err
	}
	return u.repo.GetDeadLetter(ctx, t.ID, id)
}

// ReplayDeadLetter delivers a dead letter again and marks it replayed.
func (u *Usecase) ReplayDeadLetter(ctx context.Context, code string, id int) (*DeadLetter, error) {
	ctx, t, err := u.scope(ctx, code)
	if err != nil {
		return nil, err
	}
	d, err := u.repo.GetDeadLetter(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	c, err := u.repo.Get(ctx, t.ID, d.Connector)
	if err != nil && !federationv1.IsConnectorNotFound(err) {
		return nil, err
	}
	if err != nil {
		c = nil
	}
	switch d.Direction {
	case Outbound, CommandsOut:
		switch {
		case c == nil:
			return nil, notReplayable(id, "其连接器 "+d.Connector+" 已删除", "its connector "+d.Connector+" was deleted")
		case u.publisher == nil:
			return nil, notReplayable(id, "本进程未配置外发重放", "this process has no outbound replay")
		case d.Headers[cloudevent.HeaderID] == "":
			return nil, notReplayable(id, "该事件未能封装成消息（"+d.Reason+"），无可重发的内容",
				"no record was built for it ("+d.Reason+"), so there is nothing to publish")
		}
		err = u.publisher.Republish(ctx, t, c, d)
	default:
		if u.inbound == nil {
			return nil, notReplayable(id, "本进程未配置接入重放", "this process has no inbound replay")
		}
		err = u.inbound.ReplayInbound(ctx, t, c, d)
	}
	if err != nil {
		if ke := kerrors.FromError(err); ke != nil && ke.Reason != "" && ke.Code != 500 {
			return nil, err
		}
		return nil, federationv1.ErrorDeadLetterReplayFailed("dead letter %d: %v", id, err).WithMetadata(map[string]string{
			"id": strconv.Itoa(id), "detail": err.Error()})
	}
	return u.repo.MarkReplayed(ctx, t.ID, id, u.now())
}
