package audit

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// TestCanonicalGolden pins the encoding: a change here would make every
// stored chain fail to verify, so it must come with a new canonicalTag.
func TestCanonicalGolden(t *testing.T) {
	t.Parallel()
	r := Record{
		Entry: Entry{
			TenantID: 7, TenantCode: "450126",
			At:    time.Date(2026, 11, 22, 9, 30, 0, 123456000, time.FixedZone("CST", 8*3600)),
			Actor: "user:12", ActorName: "zhang.san", Role: "tenant_admin",
			Operation: "/cityops.tenant.v1.TenantService/UpdateTenant", Target: "tenants/450126",
			RequestID: "req-1", SourceAddr: "10.0.0.8", Outcome: OutcomeOK, Detail: "名称变更",
		},
		Chain: "450126", Seq: 3, PrevHash: strings.Repeat("a", 64),
	}
	c := Canonical(&r)
	// The first field is the tag, length-prefixed.
	if want := "\x00\x00\x00\x10cityops.audit.v1\x00\x00\x00\x06450126\x00\x00\x00\x013\x00\x00\x00\x017" +
		"\x00\x00\x00\x1b2026-11-22T01:30:00.123456Z"; !strings.HasPrefix(string(c), want) {
		t.Errorf("Canonical starts with %q, want prefix %q", c[:min(len(c), len(want))], want)
	}
	// Reproducible outside Go from the documented encoding, e.g. in Python:
	// sha256(b"a"*64 + b"".join(struct.pack(">I", len(f)) + f for f in fields)).
	const golden = "4e0d1a2a089a1bc3c2a517ce2f9a7b6a520a09393c65b39b4b6be24a54f46463"
	got := ComputeHash(&r)
	if got != golden {
		t.Errorf("ComputeHash = %s, want %s", got, golden)
	}
	// The same instant in another zone hashes the same; a different
	// instant or field does not.
	r2 := r
	r2.At = r.At.UTC()
	if ComputeHash(&r2) != got {
		t.Error("the hash depends on the time zone of At")
	}
	for name, mut := range map[string]func(*Record){
		"target":    func(r *Record) { r.Target += "x" },
		"seq":       func(r *Record) { r.Seq++ },
		"chain":     func(r *Record) { r.Chain = "450181" },
		"tenant":    func(r *Record) { r.TenantID = 8 },
		"prev":      func(r *Record) { r.PrevHash = strings.Repeat("b", 64) },
		"at":        func(r *Record) { r.At = r.At.Add(time.Microsecond) },
		"shift":     func(r *Record) { r.Actor, r.ActorName = "user:1", "2zhang.san" },
		"detail":    func(r *Record) { r.Detail = "" },
		"operation": func(r *Record) { r.Operation = strings.ToUpper(r.Operation) },
	} {
		r3 := r
		mut(&r3)
		if ComputeHash(&r3) == got {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}

func TestBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{name: "short", in: "tenants/450126", limit: 256, want: "tenants/450126"},
		{name: "exact", in: strings.Repeat("a", 64), limit: 64, want: strings.Repeat("a", 64)},
		{name: "long", in: strings.Repeat("a", 100), limit: 64, want: strings.Repeat("a", 64-len("…[truncated, 100 bytes]")) + "…[truncated, 100 bytes]"},
		{name: "nul", in: "a\x00b", limit: 64, want: `a\x00b`},
		{name: "invalid utf-8", in: "a\xff\xfeb", limit: 64, want: `a\xff\xfeb`},
		{name: "chinese kept whole", in: strings.Repeat("宾", 30), limit: 64, want: strings.Repeat("宾", 13) + "…[truncated, 90 bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := bound(tt.in, tt.limit)
			if got != tt.want {
				t.Errorf("bound(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if len(got) > tt.limit || !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
				t.Errorf("bound(%q, %d) = %q: not storable", tt.in, tt.limit, got)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 1, 2, 3, 456789999, time.UTC)
	clock := func() time.Time { return now }
	got, err := normalize(Entry{TenantCode: "999999", Operation: "", Outcome: ""}, clock)
	if err != nil {
		t.Fatal(err)
	}
	want := Record{Chain: PlatformChain, Entry: Entry{
		At: time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC), Actor: "none", Operation: "unknown", Outcome: "unknown",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("normalize without a tenant (-want +got):\n%s", diff)
	}
	if _, err := normalize(Entry{TenantID: 3}, clock); err == nil {
		t.Error("a tenant without its code was accepted")
	}
	if _, err := normalize(Entry{TenantID: 3, TenantCode: PlatformChain}, clock); err == nil {
		t.Error("a tenant could write to the platform chain")
	}
	got, err = normalize(Entry{TenantID: 3, TenantCode: "450126", Actor: "user:1", Operation: "x", Outcome: "ok"}, clock)
	if err != nil || got.Chain != "450126" || got.TenantID != 3 {
		t.Errorf("normalize with a tenant = %+v, %v", got, err)
	}
}
