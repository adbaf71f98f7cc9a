// Package cloudevent is the envelope CityOps tenants exchange through
// Kafka: CloudEvents 1.0 in the Kafka protocol binding's binary mode — the
// attributes travel as ce_* headers, the data is the message value, its
// media type the content-type header — plus two extension attributes,
// sequence (the sender's event-log position) and signature (Ed25519 over
// the attributes and a digest of the data, so a receiver can tell who
// spoke). It knows nothing of Kafka clients: headers are name/value pairs.
package cloudevent

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SpecVersion is the CloudEvents version of every envelope.
const SpecVersion = "1.0"

// Media types of the data.
const (
	ContentTypeProto = "application/protobuf"
	ContentTypeJSON  = "application/json"
)

// Header names of the binary mode (CloudEvents Kafka protocol binding §3.2)
// and of our extensions.
const (
	HeaderSpecVersion  = "ce_specversion"
	HeaderID           = "ce_id"
	HeaderSource       = "ce_source"
	HeaderType         = "ce_type"
	HeaderSubject      = "ce_subject"
	HeaderTime         = "ce_time"
	HeaderDataSchema   = "ce_dataschema"
	HeaderSequence     = "ce_sequence"
	HeaderSignature    = "ce_signature"
	HeaderSignatureKey = "ce_signaturekey"
	HeaderContentType  = "content-type"
)

// Event is one envelope.
type Event struct {
	ID          string
	Source      string // /tenants/<code>
	Type        string // e.g. cn.cityops.case.dispatched.v1
	Subject     string // the case number, when the event is about a case
	Time        time.Time
	DataSchema  string // urn:cityops:proto:<full message name>
	ContentType string
	Sequence    int64
	// Signature is the Ed25519 signature of SigningInput(); SignatureKey
	// names the key that made it (tenant-<code>, version v<n>).
	Signature    []byte
	SignatureKey string
	Data         []byte
}

// SourceOf is the source of a tenant's events.
func SourceOf(tenantCode string) string { return "/tenants/" + tenantCode }

// TenantOf returns the tenant code of a source; false when the source is
// not a tenant's.
func TenantOf(source string) (string, bool) {
	code, ok := strings.CutPrefix(source, "/tenants/")
	if !ok || code == "" || strings.Contains(code, "/") {
		return "", false
	}
	return code, true
}

// SchemaOf is the dataschema of a protobuf message type.
func SchemaOf(fullName string) string { return "urn:cityops:proto:" + fullName }

// Topics of a tenant.
func EventsTopic(tenantCode string) string   { return "cityops." + tenantCode + ".events" }
func CommandsTopic(tenantCode string) string { return "cityops." + tenantCode + ".commands" }

// SigningInput is what the signature covers: every attribute a receiver
// acts on, and the SHA-256 of the data, one per line. The data is hashed
// rather than included so the input stays small for large payloads.
func (e *Event) SigningInput() []byte {
	sum := sha256.Sum256(e.Data)
	var b strings.Builder
	for _, s := range []string{
		SpecVersion, e.ID, e.Source, e.Type, e.Subject, e.Time.UTC().Format(time.RFC3339Nano),
		e.DataSchema, e.ContentType, strconv.FormatInt(e.Sequence, 10), hex.EncodeToString(sum[:]),
	} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Headers returns the binary-mode headers of e.
func (e *Event) Headers() []Header {
	h := []Header{
		{HeaderSpecVersion, []byte(SpecVersion)},
		{HeaderID, []byte(e.ID)},
		{HeaderSource, []byte(e.Source)},
		{HeaderType, []byte(e.Type)},
		{HeaderTime, []byte(e.Time.UTC().Format(time.RFC3339Nano))},
		{HeaderContentType, []byte(e.ContentType)},
		{HeaderSequence, []byte(strconv.FormatInt(e.Sequence, 10))},
	}
	if e.Subject != "" {
		h = append(h, Header{HeaderSubject, []byte(e.Subject)})
	}
	if e.DataSchema != "" {
		h = append(h, Header{HeaderDataSchema, []byte(e.DataSchema)})
	}
	if len(e.Signature) > 0 {
		h = append(h, Header{HeaderSignature, []byte(base64.StdEncoding.EncodeToString(e.Signature))},
			Header{HeaderSignatureKey, []byte(e.SignatureKey)})
	}
	return h
}

// ErrMalformed is wrapped by every error of Parse.
var ErrMalformed = errors.New("cloudevent: malformed")

// MaxHeaderBytes bounds one header value Parse accepts.
const MaxHeaderBytes = 4096

// Parse reads an envelope from a record's headers and value. It checks the
// structure only (required attributes present, well formed); the
// signature and the sender are the receiver's to verify.
func Parse(headers []Header, value []byte) (*Event, error) {
	get := map[string]string{}
	for _, h := range headers {
		if len(h.Value) > MaxHeaderBytes {
			return nil, fmt.Errorf("%w: header %s too long", ErrMalformed, h.Key)
		}
		get[strings.ToLower(h.Key)] = string(h.Value)
	}
	if v := get[HeaderSpecVersion]; v != SpecVersion {
		return nil, fmt.Errorf("%w: specversion %q, want %s", ErrMalformed, v, SpecVersion)
	}
	e := &Event{
		ID: get[HeaderID], Source: get[HeaderSource], Type: get[HeaderType], Subject: get[HeaderSubject],
		DataSchema: get[HeaderDataSchema], ContentType: get[HeaderContentType], SignatureKey: get[HeaderSignatureKey],
		Data: value,
	}
	for name, v := range map[string]string{"id": e.ID, "source": e.Source, "type": e.Type} {
		if v == "" {
			return nil, fmt.Errorf("%w: no %s", ErrMalformed, name)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, get[HeaderTime])
	if err != nil {
		return nil, fmt.Errorf("%w: time %q", ErrMalformed, get[HeaderTime])
	}
	e.Time = t.UTC()
	if s := get[HeaderSequence]; s != "" {
		if e.Sequence, err = strconv.ParseInt(s, 10, 64); err != nil || e.Sequence < 0 {
			return nil, fmt.Errorf("%w: sequence %q", ErrMalformed, s)
		}
	}
	if s := get[HeaderSignature]; s != "" {
		if e.Signature, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("%w: signature is not base64", ErrMalformed)
		}
	}
	switch e.ContentType {
	case ContentTypeProto, ContentTypeJSON:
	default:
		return nil, fmt.Errorf("%w: content-type %q", ErrMalformed, e.ContentType)
	}
	return e, nil
}
