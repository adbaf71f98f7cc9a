// Command coldstart measures how long the platform binary takes from exec
// to a ready /readyz on a fresh SQLite file (migrations and the first-start
// onboarding of the sample tenants included), and how long it takes to stop
// cleanly on SIGTERM. Run it from the repository root: make coldstart.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "var/bin/platform", "platform binary")
	runs := flag.Int("runs", 5, "number of cold starts")
	flag.Parse()
	if err := measure(*bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func measure(bin string, runs int) error {
	var starts, stops []time.Duration
	for i := 0; i < runs; i++ {
		start, stop, err := once(bin)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		starts = append(starts, start)
		stops = append(stops, stop)
	}
	report := func(name string, d []time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Printf("%-34s min %.3fs  median %.3fs  max %.3fs  (%d runs)\n", name,
			d[0].Seconds(), d[len(d)/2].Seconds(), d[len(d)-1].Seconds(), len(d))
	}
	report("cold start to /readyz (sqlite)", starts)
	report("SIGTERM to clean exit", stops)
	return nil
}

func once(bin string) (time.Duration, time.Duration, error) {
	dir, err := os.MkdirTemp("", "cityops-coldstart-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	hp, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	gp, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	dsn := "file:" + filepath.Join(dir, "cityops.db") + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("CITYOPS_HTTP_ADDR=127.0.0.1:%d", hp),
		fmt.Sprintf("CITYOPS_GRPC_ADDR=127.0.0.1:%d", gp),
		"CITYOPS_DB_DSN="+dsn, "CITYOPS_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", hp)
	client := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ready time.Duration
	for ready == 0 {
		select {
		case err := <-done:
			return 0, 0, fmt.Errorf("platform exited before ready: %v", err)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return 0, 0, fmt.Errorf("not ready after 60s")
		case <-time.After(5 * time.Millisecond):
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = time.Since(t0)
			}
		}
	}
	t1 := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, err
	}
	select {
	case err := <-done:
		if err != nil {
			return 0, 0, fmt.Errorf("platform did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return 0, 0, fmt.Errorf("platform did not stop within 30s of SIGTERM")
	}
	return ready, time.Since(t1), nil
}
