package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/platform/admin"
)

// auditCtl runs `cityctl [-lang lang] audit args…` in-process through
// runAudit, opening the platform like run does.
func auditCtl(t *testing.T, env []string, lang string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx := context.Background()
	open := func() (*admin.Admin, func(), bool) {
		a, closeFn, err := admin.Open(ctx, "", env)
		if err != nil {
			fmt.Fprintln(&errOut, "cityctl:", err)
			return nil, nil, false
		}
		return a, closeFn, true
	}
	code := runAudit(ctx, args, lang, open, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	env := environments(t)["sqlite"]
	if code, _, errOut := ctl(t, env, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := ctl(t, env, "tenant", "onboard", tenantsDir); code != 0 {
		t.Fatal(errOut)
	}
	ctx := context.Background()
	a, closeFn, err := admin.Open(ctx, "", env)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	for i := range 5 {
		err := a.AppendAudit(ctx, admin.AuditEntry{TenantCode: "450126", Actor: "system", Operation: "cityctl tenant onboard",
			Target: fmt.Sprintf("tenants/450126/step/%d", i), Outcome: "ok"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AppendAudit(ctx, admin.AuditEntry{Actor: "system", Operation: "cityctl migrate", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := auditCtl(t, env, "zh-CN", "verify", "450126")
	if code != 0 || !strings.Contains(out, "审计链 450126：共 6 条记录，校验通过") {
		t.Fatalf("verify: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = auditCtl(t, env, "en", "verify", "platform")
	if code != 0 || !strings.Contains(out, "audit chain platform: 2 entries, verified") {
		t.Fatalf("verify platform: %d\n%s", code, out)
	}
	// The onboarding and the migration are system actions in the trail
	// (one entry each, above); an unknown tenant is an error, not an empty
	// "valid" chain.
	if code, out, _ := auditCtl(t, env, "en", "verify", "450181"); code != 0 || !strings.Contains(out, "1 entries, verified") {
		t.Fatalf("verify empty chain: %d\n%s", code, out)
	}
	if code, _, errOut := auditCtl(t, env, "zh-CN", "verify", "999999"); code != 1 || !strings.Contains(errOut, "租户 999999 不存在") {
		t.Fatalf("unknown tenant: %d %s", code, errOut)
	}
	for _, args := range [][]string{nil, {"verify"}, {"verify", "a", "b"}, {"check", "450126"}} {
		if code, _, errOut := auditCtl(t, env, "en", args...); code != 2 || !strings.Contains(errOut, "audit verify") {
			t.Errorf("usage %v: %d %s", args, code, errOut)
		}
	}

	// Tamper behind the platform's back: alter one entry, delete another.
	var dsn string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "CITYOPS_DB_DSN="); ok {
			dsn = v
		}
	}
	raw, closeRaw, err := database.Open(ctx, database.Config{Driver: database.DriverSQLite, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRaw()
	for _, q := range []string{
		`UPDATE audit_entries SET target = 'tenants/450126/nothing-happened' WHERE chain = '450126' AND seq = 2`,
		`DELETE FROM audit_entries WHERE chain = '450126' AND seq = 4`,
	} {
		if _, err := raw.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = auditCtl(t, env, "zh-CN", "verify", "450126")
	for _, want := range []string{"共 5 条记录，发现 2 个问题", "第 2 条：内容已被篡改", "第 5 条之前：缺少第 4 条记录"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("tampered chain: exit %d, output lacks %q:\n%s\n%s", code, want, out, errOut)
		}
	}
	t.Logf("cityctl audit verify 450126:\n%s", out)
	code, out, _ = auditCtl(t, env, "en", "verify", "450126")
	t.Logf("cityctl -lang en audit verify 450126:\n%s", out)
	for _, want := range []string{"5 entries, 2 problem(s) found", "entry 2: altered", "entry 5: gap: entry 4 is missing"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("tampered chain (en): exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	// The other chain is untouched.
	if code, _, _ := auditCtl(t, env, "en", "verify", "platform"); code != 0 {
		t.Errorf("platform chain broken by tampering with 450126: exit %d", code)
	}
}
