package service

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	federationv1 "github.com/cityops/cityops/api/federation/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/connector"
)

// ConnectorService serves cityops.federation.v1.ConnectorService over HTTP
// and gRPC.
type ConnectorService struct {
	federationv1.UnimplementedConnectorServiceServer
	uc *biz.Usecase
}

// NewConnectorService returns the connector API over its use cases.
func NewConnectorService(uc *biz.Usecase) *ConnectorService { return &ConnectorService{uc: uc} }

var (
	_ federationv1.ConnectorServiceServer     = (*ConnectorService)(nil)
	_ federationv1.ConnectorServiceHTTPServer = (*ConnectorService)(nil)
)

var directionToProto = map[biz.Direction]federationv1.ConnectorDirection{
	biz.Outbound:    federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND,
	biz.Inbound:     federationv1.ConnectorDirection_CONNECTOR_DIRECTION_INBOUND,
	biz.CommandsIn:  federationv1.ConnectorDirection_CONNECTOR_DIRECTION_COMMANDS_IN,
	biz.CommandsOut: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_COMMANDS_OUT,
}

func directionFromProto(d federationv1.ConnectorDirection) biz.Direction {
	for k, v := range directionToProto {
		if v == d {
			return k
		}
	}
	return ""
}

var encodingToProto = map[biz.Encoding]federationv1.ConnectorEncoding{
	biz.EncodingProto: federationv1.ConnectorEncoding_CONNECTOR_ENCODING_PROTO,
	biz.EncodingJSON:  federationv1.ConnectorEncoding_CONNECTOR_ENCODING_JSON,
}

func encodingFromProto(e federationv1.ConnectorEncoding) biz.Encoding {
	if e == federationv1.ConnectorEncoding_CONNECTOR_ENCODING_JSON {
		return biz.EncodingJSON
	}
	return biz.EncodingProto
}

func connectorToProto(c *biz.Connector) *federationv1.Connector {
	enabled := c.Enabled
	return &federationv1.Connector{
		Name: c.Name, Direction: directionToProto[c.Direction], Brokers: c.Brokers, Topic: c.Topic,
		SourceCodes: c.SourceCodes, GroupId: c.GroupID, Tls: c.TLS, SaslMechanism: c.SASLMechanism,
		SaslSecretRef: c.SASLSecretRef, EventTypes: c.EventTypes, Encoding: encodingToProto[c.Encoding], Enabled: &enabled,
		Status: &federationv1.ConnectorStatus{
			Cursor: c.Cursor, LastSeq: c.LastSeq, Lag: c.Lag, LastSuccessTime: ts(c.LastSuccessAt),
			LastEventTime: ts(c.LastEventAt), LastError: c.LastError, Failures: int32(c.Failures),
			LeaseHolder: c.LeaseHolder, LeaseExpireTime: ts(c.LeaseExpiresAt), DeadLetters: c.DeadLetters,
		},
		CreateTime: timestamppb.New(c.CreatedAt), UpdateTime: timestamppb.New(c.UpdatedAt),
	}
}

func connectorFromProto(p *federationv1.Connector) *biz.Connector {
	return &biz.Connector{
		Name: p.GetName(), Direction: directionFromProto(p.GetDirection()), Brokers: p.GetBrokers(), Topic: p.GetTopic(),
		SourceCodes: p.GetSourceCodes(), GroupID: p.GetGroupId(), TLS: p.GetTls(), SASLMechanism: p.GetSaslMechanism(),
		SASLSecretRef: p.GetSaslSecretRef(), EventTypes: p.GetEventTypes(), Encoding: encodingFromProto(p.GetEncoding()),
		Enabled: p.Enabled == nil || p.GetEnabled(),
	}
}

func deadLetterToProto(d *biz.DeadLetter) *federationv1.DeadLetter {
	return &federationv1.DeadLetter{
		Id: int64(d.ID), Connector: d.Connector, Direction: directionToProto[d.Direction], EventId: d.EventID,
		Sequence: d.Seq, EventType: d.EventType, Source: d.Source, Reason: d.Reason, Detail: d.Detail, Topic: d.Topic,
		Partition: d.Partition, Offset: d.Offset, Payload: d.Payload, Headers: d.Headers, PayloadBytes: d.PayloadBytes,
		CreateTime: timestamppb.New(d.CreatedAt), ReplayTime: ts(d.ReplayedAt), ReplayCount: int32(d.ReplayCount),
	}
}

// CreateConnector adds a connector.
func (s *ConnectorService) CreateConnector(ctx context.Context, req *federationv1.CreateConnectorRequest) (*federationv1.Connector, error) {
	c, err := s.uc.Create(ctx, req.GetTenantCode(), connectorFromProto(req.GetConnector()), req.GetStartAtEnd())
	if err != nil {
		return nil, err
	}
	return connectorToProto(c), nil
}

// UpdateConnector replaces a connector's settings.
func (s *ConnectorService) UpdateConnector(ctx context.Context, req *federationv1.UpdateConnectorRequest) (*federationv1.Connector, error) {
	c, err := s.uc.Update(ctx, req.GetTenantCode(), req.GetName(), connectorFromProto(req.GetConnector()), req.Cursor)
	if err != nil {
		return nil, err
	}
	return connectorToProto(c), nil
}

// DeleteConnector removes a connector.
func (s *ConnectorService) DeleteConnector(ctx context.Context, req *federationv1.DeleteConnectorRequest) (*federationv1.DeleteConnectorResponse, error) {
	if err := s.uc.Delete(ctx, req.GetTenantCode(), req.GetName()); err != nil {
		return nil, err
	}
	return &federationv1.DeleteConnectorResponse{}, nil
}

// GetConnector returns one connector.
func (s *ConnectorService) GetConnector(ctx context.Context, req *federationv1.GetConnectorRequest) (*federationv1.Connector, error) {
	c, err := s.uc.Get(ctx, req.GetTenantCode(), req.GetName())
	if err != nil {
		return nil, err
	}
	return connectorToProto(c), nil
}

// ListConnectors lists the tenant's connectors.
func (s *ConnectorService) ListConnectors(ctx context.Context, req *federationv1.ListConnectorsRequest) (*federationv1.ListConnectorsResponse, error) {
	cs, err := s.uc.List(ctx, req.GetTenantCode(), directionFromProto(req.GetDirection()))
	if err != nil {
		return nil, err
	}
	out := &federationv1.ListConnectorsResponse{Connectors: make([]*federationv1.Connector, len(cs))}
	for i, c := range cs {
		out.Connectors[i] = connectorToProto(c)
	}
	return out, nil
}

// ListDeadLetters returns one page of dead letters.
func (s *ConnectorService) ListDeadLetters(ctx context.Context, req *federationv1.ListDeadLettersRequest) (*federationv1.ListDeadLettersResponse, error) {
	ds, next, err := s.uc.ListDeadLetters(ctx, req.GetTenantCode(), biz.DeadLetterFilter{
		Connector: req.GetConnector(), Reason: req.GetReason(), PendingOnly: req.GetPendingOnly(),
	}, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &federationv1.ListDeadLettersResponse{NextPageToken: next, DeadLetters: make([]*federationv1.DeadLetter, len(ds))}
	for i, d := range ds {
		out.DeadLetters[i] = deadLetterToProto(d)
	}
	return out, nil
}

// GetDeadLetter returns one dead letter with its payload.
func (s *ConnectorService) GetDeadLetter(ctx context.Context, req *federationv1.GetDeadLetterRequest) (*federationv1.DeadLetter, error) {
	d, err := s.uc.GetDeadLetter(ctx, req.GetTenantCode(), int(req.GetId()))
	if err != nil {
		return nil, err
	}
	return deadLetterToProto(d), nil
}

// ReplayDeadLetter delivers a dead letter again.
func (s *ConnectorService) ReplayDeadLetter(ctx context.Context, req *federationv1.ReplayDeadLetterRequest) (*federationv1.DeadLetter, error) {
	d, err := s.uc.ReplayDeadLetter(ctx, req.GetTenantCode(), int(req.GetId()))
	if err != nil {
		return nil, err
	}
	return deadLetterToProto(d), nil
}
