package platform_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"
	khttp "github.com/go-kratos/kratos/v2/transport/http"

	tenantv1 "github.com/cityops/cityops/api/tenant/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// loadTenants creates national → 广西 → 20 cities → 49 counties each:
// 1,002 tenants, and returns the codes of the counties.
func loadTenants(b *testing.B, uc *tenant.Usecase) []string {
	b.Helper()
	ctx := viewer.SystemContext(context.Background(), "benchmark tenants")
	var counties []string
	err := uc.InTx(ctx, func(ctx context.Context) error {
		mk := func(in tenant.CreateInput) error { _, err := uc.Create(ctx, in); return err }
		if err := mk(tenant.CreateInput{Code: "000000", Slug: "national", NameZH: "全国", Level: region.National}); err != nil {
			return err
		}
		if err := mk(tenant.CreateInput{Code: "450000", Slug: "guangxi", NameZH: "广西", Level: region.Province, ParentCode: "000000"}); err != nil {
			return err
		}
		for c := 1; c <= 20; c++ {
			city := fmt.Sprintf("45%02d00", c)
			if err := mk(tenant.CreateInput{Code: city, Slug: "city-" + city, NameZH: "市" + city, Level: region.City, ParentCode: "450000"}); err != nil {
				return err
			}
			for k := 1; k <= 49; k++ {
				code := fmt.Sprintf("45%02d%02d", c, k)
				if err := mk(tenant.CreateInput{Code: code, Slug: "county-" + code, NameZH: "县" + code, Level: region.County, ParentCode: city}); err != nil {
					return err
				}
				counties = append(counties, code)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return counties
}

// constTenant is a TenantService whose GetTenant returns a constant: the
// framework's own ceiling for the same request, with no middleware and no
// database.
type constTenant struct {
	tenantv1.UnimplementedTenantServiceServer
	reply *tenantv1.Tenant
}

func (c constTenant) GetTenant(context.Context, *tenantv1.GetTenantRequest) (*tenantv1.Tenant, error) {
	return c.reply, nil
}

func startConst(b *testing.B) (httpAddr, grpcAddr string) {
	reply := &tenantv1.Tenant{Code: "450126", Slug: "binyang", NameZh: "宾阳县", Level: tenantv1.Level_LEVEL_COUNTY, Path: "000000/450000/450100/450126"}
	hs := khttp.NewServer(khttp.Address("127.0.0.1:0"))
	gs := kgrpc.NewServer(kgrpc.Address("127.0.0.1:0"))
	svc := constTenant{reply: reply}
	tenantv1.RegisterTenantServiceHTTPServer(hs, svc)
	tenantv1.RegisterTenantServiceServer(gs, svc)
	hu, err := hs.Endpoint()
	if err != nil {
		b.Fatal(err)
	}
	gu, err := gs.Endpoint()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	go func() { _ = hs.Start(ctx) }()
	go func() { _ = gs.Start(ctx) }()
	b.Cleanup(func() { _ = hs.Stop(ctx); _ = gs.Stop(ctx) })
	return hu.Host, gu.Host
}

// BenchmarkTenantGet measures GetTenant over HTTP and gRPC through the full
// middleware chain on PostgreSQL with 1,002 tenants loaded, next to the same
// request answered by a constant kratos handler. It reports requests/s and
// the p50/p99 latency of 16 concurrent clients.
func BenchmarkTenantGet(b *testing.B) {
	ctx := context.Background()
	// A pool as large as the client concurrency, as production would size it.
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: testdb.PostgresDSN(b), MaxOpenConns: 16, MaxIdleConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeDB)
	r := startPlatform(b, db, "", false)
	codes := loadTenants(b, r.app.Core.Tenants)
	sys := viewer.SystemContext(ctx, "benchmark")
	if _, err := r.app.Core.Identity.Bootstrap(sys, "000000", "operator", "运维", "Bench-Password-2026", []string{viewer.RolePlatformOperator}); err != nil {
		b.Fatal(err)
	}
	tok, err := r.app.Core.Identity.Login(ctx, loginInput("000000", "operator", "Bench-Password-2026"))
	if err != nil {
		b.Fatal(err)
	}
	constHTTP, constGRPC := startConst(b)
	// Keep-alive connections for every concurrent client, so the figures
	// measure requests rather than TCP handshakes.
	transport := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}

	httpClient := func(addr string) tenantv1.TenantServiceHTTPClient {
		c, err := khttp.NewClient(ctx, khttp.WithEndpoint(addr), khttp.WithTimeout(10*time.Second), khttp.WithTransport(transport),
			khttp.WithMiddleware(bearer(tok.AccessToken)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		return tenantv1.NewTenantServiceHTTPClient(c)
	}
	grpcClient := func(addr string) tenantv1.TenantServiceClient {
		c, err := kgrpc.DialInsecure(ctx, kgrpc.WithEndpoint(addr), kgrpc.WithTimeout(10*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		return tenantv1.NewTenantServiceClient(c)
	}
	type getter func(ctx context.Context, code string) error
	fullHTTP := httpClient(r.baseURL[len("http://"):])
	fullGRPC := grpcClient(mustEndpoint(b, r))
	cHTTP, cGRPC := httpClient(constHTTP), grpcClient(constGRPC)
	cases := []struct {
		name string
		get  getter
	}{
		{"http/full", func(ctx context.Context, code string) error {
			_, err := fullHTTP.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: code})
			return err
		}},
		{"http/constant", func(ctx context.Context, code string) error {
			_, err := cHTTP.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: code})
			return err
		}},
		{"grpc/full", func(_ context.Context, code string) error {
			_, err := fullGRPC.GetTenant(as(tok.AccessToken), &tenantv1.GetTenantRequest{Code: code})
			return err
		}},
		{"grpc/constant", func(ctx context.Context, code string) error {
			_, err := cGRPC.GetTenant(ctx, &tenantv1.GetTenantRequest{Code: code})
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				lat := make([]time.Duration, 0, 1024)
				i := 0
				for pb.Next() {
					t0 := time.Now()
					if err := c.get(ctx, codes[i%len(codes)]); err != nil {
						b.Error(err)
						return
					}
					lat = append(lat, time.Since(t0))
					i += 7
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if len(all) == 0 {
				return
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func mustEndpoint(b *testing.B, r *running) string {
	u, err := r.app.GRPC.Endpoint()
	if err != nil {
		b.Fatal(err)
	}
	return u.Host
}
