package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/secrets"
)

// Event types of the tenant event log the relay knows how to encode.
const (
	// TypePrefixCase begins every case event type (cn.cityops.case.filed.v1 …).
	TypePrefixCase = "cn.cityops.case."
	// TypeCommandResponse is a child's answer to an overseer's command.
	TypeCommandResponse = "cn.cityops.command.response.v1"
	// TypeIndicatorSnapshot is a tenant's indicators at a moment.
	TypeIndicatorSnapshot = "cn.cityops.indicator.snapshot.v1"
)

// Encodings of a connector.
const (
	EncodingProto = "proto"
	EncodingJSON  = "json"
)

// Dead-letter reasons the relay writes.
const (
	ReasonTooLarge    = "too_large"
	ReasonMalformed   = "malformed"
	ReasonUnknownType = "unknown_type"
)

// Schemas of the data messages (the dataschema attribute).
var (
	SchemaCaseEventData     = cloudevent.SchemaOf(string((&federationv1.CaseEventData{}).ProtoReflect().Descriptor().FullName()))
	SchemaCommandResponse   = cloudevent.SchemaOf(string((&federationv1.CommandResponse{}).ProtoReflect().Descriptor().FullName()))
	SchemaIndicatorSnapshot = cloudevent.SchemaOf(string((&federationv1.IndicatorSnapshot{}).ProtoReflect().Descriptor().FullName()))
)

// caseEventSequenceField is the field number of CaseEvent.sequence.
const caseEventSequenceField = 4

// withSequence returns a stored case event's payload with its sequence
// (the log stores CaseEvent without it, the sequence being allocated in
// the appending statement); the same encoding as caseflow.WithSequence.
func withSequence(data []byte, seq int64) []byte {
	out := make([]byte, len(data), len(data)+11)
	copy(out, data)
	out = protowire.AppendTag(out, caseEventSequenceField, protowire.VarintType)
	return protowire.AppendVarint(out, uint64(seq))
}

// row is one entry of a tenant's event log.
type row struct {
	Seq     int64
	ID      string
	Type    string
	Subject string
	Time    time.Time
	Data    []byte
}

// encodeData returns the data, its dataschema and content type for a row,
// or a dead-letter reason when the row cannot be encoded.
func encodeData(r *row, encoding string) (data []byte, schema, contentType, reason string, err error) {
	var msg proto.Message
	switch {
	case strings.HasPrefix(r.Type, TypePrefixCase):
		full := withSequence(r.Data, r.Seq)
		if encoding != EncodingJSON {
			// CaseEventData{event: full}, without decoding the event.
			out := make([]byte, 0, len(full)+6)
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendBytes(out, full)
			return out, SchemaCaseEventData, cloudevent.ContentTypeProto, "", nil
		}
		ev := &caseflowv1.CaseEvent{}
		if err := proto.Unmarshal(full, ev); err != nil {
			return nil, "", "", ReasonMalformed, fmt.Errorf("case event: %w", err)
		}
		msg, schema = &federationv1.CaseEventData{Event: ev}, SchemaCaseEventData
	case r.Type == TypeCommandResponse:
		msg, schema = &federationv1.CommandResponse{}, SchemaCommandResponse
	case r.Type == TypeIndicatorSnapshot:
		msg, schema = &federationv1.IndicatorSnapshot{}, SchemaIndicatorSnapshot
	default:
		if encoding == EncodingJSON {
			return nil, "", "", ReasonUnknownType, fmt.Errorf("no JSON encoding for event type %s", r.Type)
		}
		// Relayed as stored; receivers decide what to do with a type
		// they do not know.
		return r.Data, "", cloudevent.ContentTypeProto, "", nil
	}
	if encoding != EncodingJSON {
		return r.Data, schema, cloudevent.ContentTypeProto, "", nil
	}
	if _, isCase := msg.(*federationv1.CaseEventData); !isCase {
		if err := proto.Unmarshal(r.Data, msg); err != nil {
			return nil, "", "", ReasonMalformed, fmt.Errorf("%s: %w", r.Type, err)
		}
	}
	b, err := protojson.Marshal(msg)
	if err != nil {
		return nil, "", "", ReasonMalformed, fmt.Errorf("%s: %w", r.Type, err)
	}
	return b, schema, cloudevent.ContentTypeJSON, "", nil
}

// BatchSigner is implemented by signers that sign many inputs in one call
// (Vault Transit's batch_input); the relay prefers it to one Sign call per
// event.
type BatchSigner interface {
	SignBatch(ctx context.Context, name string, data [][]byte) ([][]byte, error)
}

// signer signs envelopes with a tenant's key, creating the key once if it
// is missing (onboarding creates it; a tenant onboarded before signing
// existed has none).
type signer struct {
	s           secrets.Signer
	concurrency int

	mu      sync.Mutex
	ensured map[string]bool
}

// signAll signs every input with key name.
func (s *signer) signAll(ctx context.Context, name string, inputs [][]byte) ([][]byte, error) {
	sigs, err := s.sign(ctx, name, inputs)
	if errors.Is(err, secrets.ErrNotFound) && s.ensure(name) {
		if cerr := s.s.CreateKey(ctx, name); cerr != nil {
			return nil, fmt.Errorf("relay: signing key %s is missing and could not be created: %w", name, cerr)
		}
		sigs, err = s.sign(ctx, name, inputs)
	}
	if err != nil {
		return nil, fmt.Errorf("relay: sign with %s: %w", name, err)
	}
	return sigs, nil
}

// ensure reports whether the key should be created (once per process).
func (s *signer) ensure(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ensured[name] {
		return false
	}
	if s.ensured == nil {
		s.ensured = map[string]bool{}
	}
	s.ensured[name] = true
	return true
}

func (s *signer) sign(ctx context.Context, name string, inputs [][]byte) ([][]byte, error) {
	if bs, ok := s.s.(BatchSigner); ok {
		return bs.SignBatch(ctx, name, inputs)
	}
	sigs := make([][]byte, len(inputs))
	if len(inputs) == 0 {
		return sigs, nil
	}
	workers := min(s.concurrency, len(inputs))
	// Contiguous chunks: each worker signs its own slice, no channel per
	// event.
	chunk := (len(inputs) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(inputs))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				sig, err := s.s.Sign(ctx, name, inputs[i])
				if err != nil {
					errs[w] = err
					return
				}
				sigs[i] = sig
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sigs, nil
}

// toKafkaHeaders converts envelope headers.
func toKafkaHeaders(hs []cloudevent.Header) []kafka.Header {
	out := make([]kafka.Header, len(hs))
	for i, h := range hs {
		out[i] = kafka.Header{Key: h.Key, Value: h.Value}
	}
	return out
}
