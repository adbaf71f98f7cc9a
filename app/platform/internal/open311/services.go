package open311

import (
	"context"
	"net/http"
	"strings"

	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// changeset is the date the API's shape last changed.
const changeset = "2026-01-01T00:00:00Z"

// FilingConditionAttribute is the service attribute that carries the
// filing condition (立案条件) a report matches.
const FilingConditionAttribute = "filing_condition"

// discovery answers the spec's discovery document; it names no tenant.
func (h *Handler) discovery(c *call) {
	base := baseURL(c.r)
	doc := discoveryDoc{
		Changeset: changeset, Contact: h.d.Contact,
		KeyService: c.zh("接入密钥（api_key）由各辖区数字城管平台管理员签发", "API keys are issued by each jurisdiction's CityOps administrator"),
		Endpoints: []endpoint{{
			Specification: "http://wiki.open311.org/GeoReport_v2", URL: base, Changeset: changeset, Type: "production",
			Formats: []string{"text/xml", "application/json"},
		}},
	}
	c.ok(doc, doc)
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(Prefix, "/")
}

// tenantOf resolves the call's jurisdiction_id, answering the error itself.
func (c *call) tenantOf() (*tenant.Tenant, bool) {
	t, e := c.h.jurisdiction(c.r.Context(), c.r.FormValue("jurisdiction_id"), c.lang)
	if e != nil {
		c.fail(e)
		return nil, false
	}
	return t, true
}

func (h *Handler) services(c *call) {
	t, ok := c.tenantOf()
	if !ok {
		return
	}
	list, err := h.serviceList(reader(c.r.Context(), t), t)
	if err != nil {
		c.fail(h.fromCaseLoop(c.r.Context(), err, c.lang))
		return
	}
	out := make([]service, len(list))
	for i, s := range list {
		out[i] = s.localized(c.lang)
	}
	c.ok(out, servicesXML{Services: out})
}

func (s service) localized(lang string) service {
	if lang == "en" {
		if s.nameEN != "" {
			s.Name = s.nameEN
		}
		if s.groupEN != "" {
			s.Group = s.groupEN
		}
	}
	return s
}

// serviceList is the tenant's active minor event classes as services,
// cached for a minute per taxonomy version (metadata needs the filing
// conditions of each class).
func (h *Handler) serviceList(ctx context.Context, t *tenant.Tenant) ([]service, error) {
	listing, err := h.d.Taxonomy.ListClasses(ctx, t.Code, taxonomy.Filter{Kind: taxonomy.Event})
	if err != nil {
		return nil, err
	}
	now := h.now()
	h.mu.Lock()
	if c, ok := h.svcs[t.Code]; ok && c.version == listing.Version.Number && now.Before(c.exp) {
		h.mu.Unlock()
		return c.list, nil
	}
	h.mu.Unlock()
	majors := map[string]taxonomy.Class{}
	for _, cl := range listing.Classes {
		if cl.Level == taxonomy.Major {
			majors[cl.Code] = cl
		}
	}
	var list []service
	for _, cl := range listing.Classes {
		if cl.Level != taxonomy.Minor || !cl.Active {
			continue
		}
		conds, err := h.d.Taxonomy.ListFilingConditions(ctx, t.Code, taxonomy.Event, cl.Code, listing.Version.Number)
		if err != nil {
			return nil, err
		}
		m := majors[cl.ParentCode]
		list = append(list, service{
			Code: cl.Code, Name: cl.NameZH, Description: cl.NameZH, Metadata: len(conds) > 0, Type: "realtime",
			Group: m.NameZH, nameEN: cl.NameEN, groupEN: m.NameEN,
		})
	}
	h.mu.Lock()
	h.svcs[t.Code] = cachedServices{version: listing.Version.Number, list: list, exp: now.Add(h.cacheT)}
	h.mu.Unlock()
	return list, nil
}

// service returns the service of code; nil when the tenant has none.
func (h *Handler) service(ctx context.Context, t *tenant.Tenant, code string) (*service, error) {
	list, err := h.serviceList(ctx, t)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Code == code {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (h *Handler) serviceDefinition(c *call) {
	t, ok := c.tenantOf()
	if !ok {
		return
	}
	ctx := reader(c.r.Context(), t)
	s, err := h.service(ctx, t, c.arg)
	if err != nil {
		c.fail(h.fromCaseLoop(ctx, err, c.lang))
		return
	}
	if s == nil {
		c.fail(&apiError{Status: http.StatusNotFound, Description: c.zh("服务（service_code）不存在", "no such service_code")})
		return
	}
	def := serviceDefinition{Code: s.Code, Attributes: []attribute{}}
	if s.Metadata {
		conds, err := h.d.Taxonomy.ListFilingConditions(ctx, t.Code, taxonomy.Event, s.Code, 0)
		if err != nil {
			c.fail(h.fromCaseLoop(ctx, err, c.lang))
			return
		}
		a := attribute{
			Variable: true, Code: FilingConditionAttribute, Datatype: "singlevaluelist", Order: 1,
			DatatypeDescription: c.zh("选择最符合的立案条件（可不选）", "pick the filing condition that fits best (optional)"),
			Description:         c.zh("立案条件", "Filing condition"),
		}
		for _, fc := range conds {
			a.Values = append(a.Values, attrValue{Key: fc.Code, Name: fc.FilingText})
		}
		def.Attributes = append(def.Attributes, a)
	}
	c.ok(def, def)
}
