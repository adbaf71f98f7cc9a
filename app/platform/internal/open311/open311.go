// Package open311 is the citizens' intake channel: the Open311 GeoReport v2
// API (discovery, services, service definitions, requests, tokens) in JSON
// and XML, and a public status page per case number. It translates the
// spec's forms and queries into case-loop calls and back; the loop decides
// everything else (a citizen report goes to 待核实 first).
//
// jurisdiction_id selects the tenant (region code like 450126 or slug like
// binyang) and is always required. POST requests authenticates api_key as
// an API key of that tenant holding the channel role. Reads act as a
// read-only viewer of the tenant and never show the reporter's name, phone
// or email, nor internal actors.
package open311

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	khttp "github.com/go-kratos/kratos/v2/transport/http"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Prefix is where the API is mounted on the HTTP server.
const Prefix = "/open311/v2/"

// Tenants resolves jurisdictions; *tenant.Usecase implements it.
type Tenants interface {
	Get(ctx context.Context, code string) (*tenant.Tenant, error)
	List(ctx context.Context, in tenant.ListInput) ([]*tenant.Tenant, string, error)
}

// Taxonomy lists a tenant's classes and filing conditions;
// *taxonomy.Usecase implements it.
type Taxonomy interface {
	ListClasses(ctx context.Context, tenantCode string, f taxonomy.Filter) (*taxonomy.Listing, error)
	ListFilingConditions(ctx context.Context, tenantCode string, kind taxonomy.Kind, classCode string, version int) ([]taxonomy.FilingCondition, error)
}

// Cases is the case loop; *caseflow.Usecase implements it.
type Cases interface {
	Intake(ctx context.Context, in caseflow.SubmitInput) (*caseflow.Intaken, error)
	Get(ctx context.Context, number string) (*caseflow.Case, error)
	Search(ctx context.Context, f caseflow.Filter, pageSize int, token string) (*caseflow.Page, error)
}

// Authenticator checks a credential; *identity.Usecase implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (*identity.Principal, error)
}

// Roles says which roles a subject holds in a tenant; *authz.Authorizer
// implements it.
type Roles interface {
	RolesIn(subject, domainPath string) []string
}

// Deps are what the handlers need. Tenants, Taxonomy, Cases, Identity and
// Roles are required.
type Deps struct {
	Tenants  Tenants
	Taxonomy Taxonomy
	Cases    Cases
	Identity Authenticator
	Roles    Roles
	// AllowAnonymous reports whether a tenant (by code) takes reports
	// without an email or phone; nil allows none.
	AllowAnonymous func(tenantCode string) bool
	// Localizer renders case-loop errors; nil uses the common, registry
	// and case-loop catalogs.
	Localizer *apierr.Localizer
	Logger    log.Logger
	// Contact is the discovery document's contact line.
	Contact string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Handler serves the GeoReport v2 API and the status page under Prefix.
type Handler struct {
	d      Deps
	log    *log.Helper
	mu     sync.Mutex
	juris  map[string]cachedTenant
	svcs   map[string]cachedServices
	cacheT time.Duration
}

type cachedTenant struct {
	t   *tenant.Tenant
	exp time.Time
}

type cachedServices struct {
	version int
	list    []service
	exp     time.Time
}

// New returns the handler over d.
func New(d Deps) *Handler {
	if d.Localizer == nil {
		d.Localizer = apierr.NewLocalizer(registryv1.ErrorReasonMessage, caseflowv1.ErrorReasonMessage)
	}
	if d.Logger == nil {
		d.Logger = log.DefaultLogger
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{d: d, log: log.NewHelper(d.Logger), juris: map[string]cachedTenant{}, svcs: map[string]cachedServices{}, cacheT: time.Minute}
}

// Register mounts the API on the kratos HTTP server under Prefix, beside
// the proto-generated routes (outside their middleware: the API
// authenticates POST requests by its own api_key field).
func Register(srv *khttp.Server, d Deps) *Handler {
	h := New(d)
	srv.HandlePrefix(Prefix, h)
	return h
}

// ServeHTTP routes a request of the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	lang := apierr.Lang(r.Header.Get("Accept-Language"))
	if !ok {
		h.fail(w, formatJSON, errNotFound(lang))
		return
	}
	if page, ok := strings.CutPrefix(rest, "status/"); ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.fail(w, formatJSON, errMethod(lang))
			return
		}
		h.statusPage(w, r, page)
		return
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		h.fail(w, formatJSON, errNotFound(lang))
		return
	}
	name, f := rest[:dot], format(strings.ToLower(rest[dot+1:]))
	if f != formatJSON && f != formatXML {
		h.fail(w, formatJSON, errNotFound(lang))
		return
	}
	c := &call{h: h, w: w, r: r, f: f, lang: lang}
	parts := strings.Split(name, "/")
	switch {
	case name == "discovery":
		c.only(http.MethodGet, h.discovery)
	case name == "services":
		c.only(http.MethodGet, h.services)
	case len(parts) == 2 && parts[0] == "services" && parts[1] != "":
		c.arg = parts[1]
		c.only(http.MethodGet, h.serviceDefinition)
	case name == "requests":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.listRequests(c)
		case http.MethodPost:
			h.postRequest(c)
		default:
			h.fail(w, f, errMethod(lang))
		}
	case len(parts) == 2 && parts[0] == "requests" && parts[1] != "":
		c.arg = parts[1]
		c.only(http.MethodGet, h.getRequest)
	case len(parts) == 2 && parts[0] == "tokens" && parts[1] != "":
		c.arg = parts[1]
		c.only(http.MethodGet, h.token)
	default:
		h.fail(w, f, errNotFound(lang))
	}
}

// call is one request of the API.
type call struct {
	h    *Handler
	w    http.ResponseWriter
	r    *http.Request
	f    format
	lang string
	arg  string
}

func (c *call) only(method string, fn func(*call)) {
	if c.r.Method != method && (method != http.MethodGet || c.r.Method != http.MethodHead) {
		c.h.fail(c.w, c.f, errMethod(c.lang))
		return
	}
	fn(c)
}

func (c *call) zh(zh, en string) string { return pick(c.lang, zh, en) }

func pick(lang, zh, en string) string {
	if lang == apierr.EN {
		return en
	}
	return zh
}

// now is the clock in UTC.
func (h *Handler) now() time.Time { return h.d.Now().UTC() }

// jurisdiction resolves jurisdiction_id to a tenant that runs cases (a
// city or county, not suspended). A missing, unknown or unsuitable id all
// answer the same error, so nothing about other tenants leaks.
func (h *Handler) jurisdiction(ctx context.Context, id, lang string) (*tenant.Tenant, *apiError) {
	id = strings.ToLower(strings.TrimSpace(id))
	bad := &apiError{Status: http.StatusBadRequest, Description: pick(lang,
		"jurisdiction_id 缺失或无效：请填写本平台服务的辖区代码（如 450126）或简称（如 binyang）",
		"jurisdiction_id is missing or not valid: give the code (e.g. 450126) or slug (e.g. binyang) of a jurisdiction this endpoint serves")}
	if id == "" || len(id) > 64 {
		return nil, bad
	}
	now := h.now()
	h.mu.Lock()
	if c, ok := h.juris[id]; ok && now.Before(c.exp) {
		h.mu.Unlock()
		return c.t, nil
	}
	h.mu.Unlock()
	t, err := h.lookupTenant(viewer.SystemContext(ctx, "open311: resolve jurisdiction"), id)
	if err != nil {
		h.log.WithContext(ctx).Warnf("open311: resolve jurisdiction %q: %v", id, err)
		return nil, &apiError{Status: http.StatusInternalServerError, Description: pick(lang, "服务暂时不可用，请稍后再试", "the service is unavailable; try again later")}
	}
	if t == nil || t.Status == tenant.StatusSuspended || (t.Level != region.City && t.Level != region.County) {
		return nil, bad
	}
	h.mu.Lock()
	if len(h.juris) > 1000 {
		clear(h.juris)
	}
	h.juris[id] = cachedTenant{t: t, exp: now.Add(h.cacheT)}
	h.mu.Unlock()
	return t, nil
}

// lookupTenant finds a tenant by code or slug; nil when there is none.
func (h *Handler) lookupTenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	if isDigits(id) {
		t, err := h.d.Tenants.Get(ctx, id)
		if err != nil {
			if apierr.Reason(err) == "TENANT_NOT_FOUND" {
				return nil, nil
			}
			return nil, err
		}
		return t, nil
	}
	// Tenants are looked up by code only; a slug is matched over the
	// listing (a few hundred tenants at most, and the result is cached).
	token := ""
	for {
		page, next, err := h.d.Tenants.List(ctx, tenant.ListInput{PageSize: tenant.MaxPageSize, PageToken: token})
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(page, func(t *tenant.Tenant) bool { return strings.EqualFold(t.Slug, id) }); i >= 0 {
			return page[i], nil
		}
		if next == "" {
			return nil, nil
		}
		token = next
	}
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// reader is a read-only viewer of t: it acts in the tenant with no role,
// so the case loop shows cases and masks reporters' phones.
func reader(ctx context.Context, t *tenant.Tenant) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.Anonymous, ActorName: "open311", Reason: "open311 public read",
		HomeTenantID: t.ID, HomeTenantCode: t.Code, TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path,
	})
}

// fromCaseLoop turns an error of the use cases into the spec's error:
// 400 for bad input (with the localized message), 403 for refusals, 404
// for what does not exist, 500 (logged, not shown) for the rest.
func (h *Handler) fromCaseLoop(ctx context.Context, err error, lang string) *apiError {
	loc := h.d.Localizer.Localize(err, lang, "")
	switch {
	case loc.Code == http.StatusNotFound && loc.Reason != "TENANT_NOT_FOUND":
		return &apiError{Status: http.StatusNotFound, Description: loc.Message}
	case loc.Code == http.StatusUnauthorized || loc.Code == http.StatusForbidden:
		return &apiError{Status: http.StatusForbidden, Description: loc.Message}
	case loc.Code == http.StatusTooManyRequests:
		return &apiError{Status: http.StatusTooManyRequests, Description: loc.Message}
	case loc.Code >= 400 && loc.Code < 500:
		return &apiError{Status: http.StatusBadRequest, Description: loc.Message}
	}
	h.log.WithContext(ctx).Errorf("open311: %v", err)
	return &apiError{Status: http.StatusInternalServerError, Description: pick(lang, "服务暂时不可用，请稍后再试", "the service is unavailable; try again later")}
}
