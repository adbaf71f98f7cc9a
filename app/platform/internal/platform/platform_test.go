package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/transport"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"
	khttp "github.com/go-kratos/kratos/v2/transport/http"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	identityv1 "github.com/cityops/cityops/api/identity/v1"
	tenantv1 "github.com/cityops/cityops/api/tenant/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/testvault"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/conf"
	"github.com/cityops/cityops/app/platform/internal/platform"
)

func TestMain(m *testing.M) {
	os.Exit(testdb.Wrap(func() int { return testvault.Wrap(m.Run) }))
}

// seedDir is the repository's sample tenants, seen from this package.
const seedDir = "../../../../tenants"

// running is a platform process under test, served on loopback ports.
type running struct {
	app     *platform.App
	baseURL string
	httpURL string
	grpcURL string
	conn    *grpc.ClientConn
	grpc    tenantv1.TenantServiceClient
	ident   identityv1.IdentityServiceClient
}

// cheapArgon2 keeps password hashing fast in tests; the production cost is
// measured by the identity benchmarks.
var cheapArgon2 = &identity.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// newCore builds the use cases over db with a private local secret store.
func newCore(t testing.TB, db *database.DB) *platform.Core {
	t.Helper()
	ctx := context.Background()
	sm, err := secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	core, err := platform.NewCore(ctx, db, sm, platform.CoreOptions{Logger: log.NewStdLogger(io.Discard), Argon2: cheapArgon2,
		EvidenceURL: "file://" + filepath.ToSlash(t.TempDir()) + "?create_dir=true"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close(); _ = sm.Close() })
	return core
}

// demoTenants get one account per role: two sibling counties and their city.
var demoTenants = []string{"450100", "450126", "450181"}

func startPlatform(t testing.TB, db *database.DB, seed string, disableMiddleware bool) *running {
	t.Helper()
	return startPlatformTuned(t, db, seed, disableMiddleware, nil)
}

// startPlatformTuned is startPlatform with the configuration adjusted by
// tune before the platform starts.
func startPlatformTuned(t testing.TB, db *database.DB, seed string, disableMiddleware bool, tune func(*conf.Bootstrap)) *running {
	t.Helper()
	ctx := context.Background()
	bc, err := conf.Load("", []string{
		"CITYOPS_HTTP_ADDR=127.0.0.1:0", "CITYOPS_GRPC_ADDR=127.0.0.1:0",
		"CITYOPS_DB_MIGRATE_ON_START=false", "CITYOPS_SEED_DIR=" + seed,
		"CITYOPS_HTTP_MAX_BODY_BYTES=65536", "CITYOPS_LOGIN_RATE=10000", "CITYOPS_LOGIN_BURST=10000",
		"CITYOPS_API_RATE=100000", "CITYOPS_API_BURST=100000",
		"CITYOPS_DEMO_ACCOUNTS=" + strconv.FormatBool(seed != ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	bc.Onboarding.DemoTenants = demoTenants
	if tune != nil {
		tune(bc)
	}
	app, cleanup, err := platform.New(ctx, bc, platform.Options{Core: newCore(t, db), Logger: log.NewStdLogger(io.Discard), DisableMiddleware: disableMiddleware})
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
	gc, err := kgrpc.DialInsecure(ctx, kgrpc.WithEndpoint(gu.Host), kgrpc.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = gc.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.HTTP.Stop(sctx)
		_ = app.GRPC.Stop(sctx)
		cleanup()
	})
	return &running{app: app, baseURL: "http://" + hu.Host, httpURL: hu.Host, grpcURL: gu.Host, conn: gc,
		grpc: tenantv1.NewTenantServiceClient(gc), ident: identityv1.NewIdentityServiceClient(gc)}
}

// password returns the demo password of login in tenant code.
func (r *running) password(t testing.TB, code, login string) string {
	t.Helper()
	for _, c := range r.app.Demo {
		if c.TenantCode == code && c.Login == login {
			return c.Password
		}
	}
	t.Fatalf("no demo account %s/%s", code, login)
	return ""
}

// login signs in over gRPC and returns the access token.
func (r *running) login(t testing.TB, code, login string) string {
	t.Helper()
	tok, err := r.ident.Login(context.Background(), &identityv1.LoginRequest{TenantCode: code, Login: login, Password: r.password(t, code, login)})
	if err != nil {
		t.Fatalf("login %s/%s: %v", code, login, err)
	}
	return tok.GetAccessToken()
}

// as returns a context whose gRPC calls carry token.
func as(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// httpAs returns a typed HTTP client whose calls carry token.
func (r *running) httpAs(t testing.TB, token string) tenantv1.TenantServiceHTTPClient {
	t.Helper()
	c, err := khttp.NewClient(context.Background(), khttp.WithEndpoint(r.httpURL), khttp.WithTimeout(10*time.Second),
		khttp.WithMiddleware(bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return tenantv1.NewTenantServiceHTTPClient(c)
}

func bearer(token string) middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			if tr, ok := transport.FromClientContext(ctx); ok && token != "" {
				tr.RequestHeader().Set("Authorization", "Bearer "+token)
			}
			return next(ctx, req)
		}
	}
}

// call does a raw HTTP request and decodes the JSON answer.
func (r *running) call(t *testing.T, token, method, path, lang string, body []byte) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, r.baseURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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
		if r.app.Seeded == nil || r.app.Seeded.Created < 5 || len(r.app.Seeded.Admins) != 5 {
			t.Fatalf("sample tenants not onboarded: %+v", r.app.Seeded)
		}
		op := r.login(t, "000000", "operator")
		ctx := as(op)
		hc := r.httpAs(t, op)
		tree, err := hc.GetTenantTree(context.Background(), &tenantv1.GetTenantTreeRequest{Code: "000000"})
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
		// A city's dispatcher reads its own departments over HTTP.
		deps, err := r.httpAs(t, r.login(t, "450100", "dispatcher")).ListDepartments(context.Background(), &tenantv1.ListDepartmentsRequest{TenantCode: "450100"})
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
		if _, err := hc.GetTenant(context.Background(), &tenantv1.GetTenantRequest{Code: "999999"}); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("http unknown tenant: %v", err)
		}
		// Every onboarded tenant has its own event signing key.
		for _, code := range []string{"000000", "450000", "450100", "450126", "450181"} {
			pub, err := r.app.Core.Secrets.PublicKey(context.Background(), platform.SigningKeyName(code))
			if err != nil || len(pub) != 32 {
				t.Fatalf("signing key of %s: %v", code, err)
			}
		}
		// The first administrators can sign in with their printed password.
		for _, a := range r.app.Seeded.Admins {
			if _, err := r.ident.Login(context.Background(), &identityv1.LoginRequest{TenantCode: a.TenantCode, Login: a.Login, Password: a.Password}); err != nil {
				t.Fatalf("first admin of %s: %v", a.TenantCode, err)
			}
		}
	})
}

func TestLifecycleAndErrors(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := startPlatform(t, db, seedDir, false)
		op := r.login(t, "000000", "operator")
		ctx := as(op)
		hc := r.httpAs(t, op)

		created, err := hc.CreateTenant(context.Background(), &tenantv1.CreateTenantRequest{
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

		// Suspension gates the tenant's own work and its tenant-scoped calls.
		disp := r.login(t, "450126", "dispatcher")
		if _, err := hc.SuspendTenant(context.Background(), &tenantv1.SuspendTenantRequest{Code: "450126", Reason: "系统迁移"}); err != nil {
			t.Fatal(err)
		}
		r.app.Access.Forget("450126")
		code, body, _ := r.call(t, op, "GET", "/v1/tenants/450126/departments", "", nil)
		if code != 403 || body["reason"] != "TENANT_SUSPENDED" || !strings.Contains(body["message"].(string), "已停用") {
			t.Fatalf("suspended tenant-scoped call: %d %v", code, body)
		}
		if _, err := r.grpc.ListDepartments(as(disp), &tenantv1.ListDepartmentsRequest{TenantCode: "450126"}); !errorsv1.IsTenantSuspended(err) {
			t.Fatalf("grpc suspended: %v", err)
		}
		if _, err := r.grpc.GetTenant(as(disp), &tenantv1.GetTenantRequest{Code: "450126"}); !errorsv1.IsTenantSuspended(err) {
			t.Fatalf("a suspended tenant's users are stopped: %v", err)
		}
		if g, err := hc.GetTenant(context.Background(), &tenantv1.GetTenantRequest{Code: "450126"}); err != nil || g.GetStatus() != tenantv1.Status_STATUS_SUSPENDED {
			t.Fatalf("operator still sees the suspended tenant: %v %v", g, err)
		}
		if _, err := r.grpc.ResumeTenant(ctx, &tenantv1.ResumeTenantRequest{Code: "450126"}); err != nil {
			t.Fatal(err)
		}
		r.app.Access.Forget("450126")
		if _, err := r.grpc.ListDepartments(as(disp), &tenantv1.ListDepartmentsRequest{TenantCode: "450126"}); err != nil {
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
			code, out, hdr := r.call(t, op, c.method, c.path, c.lang, body)
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
		list, err := hc.ListTenants(context.Background(), &tenantv1.ListTenantsRequest{PageSize: 500})
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
	code, body, _ := r.call(t, "", "GET", "/healthz", "", nil)
	if code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", code, body)
	}
	code, body, _ = r.call(t, "", "GET", "/readyz", "", nil)
	if code != 200 || body["status"] != "ready" {
		t.Fatalf("readyz: %d %v", code, body)
	}
	// One API call so the request metrics have a sample.
	r.call(t, "", "GET", "/v1/tenants/450126", "", nil)
	code, body, _ = r.call(t, "", "GET", "/metrics", "", nil)
	raw, _ := body["raw"].(string)
	for _, want := range []string{
		`cityops_server_requests_total{code="401",kind="http",operation="/cityops.tenant.v1.TenantService/GetTenant",reason="UNAUTHENTICATED"} 1`,
		"cityops_server_request_duration_seconds_bucket",
		"go_sql_max_open_connections",
	} {
		if code != 200 || !strings.Contains(raw, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	code, body, _ = r.call(t, "", "GET", "/openapi.yaml", "", nil)
	if raw, _ := body["raw"].(string); code != 200 || !strings.Contains(raw, "/v1/tenants/{code}/tree") || !strings.Contains(raw, "/v1/auth/login") {
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
	core := &platform.Core{DB: db}
	if err := core.Ready(ctx); err == nil || !strings.Contains(err.Error(), "migrations pending") {
		t.Fatalf("ready on an empty database: %v", err)
	}
}
