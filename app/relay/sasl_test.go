package relay_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"gopkg.in/yaml.v3"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/kafkabroker"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/relay"
)

// declaredACLs reads the ACLs deploy/kafka/users.yaml declares for a
// principal, as kfake seeds them.
func declaredACLs(t *testing.T, user string) []kfake.ACL {
	t.Helper()
	b, err := os.ReadFile("../../deploy/kafka/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				Authorization struct {
					ACLs []struct {
						Resource struct {
							Type        string `yaml:"type"`
							Name        string `yaml:"name"`
							PatternType string `yaml:"patternType"`
						} `yaml:"resource"`
						Operations []string `yaml:"operations"`
					} `yaml:"acls"`
				} `yaml:"authorization"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("no user %s in deploy/kafka/users.yaml: %v", user, err)
		}
		if d.Metadata.Name != user {
			continue
		}
		var out []kfake.ACL
		for _, a := range d.Spec.Authorization.ACLs {
			res := map[string]kmsg.ACLResourceType{"topic": kmsg.ACLResourceTypeTopic, "group": kmsg.ACLResourceTypeGroup}[a.Resource.Type]
			pat := map[string]kmsg.ACLResourcePatternType{"literal": kmsg.ACLResourcePatternTypeLiteral,
				"prefix": kmsg.ACLResourcePatternTypePrefixed}[a.Resource.PatternType]
			for _, op := range a.Operations {
				o := map[string]kmsg.ACLOperation{"Describe": kmsg.ACLOperationDescribe, "Read": kmsg.ACLOperationRead,
					"Write": kmsg.ACLOperationWrite}[op]
				if res == 0 || pat == 0 || o == 0 {
					t.Fatalf("%s: ACL %+v %s not understood", user, a.Resource, op)
				}
				out = append(out, kfake.ACL{Resource: res, Name: a.Resource.Name, Pattern: pat, Operation: o, Allow: true})
			}
		}
		return out
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestTLSAndSCRAMWithDeclaredACLs publishes over TLS with SCRAM-SHA-512
// credentials from the secret store to a broker that enforces the ACLs of
// deploy/kafka/users.yaml: 宾阳县's principal writes its own feed, and a
// connector pointed at 横州市's feed is refused (cursor kept, error shown).
func TestTLSAndSCRAMWithDeclaredACLs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cert, pool := selfSigned(t)
	const mech = "SCRAM-SHA-512"
	br, err := kafkabroker.Start(ctx, kafkabroker.Options{
		Topics: []string{cloudevent.EventsTopic("450126"), cloudevent.EventsTopic("450181")}, Partitions: 3,
		Extra: []kfake.Opt{
			kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
			kfake.EnableSASL(), kfake.EnableACLs(),
			kfake.Superuser(mech, "admin", "admin-secret"),
			kfake.User(mech, "tenant-450126", "binyang-secret", declaredACLs(t, "tenant-450126")...),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)

	db := testdb.SQLite(t)
	a := newTenant(t, db, "450126")
	sm := newSigner(t, "450126")
	const ref = "secret://kv/cityops/tenants/450126/kafka"
	if err := sm.Put(ctx, "kv/cityops/tenants/450126/kafka", map[string]string{"username": "tenant-450126", "password": "binyang-secret"}); err != nil {
		t.Fatal(err)
	}
	own := newConnector(t, db, a, connectorOpts{name: "own", brokers: br.Addrs(), sasl: mech, saslRef: ref})
	foreign := newConnector(t, db, a, connectorOpts{name: "foreign", brokers: br.Addrs(), sasl: mech, saslRef: ref,
		topic: cloudevent.EventsTopic("450181")})
	for _, id := range []int{own.ID, foreign.ID} {
		if _, err := db.Ent.Connector.UpdateOneID(id).SetTLS(true).Save(sysCtx()); err != nil {
			t.Fatal(err)
		}
	}
	newAppender(db).append(t, a, caseEvents("450126", 12, 4)...)

	r := newRelay(t, db, sm, func(c *relay.Config) { c.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12} })
	n, err := r.RunOnce(ctx)
	if n != 12 || err == nil || !strings.Contains(err.Error(), "foreign") {
		t.Fatalf("RunOnce = %d, %v; want 12 published and the foreign connector refused", n, err)
	}
	if c := getConnector(t, db, own.ID); c.Cursor != 12 {
		t.Fatalf("own cursor %d", c.Cursor)
	}
	// Without Describe on the topic the broker hides it (kfake answers
	// UNKNOWN_TOPIC_OR_PARTITION, Kafka TOPIC_AUTHORIZATION_FAILED).
	if c := getConnector(t, db, foreign.ID); c.Cursor != 0 || c.Failures == 0 ||
		!strings.Contains(c.LastError, "Authorization") && !strings.Contains(c.LastError, "Unknown Topic") {
		t.Fatalf("foreign connector: cursor %d, last error %q", c.Cursor, c.LastError)
	}
	// Read back as the admin.
	mechanism, err := scram.Mechanism(scram.SHA512, "admin", "admin-secret")
	if err != nil {
		t.Fatal(err)
	}
	tr := &kafka.Transport{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, SASL: mechanism}
	defer tr.CloseIdleConnections()
	ms, err := kafkabroker.ReadAllWith(ctx, tr, br.Addrs(), cloudevent.EventsTopic("450126"))
	if err != nil || len(ms) != 12 {
		t.Fatalf("read %d records: %v", len(ms), err)
	}
	if ms, err := kafkabroker.ReadAllWith(ctx, tr, br.Addrs(), cloudevent.EventsTopic("450181")); err != nil || len(ms) != 0 {
		t.Fatalf("横州 feed holds %d records: %v", len(ms), err)
	}
	// Without credentials the broker answers nothing.
	w, err := relay.New(relay.Config{DB: db, Signer: sm, KeyName: keyName, Holder: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Dialer().Publish(ctx, relay.Destination{Brokers: br.Addrs(), Topic: cloudevent.EventsTopic("450126")},
		relay.Message{Value: []byte("x")}); err == nil {
		t.Fatal("published without TLS and credentials")
	}
}
