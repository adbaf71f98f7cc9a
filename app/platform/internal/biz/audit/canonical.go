package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeLayout is how At enters the canonical encoding: UTC, always six
// fractional digits, so the text is the same whichever database the time
// came back from.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// canonicalTag starts every canonical encoding; a future encoding gets a
// new tag, so old entries keep verifying under the old rules.
const canonicalTag = "cityops.audit.v1"

// Canonical returns the byte encoding of r that its hash covers. It is a
// sequence of fields, each written as its byte length (4 bytes, big
// endian) followed by its bytes:
//
//	"cityops.audit.v1", chain, seq (decimal), tenant_id (decimal; empty on
//	the platform chain), at (TimeLayout, UTC), actor, actor_name, role,
//	operation, target, request_id, source_addr, outcome, detail
//
// The length prefixes make the encoding unambiguous whatever the fields
// contain (no separator can be forged by a hostile value). PrevHash and
// Hash are not part of it; see ComputeHash.
func Canonical(r *Record) []byte {
	tenant := ""
	if r.TenantID != 0 {
		tenant = strconv.Itoa(r.TenantID)
	}
	fields := [...]string{
		canonicalTag, r.Chain, strconv.FormatInt(r.Seq, 10), tenant,
		r.At.UTC().Format(TimeLayout),
		r.Actor, r.ActorName, r.Role, r.Operation, r.Target,
		r.RequestID, r.SourceAddr, r.Outcome, r.Detail,
	}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// ComputeHash returns the hash that seals r: the lowercase hex SHA-256 of
// r.PrevHash (the previous entry's hash as its 64 hex characters, nothing
// for the first entry) followed by Canonical(r). The hex text cannot run
// into the canonical encoding, which starts with a length byte 0x00.
func ComputeHash(r *Record) string {
	h := sha256.New()
	h.Write([]byte(r.PrevHash))
	h.Write(Canonical(r))
	return hex.EncodeToString(h.Sum(nil))
}

// normalize turns an entry into an unsealed record on its chain: strings
// are made storable (valid UTF-8 without NUL, which PostgreSQL rejects) and
// bounded, the time is UTC at microsecond precision, and required fields
// get a placeholder rather than failing the append. The hash covers the
// normalized values, which are exactly what is stored.
func normalize(e Entry, now func() time.Time) (Record, error) {
	r := Record{Entry: e, Chain: PlatformChain}
	if e.TenantID != 0 {
		if e.TenantCode == "" || len(e.TenantCode) > MaxChain || e.TenantCode == PlatformChain {
			return Record{}, errInvalidTenant(e.TenantID, e.TenantCode)
		}
		r.Chain = e.TenantCode
	} else {
		r.TenantCode = ""
	}
	if r.At.IsZero() {
		r.At = now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.Actor = bound(orDefault(r.Actor, "none"), MaxActor)
	r.ActorName = bound(r.ActorName, MaxActorName)
	r.Role = bound(r.Role, MaxRole)
	r.Operation = bound(orDefault(r.Operation, "unknown"), MaxOperation)
	r.Target = bound(r.Target, MaxTarget)
	r.RequestID = bound(r.RequestID, MaxRequestID)
	r.SourceAddr = bound(r.SourceAddr, MaxSourceAddr)
	r.Outcome = bound(orDefault(r.Outcome, "unknown"), MaxOutcome)
	r.Detail = bound(r.Detail, MaxDetail)
	return r, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// clean makes s storable in every database: NUL and bytes that are not
// UTF-8 are written as \x00-style escapes, so the audit keeps a trace of
// what was sent instead of failing (PostgreSQL refuses both in text).
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	const hexdigits = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0 {
			b.WriteString(`\x`)
			b.WriteByte(hexdigits[s[i]>>4])
			b.WriteByte(hexdigits[s[i]&0xf])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// bound cleans s and cuts it to at most limit bytes on a rune boundary,
// ending with a marker that says how long the value was, so a reader
// knows it is incomplete.
func bound(s string, limit int) string {
	s = clean(s)
	if len(s) <= limit {
		return s
	}
	marker := "…[truncated, " + strconv.Itoa(len(s)) + " bytes]"
	keep := max(limit-len(marker), 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	out := s[:keep] + marker
	if len(out) > limit {
		// Only for limits shorter than the marker itself.
		out = out[:limit]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return out
}
