package relay_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/relay"
)

// The child of TestKilledMidBatch is this test binary run again with
// these variables set (as Go's os/exec tests do): it runs a relay until it
// is killed.
const (
	envChild        = "CITYOPS_RELAY_CHILD"
	envChildDSN     = "CITYOPS_RELAY_CHILD_DSN"
	envChildBrokers = "CITYOPS_RELAY_CHILD_BROKERS"
	envChildSecrets = "CITYOPS_RELAY_CHILD_SECRETS"
	childHolder     = "relay-child"
	childBatch      = 25
)

func childRequested() bool { return os.Getenv(envChild) == "1" }

func runChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: os.Getenv(envChildDSN), MaxOpenConns: 4})
	if err != nil {
		fail(err)
	}
	defer closeDB()
	sm, err := secrets.NewLocal(os.Getenv(envChildSecrets))
	if err != nil {
		fail(err)
	}
	r, err := relay.New(relay.Config{DB: db, Signer: sm, KeyName: keyName, Holder: childHolder, BatchSize: childBatch,
		PollInterval: 10 * time.Millisecond, LeaseTTL: 30 * time.Second, BackoffMin: 10 * time.Millisecond,
		BackoffMax: 100 * time.Millisecond, DefaultBrokers: strings.Split(os.Getenv(envChildBrokers), ",")})
	if err != nil {
		fail(err)
	}
	fail(fmt.Errorf("run returned: %v", r.Run(ctx)))
}

// TestKilledMidBatch kills a relay process with SIGKILL while it
// publishes, again and again, restarting it each time: every event ends up
// on the topic (nothing lost); duplicates come only from batches that were
// acknowledged but not yet recorded when the process died.
func TestKilledMidBatch(t *testing.T) {
	t.Parallel()
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: dsn, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	a := newTenant(t, db, "450126")
	secretsPath := t.TempDir() + "/secrets.json"
	sm, err := secrets.NewLocal(secretsPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := sm.CreateKey(ctx, keyName("450126")); err != nil {
		t.Fatal(err)
	}
	br := newBroker(t, 6, "450126")
	c := newConnector(t, db, a, connectorOpts{}) // no brokers: the relay's default (embedded) broker
	const total = 4000
	seed(t, db, a, "450126", total)

	kills := 0
	for kills < 6 {
		before := getConnector(t, db, c.ID).Cursor
		if before >= total {
			break
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"=1", envChildDSN+"="+dsn, envChildSecrets+"="+secretsPath,
			envChildBrokers+"="+strings.Join(br.Addrs(), ","))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once it is publishing: its cursor moved, then a random
		// moment later, most likely between a write and its cursor update.
		deadline := time.Now().Add(30 * time.Second)
		for getConnector(t, db, c.ID).Cursor == before && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		kills++
	}
	after := getConnector(t, db, c.ID).Cursor
	// A restarted replica (same holder) finishes the backlog.
	r := newRelay(t, db, sm, func(cfg *relay.Config) { cfg.Holder, cfg.DefaultBrokers = childHolder, br.Addrs() })
	runOnce(t, r)
	rs := readTopic(t, br.Addrs(), cloudevent.EventsTopic("450126"))
	dups := checkComplete(t, rs, total, false)
	checkOrderPerKey(t, rs, true)
	for _, rc := range rs[:50] {
		verify(t, sm, "450126", rc.ev)
	}
	// At most two acknowledged batches are unrecorded at any moment.
	if dups > kills*2*childBatch {
		t.Fatalf("%d duplicates after %d kills: more than two batches per kill", dups, kills)
	}
	t.Logf("%d kills, cursor %d of %d when the last child died, %d duplicates", kills, after, total, dups)
	if kills < 3 {
		t.Fatalf("only %d kills happened before the backlog drained", kills)
	}
}
