package service

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
)

// SupervisionService serves cityops.supervision.v1.SupervisionService over
// HTTP and gRPC.
type SupervisionService struct {
	supervisionv1.UnimplementedSupervisionServiceServer
	uc *biz.Usecase
}

// NewSupervisionService returns the supervision API over its use cases.
func NewSupervisionService(uc *biz.Usecase) *SupervisionService { return &SupervisionService{uc: uc} }

var (
	_ supervisionv1.SupervisionServiceServer     = (*SupervisionService)(nil)
	_ supervisionv1.SupervisionServiceHTTPServer = (*SupervisionService)(nil)
)

var (
	originToProto = map[biz.Origin]supervisionv1.SupervisionOrigin{
		biz.OriginAuto:     supervisionv1.SupervisionOrigin_SUPERVISION_ORIGIN_AUTO,
		biz.OriginManual:   supervisionv1.SupervisionOrigin_SUPERVISION_ORIGIN_MANUAL,
		biz.OriginUpstream: supervisionv1.SupervisionOrigin_SUPERVISION_ORIGIN_UPSTREAM,
	}
	orderStateToProto = map[biz.OrderState]supervisionv1.SupervisionOrderState{
		biz.OrderOpen:     supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_OPEN,
		biz.OrderAnswered: supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_ANSWERED,
		biz.OrderClosed:   supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_CLOSED,
	}
	recipientKindToProto = map[biz.RecipientKind]supervisionv1.RecipientKind{
		biz.ToDepartment: supervisionv1.RecipientKind_RECIPIENT_KIND_DEPARTMENT,
		biz.ToUser:       supervisionv1.RecipientKind_RECIPIENT_KIND_USER,
		biz.ToRole:       supervisionv1.RecipientKind_RECIPIENT_KIND_ROLE,
	}
	notificationKindToProto = map[biz.NotificationKind]supervisionv1.NotificationKind{
		biz.KindRemind:    supervisionv1.NotificationKind_NOTIFICATION_KIND_REMIND,
		biz.KindOverdue:   supervisionv1.NotificationKind_NOTIFICATION_KIND_OVERDUE,
		biz.KindSupervise: supervisionv1.NotificationKind_NOTIFICATION_KIND_SUPERVISE,
		biz.KindEscalate:  supervisionv1.NotificationKind_NOTIFICATION_KIND_ESCALATE,
		biz.KindDispatch:  supervisionv1.NotificationKind_NOTIFICATION_KIND_DISPATCH,
	}
)

func orderStateFromProto(s supervisionv1.SupervisionOrderState) biz.OrderState {
	for k, v := range orderStateToProto {
		if v == s {
			return k
		}
	}
	return ""
}

func timeOrNil(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

func orderToProto(o *biz.Order) *supervisionv1.SupervisionOrder {
	return &supervisionv1.SupervisionOrder{
		Id: int64(o.ID), CaseNumber: o.CaseNumber, Origin: originToProto[o.Origin], RaisedBy: o.RaisedBy,
		RaisedByName: o.RaisedByName, Reason: o.Reason, Deadline: timeOrNil(o.Deadline),
		RequireFeedback: o.RequireFeedback, DepartmentCode: o.DepartmentCode, State: orderStateToProto[o.State],
		Feedback: o.Feedback, FeedbackBy: o.FeedbackBy, FeedbackTime: timeOrNil(o.FeedbackAt),
		CreateTime: timestamppb.New(o.CreatedAt), UpdateTime: timestamppb.New(o.UpdatedAt),
	}
}

func notificationToProto(n *biz.Notification) *supervisionv1.Notification {
	return &supervisionv1.Notification{
		Id: int64(n.ID), RecipientKind: recipientKindToProto[n.To.Kind], Recipient: n.To.Name, CaseNumber: n.CaseNumber,
		Kind: notificationKindToProto[n.Kind], Level: int32(n.Level), MessageZh: n.MessageZH, MessageEn: n.MessageEN,
		CreateTime: timestamppb.New(n.CreatedAt), ReadTime: timeOrNil(n.ReadAt),
	}
}

func chainToProto(c *biz.Chain) *supervisionv1.EscalationChain {
	out := &supervisionv1.EscalationChain{
		ScopeKind: string(c.Scope.Kind), ScopeCode: c.Scope.Code,
		Levels: make([]*supervisionv1.EscalationLevel, 0, len(c.Levels)),
	}
	if !c.UpdatedAt.IsZero() {
		out.UpdateTime = timestamppb.New(c.UpdatedAt)
	}
	for _, l := range c.Levels {
		out.Levels = append(out.Levels, &supervisionv1.EscalationLevel{
			Level: int32(l.Level), NameZh: l.NameZH, AfterMinutes: int32(l.AfterMinutes),
			NotifyDepartmentCode: l.NotifyDepartmentCode, NotifyLogins: l.NotifyLogins, RaiseSupervision: l.RaiseSupervision,
		})
	}
	return out
}

// SuperviseCase raises a 督办 by hand.
func (s *SupervisionService) SuperviseCase(ctx context.Context, req *supervisionv1.SuperviseCaseRequest) (*supervisionv1.SupervisionOrder, error) {
	o, err := s.uc.Supervise(ctx, biz.SuperviseInput{
		TenantCode: req.GetTenantCode(), CaseNumber: req.GetCaseNumber(), Reason: req.GetReason(),
		Deadline: req.GetDeadline().AsTime(), RequireFeedback: req.GetRequireFeedback(),
	})
	if err != nil {
		return nil, err
	}
	return orderToProto(o), nil
}

// ListSupervisionOrders returns one page of orders.
func (s *SupervisionService) ListSupervisionOrders(ctx context.Context, req *supervisionv1.ListSupervisionOrdersRequest) (*supervisionv1.ListSupervisionOrdersResponse, error) {
	rows, next, err := s.uc.ListOrders(ctx, biz.ListOrdersInput{
		TenantCode: req.GetTenantCode(), State: orderStateFromProto(req.GetState()), CaseNumber: req.GetCaseNumber(),
		DepartmentCode: req.GetDepartmentCode(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.ListSupervisionOrdersResponse{NextPageToken: next, Orders: make([]*supervisionv1.SupervisionOrder, 0, len(rows))}
	for _, o := range rows {
		out.Orders = append(out.Orders, orderToProto(o))
	}
	return out, nil
}

// GetSupervisionOrder returns one order.
func (s *SupervisionService) GetSupervisionOrder(ctx context.Context, req *supervisionv1.GetSupervisionOrderRequest) (*supervisionv1.SupervisionOrder, error) {
	o, err := s.uc.GetOrder(ctx, req.GetTenantCode(), int(req.GetId()))
	if err != nil {
		return nil, err
	}
	return orderToProto(o), nil
}

// AnswerSupervisionOrder records the department's reply.
func (s *SupervisionService) AnswerSupervisionOrder(ctx context.Context, req *supervisionv1.AnswerSupervisionOrderRequest) (*supervisionv1.SupervisionOrder, error) {
	o, err := s.uc.Answer(ctx, req.GetTenantCode(), int(req.GetId()), req.GetFeedback())
	if err != nil {
		return nil, err
	}
	return orderToProto(o), nil
}

// CloseSupervisionOrder closes an order.
func (s *SupervisionService) CloseSupervisionOrder(ctx context.Context, req *supervisionv1.CloseSupervisionOrderRequest) (*supervisionv1.SupervisionOrder, error) {
	o, err := s.uc.Close(ctx, req.GetTenantCode(), int(req.GetId()))
	if err != nil {
		return nil, err
	}
	return orderToProto(o), nil
}

// ListNotifications returns one page of the caller's inbox.
func (s *SupervisionService) ListNotifications(ctx context.Context, req *supervisionv1.ListNotificationsRequest) (*supervisionv1.ListNotificationsResponse, error) {
	in, err := s.uc.Notifications(ctx, biz.ListNotificationsInput{
		TenantCode: req.GetTenantCode(), UnreadOnly: req.GetUnreadOnly(), CaseNumber: req.GetCaseNumber(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.ListNotificationsResponse{
		NextPageToken: in.NextPageToken, Unread: int64(in.Unread),
		Notifications: make([]*supervisionv1.Notification, 0, len(in.Notifications)),
	}
	for _, n := range in.Notifications {
		out.Notifications = append(out.Notifications, notificationToProto(n))
	}
	return out, nil
}

// MarkNotificationsRead marks notifications of the caller's inbox read.
func (s *SupervisionService) MarkNotificationsRead(ctx context.Context, req *supervisionv1.MarkNotificationsReadRequest) (*supervisionv1.MarkNotificationsReadResponse, error) {
	ids := make([]int, len(req.GetIds()))
	for i, id := range req.GetIds() {
		ids[i] = int(id)
	}
	n, err := s.uc.MarkRead(ctx, req.GetTenantCode(), ids, req.GetAll())
	if err != nil {
		return nil, err
	}
	return &supervisionv1.MarkNotificationsReadResponse{Marked: int64(n)}, nil
}

// GetEscalationChain returns the chain of one scope.
func (s *SupervisionService) GetEscalationChain(ctx context.Context, req *supervisionv1.GetEscalationChainRequest) (*supervisionv1.EscalationChain, error) {
	c, err := s.uc.GetChain(ctx, req.GetTenantCode(), biz.Scope{Kind: biz.ScopeKind(req.GetScopeKind()), Code: req.GetScopeCode()})
	if err != nil {
		return nil, err
	}
	return chainToProto(c), nil
}

// SetEscalationChain replaces the chain of one scope.
func (s *SupervisionService) SetEscalationChain(ctx context.Context, req *supervisionv1.SetEscalationChainRequest) (*supervisionv1.EscalationChain, error) {
	levels := make([]biz.Level, len(req.GetLevels()))
	for i, l := range req.GetLevels() {
		levels[i] = biz.Level{
			Level: int(l.GetLevel()), NameZH: l.GetNameZh(), AfterMinutes: int(l.GetAfterMinutes()),
			NotifyDepartmentCode: l.GetNotifyDepartmentCode(), NotifyLogins: l.GetNotifyLogins(),
			RaiseSupervision: l.GetRaiseSupervision(),
		}
	}
	c, err := s.uc.SetChain(ctx, req.GetTenantCode(), biz.Scope{Kind: biz.ScopeKind(req.GetScopeKind()), Code: req.GetScopeCode()}, levels)
	if err != nil {
		return nil, err
	}
	return chainToProto(c), nil
}

// ListEscalationChains lists the tenant's chains.
func (s *SupervisionService) ListEscalationChains(ctx context.Context, req *supervisionv1.ListEscalationChainsRequest) (*supervisionv1.ListEscalationChainsResponse, error) {
	chains, err := s.uc.ListChains(ctx, req.GetTenantCode())
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.ListEscalationChainsResponse{Chains: make([]*supervisionv1.EscalationChain, 0, len(chains))}
	for _, c := range chains {
		out.Chains = append(out.Chains, chainToProto(c))
	}
	return out, nil
}
