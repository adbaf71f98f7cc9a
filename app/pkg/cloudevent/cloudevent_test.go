package cloudevent

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

func sample() *Event {
	return &Event{
		ID: "0b9f1c1e-8a3a-4c55-9d3e-1f0e8a6b2c11", Source: SourceOf("450126"), Type: "cn.cityops.case.filed.v1",
		Subject: "2026112200001", Time: time.Date(2026, 11, 22, 3, 4, 5, 123456000, time.UTC),
		DataSchema: SchemaOf("cityops.federation.v1.CaseEventData"), ContentType: ContentTypeProto, Sequence: 42,
		Data: []byte{0x0a, 0x03, 'a', 'b', 'c'},
	}
}

func TestRoundTripAndSignature(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := sample()
	e.Signature, e.SignatureKey = ed25519.Sign(priv, e.SigningInput()), "tenant-450126:v1"
	got, err := Parse(e.Headers(), e.Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || got.Source != e.Source || got.Type != e.Type || got.Subject != e.Subject || !got.Time.Equal(e.Time) ||
		got.Sequence != 42 || got.DataSchema != e.DataSchema || got.SignatureKey != e.SignatureKey || !bytes.Equal(got.Data, e.Data) {
		t.Fatalf("round trip: %+v", got)
	}
	if !ed25519.Verify(pub, got.SigningInput(), got.Signature) {
		t.Fatal("signature does not verify after the round trip")
	}
	// Any attribute or data change breaks the signature.
	for name, tamper := range map[string]func(*Event){
		"source":   func(e *Event) { e.Source = SourceOf("450181") },
		"type":     func(e *Event) { e.Type = "cn.cityops.case.closed.v1" },
		"subject":  func(e *Event) { e.Subject = "2026112200002" },
		"sequence": func(e *Event) { e.Sequence++ },
		"data":     func(e *Event) { e.Data = append([]byte{}, 1) },
	} {
		c := *got
		tamper(&c)
		if ed25519.Verify(pub, c.SigningInput(), c.Signature) {
			t.Errorf("tampered %s still verifies", name)
		}
	}
	if code, ok := TenantOf(got.Source); !ok || code != "450126" {
		t.Errorf("TenantOf(%q) = %q %v", got.Source, code, ok)
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	t.Parallel()
	base := sample().Headers()
	drop := func(key string) []Header {
		var out []Header
		for _, h := range base {
			if h.Key != key {
				out = append(out, h)
			}
		}
		return out
	}
	set := func(key, v string) []Header {
		return append(drop(key), Header{key, []byte(v)})
	}
	for name, hs := range map[string][]Header{
		"no headers":       nil,
		"no id":            drop(HeaderID),
		"no source":        drop(HeaderSource),
		"no type":          drop(HeaderType),
		"bad time":         set(HeaderTime, "yesterday"),
		"bad version":      set(HeaderSpecVersion, "0.3"),
		"bad sequence":     set(HeaderSequence, "-1"),
		"bad signature":    set(HeaderSignature, "%%%"),
		"bad content type": set(HeaderContentType, "text/html"),
		"huge header":      set(HeaderSubject, string(make([]byte, MaxHeaderBytes+1))),
	} {
		if _, err := Parse(hs, []byte("x")); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	for _, s := range []string{"/tenants/", "/tenants/a/b", "tenants/450126", ""} {
		if _, ok := TenantOf(s); ok {
			t.Errorf("TenantOf(%q) accepted", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	e := sample()
	f.Add([]byte(e.ID), []byte(e.Source), []byte("2026-11-22T03:04:05Z"), []byte("7"), e.Data)
	f.Add([]byte(""), []byte("/tenants/x"), []byte("bad"), []byte("x"), []byte{})
	f.Fuzz(func(t *testing.T, id, source, ts, seq, data []byte) {
		hs := []Header{{HeaderSpecVersion, []byte(SpecVersion)}, {HeaderID, id}, {HeaderSource, source},
			{HeaderType, []byte("t")}, {HeaderTime, ts}, {HeaderSequence, seq}, {HeaderContentType, []byte(ContentTypeProto)}}
		got, err := Parse(hs, data)
		if err != nil {
			return
		}
		again, err := Parse(got.Headers(), got.Data)
		if err != nil || again.ID != got.ID || again.Sequence != got.Sequence || !again.Time.Equal(got.Time) {
			t.Fatalf("re-parse of %+v: %+v %v", got, again, err)
		}
	})
}
