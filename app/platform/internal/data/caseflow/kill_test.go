package caseflow_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	data "github.com/cityops/cityops/app/platform/internal/data/caseflow"
)

// The child process of TestKilledMidTransaction is this test binary run
// again with these variables set (as Go's os/exec tests do): it begins a
// dispatch, reports when the case update and step are written inside the
// transaction, and waits to be killed.
const (
	envChild      = "CITYOPS_CASEFLOW_CHILD"
	envChildDSN   = "CITYOPS_CASEFLOW_CHILD_DSN"
	envChildCase  = "CITYOPS_CASEFLOW_CHILD_CASE"
	envChildTID   = "CITYOPS_CASEFLOW_CHILD_TENANT_ID"
	envChildTCode = "CITYOPS_CASEFLOW_CHILD_TENANT_CODE"
	childReady    = "IN_TRANSACTION"
)

func childRequested() bool { return os.Getenv(envChild) == "1" }

// blockingLog announces that the transaction reached the event log, then
// blocks until the process dies.
type blockingLog struct{ biz.EventLog }

func (blockingLog) Append(ctx context.Context, _ *biz.Event) error {
	fmt.Println(childReady)
	<-ctx.Done()
	return ctx.Err()
}

func runChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: os.Getenv(envChildDSN), MaxOpenConns: 2})
	if err != nil {
		fail(err)
	}
	defer closeDB()
	tid, err := strconv.Atoi(os.Getenv(envChildTID))
	if err != nil {
		fail(err)
	}
	uc := biz.NewUsecase(data.NewRepo(db.Ent), blockingLog{data.NewEventLog(db.Ent)}, data.NewDepartments(db.Ent), db, biz.Config{})
	vctx := viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: tid,
		TenantCode: os.Getenv(envChildTCode), Roles: []string{viewer.RoleDispatcher}})
	_, err = uc.Transition(vctx, os.Getenv(envChildCase), biz.OpDispatch, biz.Input{Department: "cgj"})
	fail(fmt.Errorf("transition returned: %v", err))
}

// TestKilledMidTransaction kills a process in the middle of a transition
// (case updated, step appended, event not yet appended, not committed):
// PostgreSQL rolls the transaction back, so the case, its timeline and the
// event log are as before, and the next transition proceeds.
func TestKilledMidTransaction(t *testing.T) {
	t.Parallel()
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: dsn, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	e := newEnv(t, db, nil)
	a := e.a
	c := e.submit(t, a, biz.SourceSupervisor)
	c = e.step(t, a, c, shiftLeader, 0, biz.OpFile, biz.Input{})
	events := len(e.events(t, a))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1", envChildDSN+"="+dsn, envChildCase+"="+c.Number,
		envChildTID+"="+strconv.Itoa(a.id), envChildTCode+"="+a.code)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == childReady {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatal("child ended before reaching the event log")
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child never reached the event log")
	}
	// While the child holds its transaction open, nobody sees its change.
	if got, _ := e.uc.Get(a.as(intake, 0), c.Number); got.State != biz.StateFiled {
		t.Fatalf("uncommitted change visible: %s", got.State)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	got, err := e.uc.Get(a.as(intake, 0), c.Number)
	if err != nil || got.State != biz.StateFiled || got.Version != c.Version || got.PrimaryDepartmentCode != "" {
		t.Fatalf("after the kill: %+v %v", got, err)
	}
	if n := len(e.timeline(t, a, c.Number)); n != 2 {
		t.Fatalf("%d steps after the kill, want 2", n)
	}
	if n := len(e.events(t, a)); n != events {
		t.Fatalf("%d events after the kill, want %d", n, events)
	}
	// The server released the dead session's locks: the dispatch goes
	// through (bounded, in case it did not) and the log stays gapless.
	tctx, cancel := context.WithTimeout(a.as(dispatcher, 0), 30*time.Second)
	defer cancel()
	if _, err := e.uc.Transition(tctx, c.Number, biz.OpDispatch, biz.Input{Department: "cgj", ExpectedVersion: c.Version}); err != nil {
		t.Fatal(err)
	}
	gapless(t, e.events(t, a))
}
