// Package server builds the platform's HTTP and gRPC servers with the
// middleware chain every CityOps API goes through: request id, tracing,
// metrics, access log, localized errors, recovery, validation and the
// tenant gate.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/middleware/recovery"
	"github.com/go-kratos/kratos/v2/middleware/tracing"
	"github.com/go-kratos/kratos/v2/transport/grpc"
	"github.com/go-kratos/kratos/v2/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/cityops/cityops/api"
	auditv1 "github.com/cityops/cityops/api/audit/v1"
	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	identityv1 "github.com/cityops/cityops/api/identity/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	tenantv1 "github.com/cityops/cityops/api/tenant/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/service"
)

// Options configures the servers.
type Options struct {
	HTTPAddr     string
	GRPCAddr     string
	Timeout      time.Duration
	MaxBodyBytes int64
	Logger       log.Logger
	Tracer       trace.TracerProvider
	Registry     *prometheus.Registry
	Localizer    *apierr.Localizer
	// Ready reports whether the platform can serve (database reachable,
	// migrations current); /readyz answers 503 with the error otherwise.
	Ready func(ctx context.Context) error
	// Access is authentication, authorization, the tenant gate, rate
	// limits and the audited unit of work.
	Access *Access
	// Disabled turns the middleware chain off; only benchmarks use it, to
	// measure the framework's own ceiling.
	Disabled bool
	// StaticViewer, with Access nil or Disabled, stands in for
	// authentication: every call acts as it. Only benchmarks use it, to
	// measure what authentication and authorization cost.
	StaticViewer *viewer.Viewer
}

// Services are the API implementations the servers expose.
type Services struct {
	Tenant      *service.TenantService
	Identity    *service.IdentityService
	Audit       *service.AuditService
	Taxonomy    *service.TaxonomyService
	Grid        *service.GridService
	Component   *service.ComponentService
	Case        *service.CaseService
	Attachment  *service.AttachmentService
	Dispatch    *service.DispatchService
	Supervision *service.SupervisionService
	Connector   *service.ConnectorService
	Oversight   *service.OversightService
}

func (o Options) chain(m *Metrics, svc Services) []middleware.Middleware {
	static := func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			return next(viewer.NewContext(ctx, o.StaticViewer), req)
		}
	}
	if o.Disabled {
		if o.StaticViewer != nil {
			return []middleware.Middleware{static}
		}
		return nil
	}
	access := []middleware.Middleware{static}
	if o.Access != nil {
		access = []middleware.Middleware{o.Access.unitOfWork(), o.Access.authenticate()}
	}
	return append([]middleware.Middleware{
		requestID(),
		tracing.Server(tracing.WithTracerProvider(o.Tracer)),
		m.middleware(),
		accessLog(o.Logger),
		localize(o.Localizer, o.Logger),
		recovery.Recovery(),
		validate(),
	}, access...)
}

// New builds the HTTP and gRPC servers.
func New(o Options, svc Services) (*http.Server, *grpc.Server, error) {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 8 << 20
	}
	m, err := NewMetrics(o.Registry)
	if err != nil {
		return nil, nil, fmt.Errorf("server: metrics: %w", err)
	}
	chain := o.chain(m, svc)
	hs := http.NewServer(
		http.Address(o.HTTPAddr),
		http.Timeout(o.Timeout),
		http.Middleware(chain...),
		http.Filter(httpRequestID, bodyLimit(o.MaxBodyBytes, errorEncoder(o.Localizer, o.MaxBodyBytes))),
		http.ErrorEncoder(errorEncoder(o.Localizer, o.MaxBodyBytes)),
		http.RequestDecoder(decodeBody),
		http.NotFoundHandler(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			errorEncoder(o.Localizer, o.MaxBodyBytes)(w, r, kerrors.New(404, "", "not found"))
		})),
	)
	gs := grpc.NewServer(
		grpc.Address(o.GRPCAddr),
		grpc.Timeout(o.Timeout),
		grpc.Middleware(chain...),
	)
	tenantv1.RegisterTenantServiceHTTPServer(hs, svc.Tenant)
	tenantv1.RegisterTenantServiceServer(gs, svc.Tenant)
	identityv1.RegisterIdentityServiceHTTPServer(hs, svc.Identity)
	identityv1.RegisterIdentityServiceServer(gs, svc.Identity)
	auditv1.RegisterAuditServiceHTTPServer(hs, svc.Audit)
	auditv1.RegisterAuditServiceServer(gs, svc.Audit)
	registryv1.RegisterTaxonomyServiceHTTPServer(hs, svc.Taxonomy)
	registryv1.RegisterTaxonomyServiceServer(gs, svc.Taxonomy)
	registryv1.RegisterGridServiceHTTPServer(hs, svc.Grid)
	registryv1.RegisterGridServiceServer(gs, svc.Grid)
	registryv1.RegisterComponentServiceHTTPServer(hs, svc.Component)
	registryv1.RegisterComponentServiceServer(gs, svc.Component)
	if svc.Case != nil {
		caseflowv1.RegisterCaseServiceHTTPServer(hs, svc.Case)
		caseflowv1.RegisterCaseServiceServer(gs, svc.Case)
	}
	if svc.Dispatch != nil {
		dispatchv1.RegisterDispatchRuleServiceHTTPServer(hs, svc.Dispatch)
		dispatchv1.RegisterDispatchRuleServiceServer(gs, svc.Dispatch)
	}
	if svc.Supervision != nil {
		supervisionv1.RegisterSupervisionServiceHTTPServer(hs, svc.Supervision)
		supervisionv1.RegisterSupervisionServiceServer(gs, svc.Supervision)
	}
	if svc.Connector != nil {
		federationv1.RegisterConnectorServiceHTTPServer(hs, svc.Connector)
		federationv1.RegisterConnectorServiceServer(gs, svc.Connector)
	}
	if svc.Oversight != nil {
		federationv1.RegisterOversightServiceHTTPServer(hs, svc.Oversight)
		federationv1.RegisterOversightServiceServer(gs, svc.Oversight)
	}
	if svc.Attachment != nil {
		caseflowv1.RegisterAttachmentServiceHTTPServer(hs, svc.Attachment)
		caseflowv1.RegisterAttachmentServiceServer(gs, svc.Attachment)
	}

	hs.HandleFunc("/healthz", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		writeJSON(w, 200, map[string]string{"status": "ok"})
	})
	hs.HandleFunc("/readyz", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if o.Ready != nil {
			if err := o.Ready(ctx); err != nil {
				writeJSON(w, 503, map[string]string{"status": "not ready", "reason": errorsv1.ErrorReason_NOT_READY.String(), "detail": err.Error()})
				return
			}
		}
		writeJSON(w, 200, map[string]string{"status": "ready"})
	})
	hs.Handle("/metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	hs.HandleFunc("/openapi.yaml", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(api.OpenAPI)
	})
	hs.HandleFunc("/", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path != "/" {
			errorEncoder(o.Localizer, o.MaxBodyBytes)(w, r, kerrors.New(404, "", "not found"))
			return
		}
		writeJSON(w, 200, map[string]any{
			"name": "CityOps 城市运行管理服务平台",
			"links": map[string]string{
				"tenants": "/v1/tenants", "openapi": "/openapi.yaml", "health": "/healthz",
				"ready": "/readyz", "metrics": "/metrics",
			},
		})
	})
	return hs, gs, nil
}

// decodeBody reads a JSON body sent without a JSON content type (curl -d
// sends application/x-www-form-urlencoded) as JSON instead of silently
// decoding nothing; every other body goes to kratos's codec selection.
func decodeBody(r *nethttp.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		data, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(data))
		if err != nil {
			return kerrors.BadRequest("CODEC", err.Error())
		}
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			r.Header.Set("Content-Type", "application/json")
		}
	}
	return http.DefaultRequestDecoder(r, v)
}

func writeJSON(w nethttp.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// httpRequestID assigns the request id before routing, so that errors the
// transport raises before any middleware runs (bad bodies, unknown paths)
// carry it too.
func httpRequestID(next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !acceptableRequestID(id) {
			id = newRequestID()
			r.Header.Set(HeaderRequestID, id)
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r)
	})
}

// bodyLimit refuses bodies larger than max with REQUEST_TOO_LARGE before
// they are read, and caps bodies of unknown length while they are read.
func bodyLimit(max int64, encode http.EncodeErrorFunc) http.FilterFunc {
	return func(next nethttp.Handler) nethttp.Handler {
		return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			if r.ContentLength > max {
				w.Header().Set("Connection", "close")
				encode(w, r, tooLarge(max))
				return
			}
			r.Body = nethttp.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

func tooLarge(max int64) *kerrors.Error {
	return errorsv1.ErrorRequestTooLarge("request body over %d bytes", max).WithMetadata(map[string]string{"limit": fmt.Sprint(max)})
}

// errorEncoder writes errors raised outside the middleware chain (request
// decoding, routing) the same way the chain does: stable reason, message
// in the caller's language, request id.
func errorEncoder(l *apierr.Localizer, maxBody int64) http.EncodeErrorFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
		if e := kerrors.FromError(err); e.Reason == "CODEC" && strings.Contains(e.Message, "request body too large") {
			err = tooLarge(maxBody)
		}
		out := l.Localize(err, apierr.Lang(r.Header.Get("Accept-Language")), r.Header.Get(HeaderRequestID))
		if ra := out.Metadata["retry_after"]; ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.DefaultErrorEncoder(w, r, out)
	}
}
