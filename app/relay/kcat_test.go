package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/testdb"
	entconnector "github.com/cityops/cityops/ent/connector"
)

// ensureKcat installs kcat with deploy/dev/ensure-kcat.sh; the test is
// skipped only when the script cannot install it (no root, no apt-get).
func ensureKcat(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("kcat"); err == nil {
		return p
	}
	out, err := exec.Command("../../deploy/dev/ensure-kcat.sh").CombinedOutput()
	if err != nil {
		t.Skipf("kcat is not installed and deploy/dev/ensure-kcat.sh could not install it: %v\n%s", err, out)
	}
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("ensure-kcat.sh succeeded but kcat is not on the PATH: %s", out)
	}
	return p
}

// kcatRecord is one line of `kcat -C -J`.
type kcatRecord struct {
	Topic     string   `json:"topic"`
	Partition int      `json:"partition"`
	Offset    int64    `json:"offset"`
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
	Headers   []string `json:"headers"`
	raw       []byte
}

func kcat(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// consumeWithKcat reads a whole topic with kcat: the JSON envelope (-J)
// for partition, offset, key and headers, and a raw pass (-f) for the
// exact value bytes, since protobuf data is not text.
func consumeWithKcat(t *testing.T, bin, broker, topic string) []kcatRecord {
	t.Helper()
	var recs []kcatRecord
	sc := bufio.NewScanner(bytes.NewReader(kcat(t, bin, "-C", "-b", broker, "-t", topic, "-e", "-q", "-J")))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r kcatRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("kcat -J line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	raw := map[string][]byte{}
	br := bufio.NewReader(bytes.NewReader(kcat(t, bin, "-C", "-b", broker, "-t", topic, "-e", "-q", "-f", "%p %o %S\n%s\n")))
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var p, n int
		var o int64
		if _, err := fmt.Sscanf(line, "%d %d %d", &p, &o, &n); err != nil {
			t.Fatalf("kcat -f line %q: %v", line, err)
		}
		v := make([]byte, n+1)
		if _, err := io.ReadFull(br, v); err != nil {
			t.Fatal(err)
		}
		raw[fmt.Sprintf("%d/%d", p, o)] = v[:n]
	}
	for i := range recs {
		v, ok := raw[fmt.Sprintf("%d/%d", recs[i].Partition, recs[i].Offset)]
		if !ok {
			t.Fatalf("no raw value for %d/%d", recs[i].Partition, recs[i].Offset)
		}
		recs[i].raw = v
	}
	return recs
}

// TestKcatReadsTheFeed consumes the relay's feed with kcat (librdkafka, an
// independent Kafka client): the CloudEvents headers, the key, the
// signature and the protobuf or JSON data all decode without our client.
func TestKcatReadsTheFeed(t *testing.T) {
	t.Parallel()
	bin := ensureKcat(t)
	db := testdb.SQLite(t)
	a := newTenant(t, db, "450126")
	sm := newSigner(t, "450126")
	br := newBroker(t, 3, "450126")
	const jsonTopic = "cityops.450126.events.json"
	if err := br.CreateTopics(context.Background(), 1, jsonTopic); err != nil {
		t.Fatal(err)
	}
	newConnector(t, db, a, connectorOpts{brokers: br.Addrs()})
	newConnector(t, db, a, connectorOpts{name: "json", brokers: br.Addrs(), topic: jsonTopic, encoding: entconnector.EncodingJSON})
	newAppender(db).append(t, a, caseEvents("450126", 30, 6)...)
	runOnce(t, newRelay(t, db, sm, nil))

	for _, topic := range []string{cloudevent.EventsTopic("450126"), jsonTopic} {
		recs := consumeWithKcat(t, bin, br.Addrs()[0], topic)
		if len(recs) != 30 {
			t.Fatalf("%s: kcat read %d records, want 30", topic, len(recs))
		}
		seen := map[int64]bool{}
		for _, r := range recs {
			if len(r.Headers)%2 != 0 {
				t.Fatalf("kcat headers %v", r.Headers)
			}
			var hs []cloudevent.Header
			for i := 0; i < len(r.Headers); i += 2 {
				hs = append(hs, cloudevent.Header{Key: r.Headers[i], Value: []byte(r.Headers[i+1])})
			}
			ev, err := cloudevent.Parse(hs, r.raw)
			if err != nil {
				t.Fatalf("%s %d/%d: %v (headers %v)", topic, r.Partition, r.Offset, err, r.Headers)
			}
			if r.Key == nil || *r.Key != ev.Subject || ev.Source != "/tenants/450126" || !strings.HasPrefix(ev.Type, "cn.cityops.case.") {
				t.Fatalf("%s: key %v, attributes %+v", topic, r.Key, ev)
			}
			verify(t, sm, "450126", ev)
			var d federationv1.CaseEventData
			switch ev.ContentType {
			case cloudevent.ContentTypeProto:
				err = proto.Unmarshal(ev.Data, &d)
			case cloudevent.ContentTypeJSON:
				// kcat -J shows JSON data as text.
				if r.Payload == nil || *r.Payload != string(r.raw) {
					t.Fatalf("JSON payload differs between kcat -J and -f")
				}
				err = protojson.Unmarshal([]byte(*r.Payload), &d)
			}
			if err != nil || d.GetEvent().GetSequence() != ev.Sequence || d.GetEvent().GetCaseNumber() != ev.Subject ||
				d.GetEvent().GetClass().GetNationalClassCode() != "01001" {
				t.Fatalf("%s: data of %d: %v %v", topic, ev.Sequence, d.GetEvent(), err)
			}
			seen[ev.Sequence] = true
		}
		if len(seen) != 30 {
			t.Fatalf("%s: %d distinct sequences", topic, len(seen))
		}
	}
}
