package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"
	khttp "github.com/go-kratos/kratos/v2/transport/http"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	tenantv1 "github.com/cityops/cityops/api/tenant/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/platform/internal/conf"
	"github.com/cityops/cityops/app/platform/internal/platform"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// seedDir is the repository's sample tenants, seen from this package.
const seedDir = "../../../../tenants"

// running is a platform process under test, served on loopback ports.
type running struct {
	app     *platform.App
	baseURL string
	http    tenantv1.TenantServiceHTTPClient
	grpc    tenantv1.TenantServiceClient
	conn    *grpc.ClientConn
}

func startPlatform(t testing.TB, db *database.DB, seed string, disableMiddleware bool) *running {
	t.Helper()
	ctx := context.Background()
	bc, err := conf.Load("", []string{
		"CITYOPS_HTTP_ADDR=127.0.0.1:0", "CITYOPS_GRPC_ADDR=127.0.0.1:0",
		"CITYOPS_DB_MIGRATE_ON_START=false", "CITYOPS_SEED_DIR=" + seed,
		"CITYOPS_HTTP_MAX_BODY_BYTES=65536",
	})
	if err != nil {
		t.Fatal(err)
	}
	app, cleanup, err := platform.New(ctx, bc, platform.Options{DB: db, Logger: log.NewStdLogger(io.Discard), DisableMiddleware: disableMiddleware})
	if err != nil {
		t.Fatal(err)
	}
	hu, err := app.HTTP.Endpoint()
	if err != nil {
		t.Fatal(err)
	}
	gu, err := app.GRPC.Endpoint()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.HTTP.Start(ctx) }()
	go func() { _ = app.GRPC.Start(ctx) }()
	hc, err := khttp.NewClient(ctx, khttp.WithEndpoint(hu.Host), khttp.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	gc, err := kgrpc.DialInsecure(ctx, kgrpc.WithEndpoint(gu.Host), kgrpc.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = gc.Close()
		_ = hc.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.HTTP.Stop(sctx)
		_ = app.GRPC.Stop(sctx)
		cleanup()
	})
	return &running{app: app, baseURL: "http://" + hu.Host, http: tenantv1.NewTenantServiceHTTPClient(hc), grpc: tenantv1.NewTenantServiceClient(gc), conn: gc}
}

// call does a raw HTTP request and decodes the JSON answer.
func (r *running) call(t *testing.T, method, path, lang string, body []byte) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, r.baseURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	// No Content-Type, as curl -d sends a form type: JSON bodies must still
	// be read as JSON.
	if body != nil && method != "PATCH" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	} else {
		out["raw"] = string(raw)
	}
	return resp.StatusCode, out, resp.Header
}

func TestSampleTreeOverHTTPAndGRPC(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := startPlatform(t, db, seedDir, false)
		if r.app.Seeded == nil || r.app.Seeded.Created < 5 {
			t.Fatalf("sample tenants not onboarded: %+v", r.app.Seeded)
		}
		ctx := context.Background()
		tree, err := r.http.GetTenantTree(ctx, &tenantv1.GetTenantTreeRequest{Code: "000000"})
		if err != nil {
			t.Fatal(err)
		}
		gx := tree.GetChildren()[0]
		nn := gx.GetChildren()[0]
		if gx.GetTenant().GetCode() != "450000" || nn.GetTenant().GetCode() != "450100" || len(nn.GetChildren()) < 2 {
			t.Fatalf("unexpected tree: %v", tree)
		}
		got, err := r.grpc.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: "450126"})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetNameZh() != "宾阳县" || got.GetPath() != "000000/450000/450100/450126" || got.GetLevel() != tenantv1.Level_LEVEL_COUNTY {
			t.Fatalf("grpc get: %v", got)
		}
		deps, err := r.http.ListDepartments(ctx, &tenantv1.ListDepartmentsRequest{TenantCode: "450100"})
		if err != nil || len(deps.GetDepartments()) < 10 {
			t.Fatalf("nanning departments: %d %v", len(deps.GetDepartments()), err)
		}
		page, err := r.grpc.ListTenants(ctx, &tenantv1.ListTenantsRequest{ParentCode: "450100", PageSize: 1})
		if err != nil || len(page.GetTenants()) != 1 || page.GetNextPageToken() == "" {
			t.Fatalf("list page: %v %v", page, err)
		}
		// Errors keep their reason across both transports.
		if _, err := r.grpc.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: "999999"}); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("grpc unknown tenant: %v", err)
		}
		if _, err := r.http.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: "999999"}); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("http unknown tenant: %v", err)
		}
	})
}

func TestLifecycleAndErrors(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := startPlatform(t, db, seedDir, false)
		ctx := context.Background()

		created, err := r.http.CreateTenant(ctx, &tenantv1.CreateTenantRequest{
			Code: "450102", Slug: "xingning", NameZh: "兴宁区", NameEn: "Xingning District",
			Level: tenantv1.Level_LEVEL_COUNTY, ParentCode: "450100",
		})
		if err != nil {
			t.Fatal(err)
		}
		if created.GetPath() != "000000/450000/450100/450102" || created.GetTimeZone() != "Asia/Shanghai" {
			t.Fatalf("created: %v", created)
		}
		name := "兴宁区（城区）"
		upd, err := r.grpc.UpdateTenant(ctx, &tenantv1.UpdateTenantRequest{Code: "450102", NameZh: &name})
		if err != nil || upd.GetNameZh() != name || upd.GetNameEn() != "Xingning District" {
			t.Fatalf("update: %v %v", upd, err)
		}

		// Suspension gates tenant-scoped calls only.
		if _, err := r.http.SuspendTenant(ctx, &tenantv1.SuspendTenantRequest{Code: "450126", Reason: "系统迁移"}); err != nil {
			t.Fatal(err)
		}
		code, body, _ := r.call(t, "GET", "/v1/tenants/450126/departments", "", nil)
		if code != 403 || body["reason"] != "TENANT_SUSPENDED" || !strings.Contains(body["message"].(string), "已停用") {
			t.Fatalf("suspended tenant-scoped call: %d %v", code, body)
		}
		if _, err := r.grpc.ListDepartments(ctx, &tenantv1.ListDepartmentsRequest{TenantCode: "450126"}); !errorsv1.IsTenantSuspended(err) {
			t.Fatalf("grpc suspended: %v", err)
		}
		if g, err := r.http.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: "450126"}); err != nil || g.GetStatus() != tenantv1.Status_STATUS_SUSPENDED {
			t.Fatalf("operator still sees the suspended tenant: %v %v", g, err)
		}
		if _, err := r.grpc.ResumeTenant(ctx, &tenantv1.ResumeTenantRequest{Code: "450126"}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.grpc.ListDepartments(ctx, &tenantv1.ListDepartmentsRequest{TenantCode: "450126"}); err != nil {
			t.Fatalf("resumed: %v", err)
		}

		cases := []struct {
			name, method, path, lang string
			body                     string
			wantCode                 int
			wantReason, wantField    string
			wantMsg                  string
		}{
			{"unknown tenant zh", "GET", "/v1/tenants/999999", "", "", 404, "TENANT_NOT_FOUND", "", "租户 999999 不存在"},
			{"unknown tenant en", "GET", "/v1/tenants/999999", "en-US,en;q=0.9", "", 404, "TENANT_NOT_FOUND", "", "tenant 999999 does not exist"},
			{"malformed code", "GET", "/v1/tenants/abc", "en", "", 400, "INVALID_ARGUMENT", "code", "invalid request field code"},
			{"injection in filter", "GET", "/v1/tenants?parentCode=450100'%20OR%201=1--", "en", "", 400, "INVALID_ARGUMENT", "parent_code", ""},
			{"bad level", "POST", "/v1/tenants", "en", `{"code":"450103","slug":"qingxiu","nameZh":"青秀区","level":"LEVEL_UNSPECIFIED","parentCode":"450100"}`, 400, "INVALID_ARGUMENT", "level", ""},
			{"county under county", "POST", "/v1/tenants", "", `{"code":"450127","slug":"xx-county","nameZh":"x","level":"LEVEL_COUNTY","parentCode":"450126"}`, 400, "TENANT_HIERARCHY_INVALID", "parent_code", "租户层级不合法"},
			{"duplicate", "POST", "/v1/tenants", "en", `{"code":"450126","slug":"other","nameZh":"x","level":"LEVEL_COUNTY","parentCode":"450100"}`, 409, "TENANT_ALREADY_EXISTS", "code", "exists already"},
			{"empty name", "PATCH", "/v1/tenants/450126", "", `{"nameZh":""}`, 400, "INVALID_ARGUMENT", "name_zh", ""},
			{"malformed json", "POST", "/v1/tenants", "en", `{"code":`, 400, "INVALID_ARGUMENT", "body", ""},
			{"suspend without reason", "POST", "/v1/tenants/450181/suspend", "", `{}`, 400, "INVALID_ARGUMENT", "reason", ""},
			{"page size too big", "GET", "/v1/tenants?pageSize=100000", "en", "", 400, "INVALID_ARGUMENT", "page_size", ""},
			{"bad page token", "GET", "/v1/tenants?pageToken=zzz", "en", "", 400, "INVALID_ARGUMENT", "page_token", ""},
			{"unknown route", "GET", "/v1/nothing", "en", "", 404, "NOT_FOUND", "", "no such API operation"},
			{"oversized body", "POST", "/v1/tenants", "en", `{"nameZh":"` + strings.Repeat("x", 70000) + `"}`, 413, "REQUEST_TOO_LARGE", "", "65536"},
		}
		for _, c := range cases {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			code, out, hdr := r.call(t, c.method, c.path, c.lang, body)
			md, _ := out["metadata"].(map[string]any)
			msg, _ := out["message"].(string)
			if code != c.wantCode || out["reason"] != c.wantReason || (c.wantField != "" && md["field"] != c.wantField) ||
				!strings.Contains(msg, c.wantMsg) {
				t.Errorf("%s: %d %v, want %d %s field=%s msg~%q", c.name, code, out, c.wantCode, c.wantReason, c.wantField, c.wantMsg)
			}
			if hdr.Get("X-Request-Id") == "" || md["request_id"] != hdr.Get("X-Request-Id") {
				t.Errorf("%s: request id missing from error (%v, header %q)", c.name, md["request_id"], hdr.Get("X-Request-Id"))
			}
		}
		// Nothing the refused requests carried was written.
		list, err := r.http.ListTenants(ctx, &tenantv1.ListTenantsRequest{PageSize: 500})
		if err != nil || len(list.GetTenants()) != 6 {
			t.Fatalf("tenants after bad input: %d %v", len(list.GetTenants()), err)
		}
		// gRPC callers get the same localized message through metadata.
		gctx := metadata.AppendToOutgoingContext(ctx, "accept-language", "en")
		_, err = r.grpc.GetTenant(gctx, &tenantv1.GetTenantRequest{Code: "12"})
		if e := kerrors.FromError(err); e.Reason != "INVALID_ARGUMENT" || !strings.Contains(e.Message, "invalid request field code") {
			t.Fatalf("grpc validation: %v", err)
		}
	})
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	r := startPlatform(t, testdb.SQLite(t), "", false)
	code, body, _ := r.call(t, "GET", "/healthz", "", nil)
	if code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", code, body)
	}
	code, body, _ = r.call(t, "GET", "/readyz", "", nil)
	if code != 200 || body["status"] != "ready" {
		t.Fatalf("readyz: %d %v", code, body)
	}
	// One API call so the request metrics have a sample.
	r.call(t, "GET", "/v1/tenants/450126", "", nil)
	code, body, _ = r.call(t, "GET", "/metrics", "", nil)
	raw, _ := body["raw"].(string)
	for _, want := range []string{
		`cityops_server_requests_total{code="404",kind="http",operation="/cityops.tenant.v1.TenantService/GetTenant",reason="TENANT_NOT_FOUND"} 1`,
		"cityops_server_request_duration_seconds_bucket",
		"go_sql_max_open_connections",
	} {
		if code != 200 || !strings.Contains(raw, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	code, body, _ = r.call(t, "GET", "/openapi.yaml", "", nil)
	if raw, _ := body["raw"].(string); code != 200 || !strings.Contains(raw, "/v1/tenants/{code}/tree") {
		t.Fatalf("openapi: %d", code)
	}
	// A caller's request id is echoed; an unusable one is replaced.
	req, _ := http.NewRequest("GET", r.baseURL+"/v1/tenants", nil)
	req.Header.Set("X-Request-Id", "trace-me-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "trace-me-42" {
		t.Fatalf("request id not echoed: %q", resp.Header.Get("X-Request-Id"))
	}
}

func TestReadyzReportsPendingMigrations(t *testing.T) {
	t.Parallel()
	dsn := testdb.EmptyPostgresDSN(t)
	ctx := context.Background()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: dsn, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	core := platform.NewCore(db)
	if err := core.Ready(ctx); err == nil || !strings.Contains(err.Error(), "migrations pending") {
		t.Fatalf("ready on an empty database: %v", err)
	}
}
