package open311_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	khttp "github.com/go-kratos/kratos/v2/transport/http"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/open311"
	"github.com/cityops/cityops/app/platform/internal/platform"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// seedDir is the repository's sample tenants, seen from this package.
const seedDir = "../../../../tenants"

const code = "450126" // 宾阳县, slug binyang

type fixture struct {
	core      *platform.Core
	base      string
	key       string // channel key of 宾阳县
	foreign   string // channel key of 横州市
	connector string // a key of 宾阳县 without the channel role
	lon, lat  float64
}

func setup(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	sm, err := secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	core, err := platform.NewCore(ctx, db, sm, platform.CoreOptions{
		Logger: log.NewStdLogger(io.Discard), Argon2: &identity.Argon2Params{Memory: 64, Time: 1, Threads: 1}, SchedulerOff: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close(); _ = sm.Close() })
	sys := viewer.SystemContext(ctx, "open311 test")
	if _, err := core.OnboardDir(sys, seedDir, nil); err != nil {
		t.Fatal(err)
	}
	if err := core.LoadSampleTerritory(sys, code, 64, 0); err != nil {
		t.Fatal(err)
	}
	f := &fixture{core: core}
	newKey := func(tenant string, roles ...string) string {
		_, key, err := core.Identity.CreateAPIKey(sys, tenant, identity.CreateAPIKeyInput{Name: "wechat-" + tenant + "-" + roles[0], Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	f.key, f.foreign, f.connector = newKey(code, viewer.RoleChannel), newKey("450181", viewer.RoleChannel), newKey(code, viewer.RoleConnector)
	if err := core.Authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	tn, err := core.Tenants.Get(sys, code)
	if err != nil {
		t.Fatal(err)
	}
	grids, _, err := core.Grids.ListUnitGrids(sys, tn, grid.ListInput{PageSize: 1})
	if err != nil || len(grids) == 0 {
		t.Fatalf("no grid: %v", err)
	}
	b := grids[0].BBox
	f.lon, f.lat = (b.MinLon+b.MaxLon)/2, (b.MinLat+b.MaxLat)/2

	// The platform serves with a 30 s timeout; kratos defaults to 1 s.
	srv := khttp.NewServer(khttp.Timeout(30 * time.Second))
	open311.Register(srv, open311.Deps{
		Tenants: core.Tenants, Taxonomy: core.Taxonomy, Cases: core.Cases, Identity: core.Identity, Roles: core.Authz,
		AllowAnonymous: func(c string) bool { return c == "450181" }, Logger: log.NewStdLogger(io.Discard),
		Contact: "12319",
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f.base = hs.URL + open311.Prefix
	return f
}

type answer struct {
	status int
	ctype  string
	body   string
}

func (f *fixture) get(t *testing.T, path string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func (f *fixture) post(t *testing.T, path string, form url.Values, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), body: string(b)}
}

type specError struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// wantError checks an error in the spec's JSON form.
func wantError(t *testing.T, a answer, status int, contains string) {
	t.Helper()
	var errs []specError
	if a.status != status || json.Unmarshal([]byte(a.body), &errs) != nil || len(errs) != 1 || errs[0].Code != status ||
		!strings.Contains(errs[0].Description, contains) {
		t.Fatalf("want %d error containing %q, got %d %s", status, contains, a.status, a.body)
	}
}

type service struct {
	Code     string `json:"service_code" xml:"service_code"`
	Name     string `json:"service_name" xml:"service_name"`
	Metadata bool   `json:"metadata" xml:"metadata"`
	Type     string `json:"type" xml:"type"`
	Group    string `json:"group" xml:"group"`
}

type request struct {
	ID          string  `json:"service_request_id" xml:"service_request_id"`
	Status      string  `json:"status" xml:"status"`
	StatusNotes string  `json:"status_notes" xml:"status_notes"`
	ServiceCode string  `json:"service_code" xml:"service_code"`
	ServiceName string  `json:"service_name" xml:"service_name"`
	Description string  `json:"description" xml:"description"`
	Requested   string  `json:"requested_datetime" xml:"requested_datetime"`
	Expected    *string `json:"expected_datetime" xml:"expected_datetime"`
	Lat         float64 `json:"lat" xml:"lat"`
	Long        float64 `json:"long" xml:"long"`
	MediaURL    string  `json:"media_url" xml:"media_url"`
	Token       string  `json:"token" xml:"token"`
}

// TestOpen311 runs a citizen's path through GeoReport v2 against the real
// use cases on SQLite and PostgreSQL: discovery, services, a report, its
// status, the refusals, and the public page.
func TestOpen311(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)

		// Discovery names the endpoint and formats, in both formats.
		a := f.get(t, "discovery.json")
		var disc struct {
			Endpoints []struct {
				URL     string   `json:"url"`
				Formats []string `json:"formats"`
			} `json:"endpoints"`
		}
		if a.status != 200 || json.Unmarshal([]byte(a.body), &disc) != nil || len(disc.Endpoints) != 1 ||
			!strings.HasSuffix(disc.Endpoints[0].URL, "/open311/v2") || len(disc.Endpoints[0].Formats) != 2 {
			t.Fatalf("discovery: %d %s", a.status, a.body)
		}
		if a := f.get(t, "discovery.xml"); a.status != 200 || !strings.Contains(a.body, "<discovery>") || !strings.HasPrefix(a.ctype, "text/xml") {
			t.Fatalf("discovery.xml: %d %s", a.status, a.body)
		}

		// Services: the jurisdiction is required, by code or slug, and an
		// unknown one answers as a missing one.
		wantError(t, f.get(t, "services.json"), 400, "jurisdiction_id")
		miss := f.get(t, "services.json?jurisdiction_id=nowhere")
		wantError(t, miss, 400, "jurisdiction_id")
		if prov := f.get(t, "services.json?jurisdiction_id=450000"); prov.body != miss.body {
			t.Fatalf("a province answers differently from an unknown id: %s vs %s", prov.body, miss.body)
		}
		a = f.get(t, "services.json?jurisdiction_id=binyang")
		var svcs []service
		if a.status != 200 || json.Unmarshal([]byte(a.body), &svcs) != nil || len(svcs) == 0 {
			t.Fatalf("services: %d %.300s", a.status, a.body)
		}
		var withMeta *service
		for i, s := range svcs {
			if s.Type != "realtime" || s.Name == "" || s.Group == "" {
				t.Fatalf("service %+v", s)
			}
			if s.Metadata && withMeta == nil {
				withMeta = &svcs[i]
			}
		}
		if withMeta == nil {
			t.Fatal("no service has filing conditions")
		}
		a = f.get(t, "services.xml?jurisdiction_id="+code)
		var sx struct {
			XMLName  xml.Name  `xml:"services"`
			Services []service `xml:"service"`
		}
		if a.status != 200 || xml.Unmarshal([]byte(a.body), &sx) != nil || len(sx.Services) != len(svcs) || sx.Services[0] != svcs[0] {
			t.Fatalf("services.xml: %d %.300s", a.status, a.body)
		}
		wantError(t, f.get(t, "services.json", "Accept-Language", "en-US,en;q=0.9"), 400, "is missing or not valid")

		// The service definition offers the filing conditions.
		a = f.get(t, "services/"+withMeta.Code+".json?jurisdiction_id="+code)
		var def struct {
			Code       string `json:"service_code"`
			Attributes []struct {
				Code     string `json:"code"`
				Datatype string `json:"datatype"`
				Values   []struct {
					Key  string `json:"key"`
					Name string `json:"name"`
				} `json:"values"`
			} `json:"attributes"`
		}
		if a.status != 200 || json.Unmarshal([]byte(a.body), &def) != nil || def.Code != withMeta.Code || len(def.Attributes) != 1 ||
			def.Attributes[0].Code != open311.FilingConditionAttribute || def.Attributes[0].Datatype != "singlevaluelist" || len(def.Attributes[0].Values) == 0 {
			t.Fatalf("definition: %d %.400s", a.status, a.body)
		}
		cond := def.Attributes[0].Values[0].Key
		if a := f.get(t, "services/"+withMeta.Code+".xml?jurisdiction_id="+code); a.status != 200 || !strings.Contains(a.body, "<service_definition>") {
			t.Fatalf("definition.xml: %d %.300s", a.status, a.body)
		}
		wantError(t, f.get(t, "services/nope.json?jurisdiction_id="+code), 404, "service_code")

		// A report.
		report := func(key string, edit func(url.Values)) url.Values {
			v := url.Values{
				"jurisdiction_id": {code}, "api_key": {key}, "service_code": {withMeta.Code},
				"lat": {fmt.Sprint(f.lat)}, "long": {fmt.Sprint(f.lon)}, "address_string": {"宾州镇新宾路 8 号"},
				"attribute[" + open311.FilingConditionAttribute + "]": {cond},
				"first_name": {"三"}, "last_name": {"张"}, "phone": {"13800138000"}, "email": {"zhang@example.com"},
				"description": {"路边垃圾堆积，请联系 13912345678"}, "media_url": {"https://img.example.com/a.jpg"},
				"device_id": {"ignored"},
			}
			if edit != nil {
				edit(v)
			}
			return v
		}
		a = f.post(t, "requests.json", report(f.key, nil))
		var made []request
		if a.status != 200 || json.Unmarshal([]byte(a.body), &made) != nil || len(made) != 1 || made[0].ID == "" {
			t.Fatalf("post: %d %s", a.status, a.body)
		}
		number := made[0].ID
		sys := viewer.SystemContext(context.Background(), "check")
		tn, _ := f.core.Tenants.Get(sys, code)
		staff := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, Roles: []string{viewer.RoleIntake}})
		c, err := f.core.Cases.Get(staff, number)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != caseflow.StateVerifyPending || c.Source != caseflow.SourceCitizen || c.ClassCode != withMeta.Code ||
			c.FilingConditionCode != cond || c.ReporterPhone != "13800138000" || !strings.Contains(c.ReporterName, "张三") ||
			!strings.Contains(c.Description, "https://img.example.com/a.jpg") || c.GridCode == "" {
			t.Fatalf("created case %+v", c)
		}

		// Refusals: no case is created by any of them.
		wantError(t, f.post(t, "requests.json", report("", nil)), 403, "api_key")
		wantError(t, f.post(t, "requests.json", report("cok_made-up", nil)), 403, "api_key")
		wantError(t, f.post(t, "requests.json", report(f.foreign, nil)), 403, "api_key")
		wantError(t, f.post(t, "requests.json", report(f.connector, nil)), 403, "api_key")
		wantError(t, f.post(t, "requests.json", report(f.key, func(v url.Values) { v.Del("jurisdiction_id") })), 400, "jurisdiction_id")
		wantError(t, f.post(t, "requests.json", report(f.key, func(v url.Values) { v.Del("service_code") })), 400, "service_code")
		wantError(t, f.post(t, "requests.json", report(f.key, func(v url.Values) { v.Del("lat"); v.Del("long"); v.Del("address_string") })), 400, "lat")
		wantError(t, f.post(t, "requests.json", report(f.key, func(v url.Values) { v.Del("phone"); v.Del("email") })), 400, "匿名")
		wantError(t, f.post(t, "requests.json", report(f.key, func(v url.Values) { v.Set("description", strings.Repeat("长", 4001)) })), 400, "4000")
		wantError(t, f.post(t, "requests.json", report(f.key, func(v url.Values) { v.Set("media_url", "javascript:alert(1)") })), 400, "media_url")
		// A point in the sea off Beihai is outside the county: the case
		// loop's OUTSIDE_JURISDICTION, in the spec's form, localized.
		sea := report(f.key, func(v url.Values) { v.Set("lat", "21.2"); v.Set("long", "109.0") })
		wantError(t, f.post(t, "requests.json", sea), 400, "")
		a = f.post(t, "requests.xml", sea, "Accept-Language", "en")
		var xe struct {
			XMLName xml.Name    `xml:"errors"`
			Errors  []specError `xml:"error"`
		}
		if a.status != 400 || xml.Unmarshal([]byte(a.body), &xe) != nil || len(xe.Errors) != 1 || xe.Errors[0].Code != 400 || xe.Errors[0].Description == "" {
			t.Fatalf("outside, xml: %d %s", a.status, a.body)
		}
		zh := f.post(t, "requests.json", sea)
		if zh.body == a.body || strings.Contains(zh.body, "OUTSIDE_JURISDICTION") {
			t.Fatalf("outside, localized: %s", zh.body)
		}
		page, err := f.core.Cases.Search(staff, caseflow.Filter{}, 50, "")
		if err != nil || len(page.Cases) != 1 {
			t.Fatalf("cases after the refusals: %d %v", len(page.Cases), err)
		}

		// Reading it back: no personal data, status open, the deadline of
		// verification, the media URL apart from the text.
		check := func(r request) {
			t.Helper()
			if r.ID != number || r.Status != "open" || r.StatusNotes == "" || r.ServiceCode != withMeta.Code || r.ServiceName != withMeta.Name ||
				r.MediaURL != "https://img.example.com/a.jpg" || r.Expected == nil || !strings.HasSuffix(*r.Expected, "Z") ||
				!strings.HasSuffix(r.Requested, "Z") || r.Lat == 0 || strings.Contains(r.Description, "media_url") {
				t.Fatalf("request %+v", r)
			}
		}
		a = f.get(t, "requests/"+number+".json?jurisdiction_id="+code)
		var got []request
		if a.status != 200 || json.Unmarshal([]byte(a.body), &got) != nil || len(got) != 1 {
			t.Fatalf("get: %d %s", a.status, a.body)
		}
		check(got[0])
		for _, secret := range []string{"13800138000", "13912345678", "zhang@example.com", "张三", "apikey:", "wechat"} {
			if strings.Contains(a.body, secret) {
				t.Fatalf("the public view shows %q: %s", secret, a.body)
			}
		}
		wantError(t, f.get(t, "requests/2026010199999.json?jurisdiction_id="+code), 404, "service_request_id")
		// Another jurisdiction does not have it.
		if a := f.get(t, "requests/"+number+".json?jurisdiction_id=450181"); a.status != 404 {
			t.Fatalf("another tenant's case: %d %s", a.status, a.body)
		}

		// Filters.
		list := func(q string) []request {
			t.Helper()
			a := f.get(t, "requests.json?jurisdiction_id="+code+q)
			var out []request
			if a.status != 200 || json.Unmarshal([]byte(a.body), &out) != nil {
				t.Fatalf("list %s: %d %s", q, a.status, a.body)
			}
			return out
		}
		if l := list(""); len(l) != 1 {
			t.Fatalf("default list: %+v", l)
		}
		if l := list("&status=open&service_code=" + withMeta.Code); len(l) != 1 {
			t.Fatalf("open of the class: %+v", l)
		}
		if l := list("&status=closed"); len(l) != 0 {
			t.Fatalf("closed: %+v", l)
		}
		if l := list("&service_code=" + svcs[len(svcs)-1].Code); svcs[len(svcs)-1].Code != withMeta.Code && len(l) != 0 {
			t.Fatalf("another class: %+v", l)
		}
		old := time.Now().UTC().Add(-200 * 24 * time.Hour)
		if l := list("&start_date=" + old.Format(time.RFC3339) + "&end_date=" + old.Add(24*time.Hour).Format(time.RFC3339)); len(l) != 0 {
			t.Fatalf("long ago: %+v", l)
		}
		if l := list("&service_request_id=" + number + ",2026010199999&status=closed"); len(l) != 1 {
			t.Fatalf("by id: %+v", l)
		}
		wantError(t, f.get(t, "requests.json?jurisdiction_id="+code+"&start_date=yesterday"), 400, "start_date")
		wantError(t, f.get(t, "requests.json?jurisdiction_id="+code+"&start_date="+old.Format(time.RFC3339)), 400, "90")
		wantError(t, f.get(t, "requests.json?jurisdiction_id="+code+"&status=lost"), 400, "status")
		a = f.get(t, "requests.xml?jurisdiction_id="+code)
		var rx struct {
			XMLName  xml.Name  `xml:"service_requests"`
			Requests []request `xml:"request"`
		}
		if a.status != 200 || xml.Unmarshal([]byte(a.body), &rx) != nil || len(rx.Requests) != 1 {
			t.Fatalf("requests.xml: %d %s", a.status, a.body)
		}
		check(rx.Requests[0])

		// Tokens: the number is its own token.
		a = f.get(t, "tokens/"+number+".json?jurisdiction_id="+code)
		if a.status != 200 || json.Unmarshal([]byte(a.body), &got) != nil || len(got) != 1 || got[0].ID != number || got[0].Token != number {
			t.Fatalf("token: %d %s", a.status, a.body)
		}
		wantError(t, f.get(t, "tokens/unknown.json?jurisdiction_id="+code), 404, "token")

		// Wrong method, wrong path.
		if a := f.post(t, "services.json", url.Values{"jurisdiction_id": {code}}); a.status != 405 {
			t.Fatalf("POST services: %d", a.status)
		}
		wantError(t, f.get(t, "nothing.json"), 404, "")

		// The public page.
		a = f.get(t, "status/binyang/"+number)
		if a.status != 200 || !strings.HasPrefix(a.ctype, "text/html") || !strings.Contains(a.body, number) ||
			!strings.Contains(a.body, "处理中") || !strings.Contains(a.body, "宾阳县") {
			t.Fatalf("status page: %d %s", a.status, a.body)
		}
		for _, secret := range []string{"13800138000", "13912345678", "zhang@example.com", "张三"} {
			if strings.Contains(a.body, secret) {
				t.Fatalf("the status page shows %q", secret)
			}
		}
		if a := f.get(t, "status/450181/"+number); a.status != 404 {
			t.Fatalf("status page of another tenant: %d", a.status)
		}
	})
}

// TestAnonymous checks that a tenant allowing anonymous reports takes one
// without contact details (横州市 in the fixture), on SQLite.
func TestAnonymous(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.SQLite(t))
	sys := viewer.SystemContext(context.Background(), "test")
	if err := f.core.LoadSampleTerritory(sys, "450181", 16, 0); err != nil {
		t.Fatal(err)
	}
	tn, _ := f.core.Tenants.Get(sys, "450181")
	grids, _, err := f.core.Grids.ListUnitGrids(sys, tn, grid.ListInput{PageSize: 1})
	if err != nil || len(grids) == 0 {
		t.Fatalf("no grid: %v", err)
	}
	b := grids[0].BBox
	a := f.get(t, "services.json?jurisdiction_id=450181")
	var svcs []service
	if a.status != 200 || json.Unmarshal([]byte(a.body), &svcs) != nil || len(svcs) == 0 {
		t.Fatalf("services: %d %.200s", a.status, a.body)
	}
	a = f.post(t, "requests.json", url.Values{
		"jurisdiction_id": {"450181"}, "api_key": {f.foreign}, "service_code": {svcs[0].Code},
		"lat": {fmt.Sprint((b.MinLat + b.MaxLat) / 2)}, "long": {fmt.Sprint((b.MinLon + b.MaxLon) / 2)}, "description": {"井盖缺失"},
	})
	var made []request
	if a.status != 200 || json.Unmarshal([]byte(a.body), &made) != nil || len(made) != 1 || made[0].ID == "" {
		t.Fatalf("anonymous post: %d %s", a.status, a.body)
	}
}
