package federation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// PostSuperior is the post recorded on the timeline steps a command from
// an ancestor makes (上级平台).
const PostSuperior = "superior"

// CommandsIn returns the processor of a commands_in connector of tenant
// receiver: it applies the commands its ancestors send down on
// cityops.<receiver>.commands to the receiver's own cases and answers
// RECEIVED (or REJECTED, with the reason) in the receiver's event log.
func (e *Engine) CommandsIn(receiver, connector string) Processor {
	return &commandsIn{e: e, receiver: receiver, connector: connector}
}

type commandsIn struct {
	e         *Engine
	receiver  string
	connector string
}

func (p *commandsIn) Process(ctx context.Context, m *Message) error {
	if p.e.d.Events == nil || p.e.d.Cases == nil || p.e.d.Supervisor == nil {
		return errors.New("federation: the commands consumer needs Events, Cases and Supervisor")
	}
	recv, err := p.e.tenants.get(ctx, p.receiver)
	if err != nil {
		return fmt.Errorf("commands %s/%s: receiver: %w", p.receiver, p.connector, err)
	}
	v, err := p.e.verify(ctx, recv, m, true)
	if err != nil {
		return p.e.refused(ctx, recv, p.connector, DirectionCommandsIn, m, err)
	}
	env, issuer := v.env, v.sender
	if env.Type != TypeCommandIssued {
		return p.e.refused(ctx, recv, p.connector, DirectionCommandsIn, m, refuse(ReasonUnknownType, "type %q is not a command", env.Type))
	}
	cmd, err := decodeCommand(env, issuer.Code, recv.Code)
	if err == nil && (!storable(env.ID, 64) || !storable(cmd.GetCaseNumber(), 32)) {
		err = refuse(ReasonMalformed, "id or case number is too long or not text")
	}
	if err != nil {
		return p.e.refused(ctx, recv, p.connector, DirectionCommandsIn, m, err)
	}
	// Free text goes into text columns: no NUL, valid UTF-8.
	cmd.Reason, cmd.IssuedBy = clean(cmd.GetReason()), clean(cmd.GetIssuedBy())
	if a := cmd.GetAssigned(); a != nil {
		a.Description, a.Address, a.ClassCode, a.Urgency = clean(a.GetDescription()), clean(a.GetAddress()), clean(a.GetClassCode()), clean(a.GetUrgency())
	}
	data, err := proto.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("encode command: %w", err)
	}
	now := p.e.now()
	ev := &Event{
		TenantID: recv.ID, EventID: env.ID, SourceCode: issuer.Code, SourceSeq: env.Sequence, Type: env.Type,
		Subject: cmd.GetCaseNumber(), Time: env.Time.UTC().Truncate(time.Microsecond), Data: data, ReceivedAt: now,
	}
	// The platform acts in the child for the ancestor: a 督办 needs a
	// leader's post, a 转办 an intake seat's.
	act := actingIn(ctx, recv, "上级指令·"+issuerLabel(issuer), viewer.RoleLeader, viewer.RoleIntake)
	duplicate := false
	err = p.e.d.Tx.InTx(act, func(ctx context.Context) error {
		fresh, err := p.e.d.Store.InsertEvent(ctx, ev)
		if err != nil || !fresh {
			duplicate = !fresh
			return err
		}
		number, err := p.execute(ctx, recv, issuer, cmd)
		if err != nil {
			return err
		}
		return p.record(ctx, recv, cmd, data, StatusReceived, "", number, now)
	})
	if refusal := businessError(err); refusal != "" {
		// The command is valid but cannot be carried out (the case is
		// closed, unknown, the deadline passed …): it is refused, and the
		// refusal travels up like an answer.
		err = p.e.d.Tx.InTx(act, func(ctx context.Context) error {
			fresh, err := p.e.d.Store.InsertEvent(ctx, ev)
			if err != nil || !fresh {
				duplicate = !fresh
				return err
			}
			return p.record(ctx, recv, cmd, data, StatusRejected, refusal, cmd.GetCaseNumber(), now)
		})
	}
	if err != nil {
		return fmt.Errorf("apply command %s from %s: %w", cmd.GetCommandId(), issuer.Code, err)
	}
	if p.e.cfg.OnApplied != nil {
		p.e.cfg.OnApplied(recv.Code, m, env, duplicate)
	}
	return nil
}

// businessError returns why a command was refused when err is a client
// error (4xx) of a use case, "" for nil and for anything that may succeed
// later (database, backends).
func businessError(err error) string {
	if err == nil {
		return ""
	}
	var ke *kerrors.Error
	if !errors.As(err, &ke) || ke.Code < 400 || ke.Code >= 500 || caseflowv1.IsCaseConflict(err) {
		// A lost race with a concurrent change of the case is worth
		// another attempt.
		return ""
	}
	msg := ke.Reason
	if d := ke.Metadata["detail_zh"]; d != "" {
		msg += "：" + d
	} else if ke.Message != "" {
		msg += ": " + ke.Message
	}
	return clip(msg, 1000)
}

func issuerLabel(t *tenant.Tenant) string {
	if t.NameZH != "" {
		return t.NameZH + "(" + t.Code + ")"
	}
	return t.Code
}

// execute carries the command out on the receiver's cases and returns the
// case it concerns (the new one for ASSIGN).
func (p *commandsIn) execute(ctx context.Context, recv, issuer *tenant.Tenant, cmd *federationv1.Command) (string, error) {
	reason := strings.TrimSpace(cmd.GetReason())
	if reason == "" {
		reason = "上级指令"
	}
	label := "上级督办（" + issuerLabel(issuer) + "）：" + reason
	switch kindOf(cmd.GetKind()) {
	case KindSupervise:
		if cmd.GetDeadline() == nil {
			return "", errorsv1.ErrorInvalidArgument("deadline: a supervision needs a deadline").
				WithMetadata(map[string]string{"field": "deadline", "detail_zh": "督办须有办理时限", "detail_en": "a supervision needs a deadline"})
		}
		_, err := p.e.d.Supervisor.Supervise(ctx, supervision.SuperviseInput{
			TenantCode: recv.Code, CaseNumber: cmd.GetCaseNumber(), Reason: label, Deadline: cmd.GetDeadline().AsTime(),
		})
		return cmd.GetCaseNumber(), err
	case KindFeedbackRequest:
		detail := map[string]string{"command_id": cmd.GetCommandId(), "issuer": issuer.Code, "kind": string(KindFeedbackRequest)}
		if d := cmd.GetDeadline(); d != nil {
			detail["deadline"] = d.AsTime().UTC().Format(time.RFC3339)
		}
		_, err := p.e.d.Cases.Mark(ctx, cmd.GetCaseNumber(), caseflow.OpRemind, PostSuperior,
			caseflow.Input{Opinion: "上级要求反馈（" + issuerLabel(issuer) + "）：" + reason},
			func(c *caseflow.Case) (map[string]string, error) {
				c.ReminderCount++
				detail["reminders"] = strconv.Itoa(c.ReminderCount)
				return detail, nil
			})
		return cmd.GetCaseNumber(), err
	case KindAssign:
		a := cmd.GetAssigned()
		c, err := p.e.d.Cases.Submit(ctx, caseflow.SubmitInput{
			Source: caseflow.SourceSuperior, Kind: caseflow.Kind(enumName(a.GetKind().String(), "CASE_KIND_")),
			ClassCode: a.GetClassCode(), Description: label + "。" + a.GetDescription(), Lon: a.GetLon(), Lat: a.GetLat(),
			Address: a.GetAddress(), Urgency: a.GetUrgency(),
		})
		if err != nil {
			return "", err
		}
		return c.Number, nil
	}
	return "", errorsv1.ErrorInvalidArgument("kind: unknown command kind")
}

// record keeps the received command and appends the response event.
func (p *commandsIn) record(ctx context.Context, recv *tenant.Tenant, cmd *federationv1.Command, data []byte,
	status CommandStatus, response, number string, now time.Time) error {
	c := &Command{
		TenantID: recv.ID, CommandID: cmd.GetCommandId(), TargetCode: recv.Code, Kind: kindOf(cmd.GetKind()),
		CaseNumber: number, Reason: cmd.GetReason(), Status: status, Response: response,
		PublishedAt: &now, ReceivedAt: &now, CreatedBy: clip(cmd.GetIssuedBy(), 64), Payload: data,
		CreatedAt: now, UpdatedAt: now,
	}
	if d := cmd.GetDeadline(); d != nil {
		t := d.AsTime().UTC().Truncate(time.Microsecond)
		c.Deadline = &t
	}
	if status != StatusReceived {
		c.AnsweredAt = &now
	}
	if _, err := p.e.d.Store.CreateCommand(ctx, c); err != nil {
		return err
	}
	return appendResponse(ctx, p.e.d.Events, recv, c.CommandID, status, response, number, now)
}

// appendResponse appends a CommandResponse to the tenant's own event log,
// in the caller's transaction; the outbound relay carries it up.
func appendResponse(ctx context.Context, log EventLog, t *tenant.Tenant, commandID string, status CommandStatus,
	response, number string, now time.Time) error {
	id, err := newUUID()
	if err != nil {
		return err
	}
	data, err := proto.Marshal(&federationv1.CommandResponse{
		CommandId: commandID, ResponderCode: t.Code, Status: protoStatus(status), Response: response,
		CaseNumber: number, At: timestamppb.New(now),
	})
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return log.Append(ctx, &caseflow.Event{TenantID: t.ID, ID: id, Type: TypeCommandResponse, Subject: number, Time: now, Data: data})
}
