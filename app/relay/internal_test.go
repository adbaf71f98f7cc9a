package relay

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	lo, hi := 100*time.Millisecond, 30*time.Second
	for n, want := range map[int]time.Duration{1: lo, 2: 2 * lo, 3: 4 * lo, 9: 256 * lo, 10: hi, 50: hi} {
		for range 20 {
			d := backoff(n, lo, hi)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want in [%s, %s]", n, d, want/2, want)
			}
		}
	}
}

func TestWithSequenceMatchesTheField(t *testing.T) {
	t.Parallel()
	ev := &caseflowv1.CaseEvent{EventId: "e", CaseNumber: "2026112200001", Version: 3}
	stored, _ := proto.Marshal(ev)
	var got caseflowv1.CaseEvent
	if err := proto.Unmarshal(withSequence(stored, 1<<40), &got); err != nil {
		t.Fatal(err)
	}
	ev.Sequence = 1 << 40
	if !proto.Equal(&got, ev) {
		t.Fatalf("got %v, want %v", &got, ev)
	}
}

func TestEncodeData(t *testing.T) {
	t.Parallel()
	r := &row{Seq: 7, Type: "cn.cityops.grid.changed.v1", Data: []byte{1, 2}}
	data, schema, ctype, reason, err := encodeData(r, EncodingProto)
	if err != nil || reason != "" || schema != "" || ctype != cloudevent.ContentTypeProto || string(data) != string(r.Data) {
		t.Fatalf("unknown type as proto: %x %q %q %q %v", data, schema, ctype, reason, err)
	}
	if _, _, _, reason, _ := encodeData(r, EncodingJSON); reason != ReasonUnknownType {
		t.Fatalf("unknown type as JSON: reason %q", reason)
	}
	bad := &row{Seq: 1, Type: TypePrefixCase + "filed.v1", Data: []byte{0xff, 0xff}}
	if _, _, _, reason, _ := encodeData(bad, EncodingJSON); reason != ReasonMalformed {
		t.Fatalf("malformed case event as JSON: reason %q", reason)
	}
	if _, _, _, reason, _ := encodeData(&row{Type: TypeCommandResponse, Data: []byte{0xff}}, EncodingJSON); reason != ReasonMalformed {
		t.Fatalf("malformed command response as JSON: reason %q", reason)
	}
}

func TestConnectorWants(t *testing.T) {
	t.Parallel()
	c := &connector{EventTypes: []string{"cn.cityops.case.", "cn.cityops.command.response"}}
	for typ, want := range map[string]bool{
		"cn.cityops.case.filed.v1": true, "cn.cityops.command.response.v1": true,
		"cn.cityops.indicator.snapshot.v1": false, "cn.cityops.cases": false,
	} {
		if c.wants(typ) != want {
			t.Errorf("wants(%s) = %v", typ, !want)
		}
	}
	if !(&connector{}).wants("anything") {
		t.Error("no filter must relay everything")
	}
}
