// Command platform is the CityOps API server: HTTP and gRPC for every
// domain service. With no configuration it runs embedded: SQLite under
// ./var, sample tenants onboarded on first start.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-kratos/kratos/v2"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/telemetry"
	"github.com/cityops/cityops/app/platform/internal/biz/onboarding"
	"github.com/cityops/cityops/app/platform/internal/conf"
	"github.com/cityops/cityops/app/platform/internal/platform"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	confPath := flag.String("conf", "", "config file (default: the embedded configs/config.yaml)")
	flag.Parse()

	// kratos's config package logs through the process-wide logger; keep it
	// to warnings until ours is configured, then hand it ours.
	log.SetLogger(log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelWarn)))
	bc, err := conf.Load(*confPath, os.Environ())
	if err != nil {
		return err
	}
	obs := bc.GetObservability()
	logger := telemetry.NewLogger(os.Stdout, obs.GetServiceName(), obs.GetLogLevel())
	log.SetLogger(logger)
	tp, shutdownTracing, err := telemetry.NewTracerProvider(ctx, telemetry.TracingConfig{
		Service: obs.GetServiceName(), Endpoint: obs.GetOtlpEndpoint(),
		Insecure: obs.GetOtlpInsecure(), SampleRatio: obs.GetTraceSampleRatio(),
	})
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()

	app, cleanup, err := platform.New(ctx, bc, platform.Options{Logger: logger, Tracer: tp})
	if err != nil {
		return err
	}
	defer cleanup()
	if app.Seeded != nil {
		fmt.Printf("onboarded %d sample tenants (%d departments) from %s\n",
			app.Seeded.Created, app.Seeded.DepartmentsCreated, bc.GetOnboarding().GetSeedDir())
		for _, c := range app.Seeded.Admins {
			fmt.Printf("  first administrator of %s %s: %s / %s (kept in the secret store)\n", c.TenantCode, c.TenantName, c.Login, c.Password)
		}
	}
	app.Core.Run(ctx)
	transport, err := app.Core.StartFederation(ctx, bc, logger)
	if err != nil {
		return err
	}
	defer transport.Close()
	if transport != nil && transport.Broker != nil {
		fmt.Printf("federation: embedded Kafka-protocol broker on %s; relay, consumers and commands running\n", strings.Join(transport.Brokers, ","))
	}

	k := kratos.New(
		kratos.Name(obs.GetServiceName()),
		kratos.Version(version),
		kratos.Context(ctx),
		kratos.Logger(logger),
		kratos.Server(app.HTTP, app.GRPC),
		kratos.StopTimeout(bc.GetServer().GetShutdownGrace().AsDuration()),
		kratos.AfterStart(func(context.Context) error {
			printWelcome(bc)
			printDemo(app.Demo)
			return nil
		}),
	)
	if err := k.Run(); err != nil {
		return err
	}
	log.NewHelper(logger).Infow("msg", "stopped cleanly")
	return nil
}

func printDemo(demo []onboarding.Credential) {
	if len(demo) == 0 {
		return
	}
	fmt.Println("Demo accounts (演示账号; passwords kept in the local secret store):")
	fmt.Println("  tenant   login          role               password")
	for _, c := range demo {
		fmt.Printf("  %-8s %-14s %-18s %s\n", c.TenantCode, c.Login, c.Role, c.Password)
	}
	fmt.Println(`Sign in: curl -s -XPOST localhost:8000/v1/auth/login -d '{"tenantCode":"450126","login":"dispatcher","password":"…"}'`)
}

func printWelcome(bc *conf.Bootstrap) {
	u := bc.GetServer().GetHttp().GetPublicUrl()
	fmt.Printf(`
CityOps is running (%s, %s).
  API            %s/v1/tenants
  tenant tree    %s/v1/tenants/000000/tree
  OpenAPI        %s/openapi.yaml
  health         %s/healthz   ready %s/readyz   metrics %s/metrics
  gRPC           %s
Stop with Ctrl-C.
`, bc.GetData().GetDatabase().GetDriver(), version, u, u, u, u, u, u, bc.GetServer().GetGrpc().GetAddr())
}
