package apierr_test

import (
	"errors"
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
)

func TestLang(t *testing.T) {
	t.Parallel()
	cases := []struct{ header, want string }{
		{"", apierr.ZH},
		{"zh-CN", apierr.ZH},
		{"en", apierr.EN},
		{"en-US,en;q=0.9", apierr.EN},
		{"zh-CN,zh;q=0.9,en;q=0.8", apierr.ZH},
		{"en;q=0.5, zh;q=0.8", apierr.ZH},
		{"fr-FR", apierr.ZH},
		{"fr, en;q=0.3", apierr.EN},
		{"en;q=bogus, zh;q=0.1", apierr.ZH},
		{";;;,,,", apierr.ZH},
	}
	for _, c := range cases {
		if got := apierr.Lang(c.header); got != c.want {
			t.Errorf("Lang(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

func TestLocalize(t *testing.T) {
	t.Parallel()
	l := apierr.NewLocalizer()
	notFound := errorsv1.ErrorTenantNotFound("x").WithMetadata(map[string]string{"code": "450126"})
	invalid := errorsv1.ErrorInvalidArgument("x").WithMetadata(map[string]string{
		"field": "time_zone", "detail": "bad", "detail_zh": "时区不对", "detail_en": "bad zone"})
	cases := []struct {
		name       string
		err        error
		lang       string
		wantCode   int32
		wantReason string
		wantMsg    string
	}{
		{"zh default", notFound, apierr.ZH, 404, "TENANT_NOT_FOUND", "租户 450126 不存在"},
		{"en", notFound, apierr.EN, 404, "TENANT_NOT_FOUND", "tenant 450126 does not exist"},
		{"bilingual detail zh", invalid, apierr.ZH, 400, "INVALID_ARGUMENT", "请求参数 time_zone 不合法：时区不对"},
		{"bilingual detail en", invalid, apierr.EN, 400, "INVALID_ARGUMENT", "invalid request field time_zone: bad zone"},
		{"plain error hides details", errors.New("pq: password authentication failed"), apierr.EN, 500, "INTERNAL",
			"internal error; give the request id to the platform operator"},
		{"codec error is invalid body", kerrors.BadRequest("CODEC", "unexpected EOF"), apierr.EN, 400, "INVALID_ARGUMENT",
			"invalid request field body: unexpected EOF"},
		{"unknown route", kerrors.New(404, "", "not found"), apierr.ZH, 404, "NOT_FOUND", "接口不存在"},
		{"missing metadata renders ?", errorsv1.ErrorTenantNotFound("x"), apierr.EN, 404, "TENANT_NOT_FOUND", "tenant ? does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := l.Localize(c.err, c.lang, "req-1")
			if got.Code != c.wantCode || got.Reason != c.wantReason || got.Message != c.wantMsg {
				t.Fatalf("got %d %s %q, want %d %s %q", got.Code, got.Reason, got.Message, c.wantCode, c.wantReason, c.wantMsg)
			}
			if got.Metadata["request_id"] != "req-1" {
				t.Fatalf("request id not attached: %v", got.Metadata)
			}
		})
	}
}

func TestLocalizeDomainCatalog(t *testing.T) {
	t.Parallel()
	cat := func(reason, lang string) (string, bool) {
		if reason != "CASE_NOT_FOUND" {
			return "", false
		}
		if lang == apierr.EN {
			return "case {no} not found", true
		}
		return "案件 {no} 不存在", true
	}
	l := apierr.NewLocalizer(cat)
	err := kerrors.New(404, "CASE_NOT_FOUND", "").WithMetadata(map[string]string{"no": "20261122001"})
	if got := l.Localize(err, apierr.ZH, "").Message; got != "案件 20261122001 不存在" {
		t.Fatalf("got %q", got)
	}
	if l.Localize(nil, apierr.ZH, "") != nil {
		t.Fatal("nil error must stay nil")
	}
}

func FuzzLang(f *testing.F) {
	for _, s := range []string{"", "en", "zh-CN,zh;q=0.9", "en;q=0.", "en;q=1.0000", ",;q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l := apierr.Lang(s); l != apierr.ZH && l != apierr.EN {
			t.Fatalf("Lang(%q) = %q", s, l)
		}
	})
}
