package server

import (
	"context"
	"io"
	"strings"
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/middleware/recovery"

	tenantv1 "github.com/cityops/cityops/api/tenant/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
)

func chainOf(h middleware.Handler, ms ...middleware.Middleware) middleware.Handler {
	return middleware.Chain(ms...)(h)
}

func TestPanicBecomesInternalWithoutDetails(t *testing.T) {
	t.Parallel()
	h := chainOf(func(context.Context, any) (any, error) {
		panic("secret connection string postgres://u:p@db")
	}, requestID(), localize(apierr.NewLocalizer(), log.NewStdLogger(io.Discard)), recovery.Recovery())
	_, err := h(context.Background(), nil)
	e := kerrors.FromError(err)
	if e.Code != 500 || e.Reason != "INTERNAL" || strings.Contains(e.Message, "postgres") || e.Metadata["request_id"] == "" {
		t.Fatalf("panic answered %v", e)
	}
}

func TestValidationNamesTheProtoField(t *testing.T) {
	t.Parallel()
	h := chainOf(func(context.Context, any) (any, error) { return "ok", nil }, validate())
	cases := []struct {
		req       any
		wantField string
	}{
		{&tenantv1.ListTenantsRequest{ParentCode: "x' OR 1=1"}, "parent_code"},
		{&tenantv1.CreateTenantRequest{Code: "450102", Slug: "ok-slug", NameZh: "", Level: tenantv1.Level_LEVEL_COUNTY}, "name_zh"},
		{&tenantv1.GetTenantTreeRequest{Code: "450100", Depth: 99}, "depth"},
	}
	for _, c := range cases {
		_, err := h(context.Background(), c.req)
		e := kerrors.FromError(err)
		if e.Reason != "INVALID_ARGUMENT" || e.Metadata["field"] != c.wantField || e.Metadata["detail_zh"] == "" {
			t.Errorf("%T: %v, want field %s", c.req, e, c.wantField)
		}
	}
	if out, err := h(context.Background(), &tenantv1.GetTenantRequest{Code: "450126"}); err != nil || out != "ok" {
		t.Fatalf("valid request refused: %v", err)
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Code": "code", "ParentCode": "parent_code", "NameZh": "name_zh", "": ""} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAcceptableRequestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{"abc-123_x.y": true, "": false, strings.Repeat("a", 65): false, "a b": false, "a\nb": false, "<script>": false} {
		if got := acceptableRequestID(id); got != want {
			t.Errorf("acceptableRequestID(%q) = %v", id, got)
		}
	}
}
