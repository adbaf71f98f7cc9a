package open311

import (
	"context"
	"math"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Limits of what a request may carry.
const (
	MaxDescription = 4000     // characters
	maxForm        = 64 << 10 // bytes of a POST body
	maxMediaURL    = 2048
	maxName        = 100
	// MaxResults bounds GET requests; DefaultWindow is its default range.
	MaxResults    = 1000
	DefaultWindow = 90 * 24 * time.Hour
	maxIDs        = 200
)

// mediaMark separates the citizen's text from the media URL recorded in a
// case's description (the file is not downloaded).
const mediaMark = "\n\n[media_url] "

// closedStates are the states a citizen sees as closed.
var closedStates = []caseflow.State{caseflow.StateClosed, caseflow.StateRejected, caseflow.StateMerged, caseflow.StateVoided}

func (h *Handler) postRequest(c *call) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxForm)
	if err := c.r.ParseForm(); err != nil {
		c.fail(badRequest(c.lang, "请求体须为不超过 64 KB 的表单（application/x-www-form-urlencoded）",
			"the body must be a form (application/x-www-form-urlencoded) of at most 64 KB"))
		return
	}
	form := c.r.PostForm
	t, ok := c.tenantOf()
	if !ok {
		return
	}
	ctx, e := c.h.channel(c.r.Context(), t, form.Get("api_key"), c.lang)
	if e != nil {
		c.fail(e)
		return
	}
	in, e := c.h.submitInput(ctx, t, form, c.lang)
	if e != nil {
		c.fail(e)
		return
	}
	out, err := c.h.d.Cases.Intake(ctx, *in)
	if err != nil {
		c.fail(c.h.fromCaseLoop(ctx, err, c.lang))
		return
	}
	n := out.Case.Number
	ans := created{ID: n, Notice: c.zh("已受理，案件号 "+n+"，将先由监督员现场核实", "received as case "+n+"; a supervisor will verify it on site first")}
	c.ok([]created{ans}, requestsXML[created]{Requests: []created{ans}})
}

// channel authenticates api_key as a key of t holding the channel role and
// returns ctx acting as it. Every failure is 403.
func (h *Handler) channel(ctx context.Context, t *tenant.Tenant, key, lang string) (context.Context, *apiError) {
	deny := &apiError{Status: http.StatusForbidden, Description: pick(lang,
		"api_key 缺失或无效，或无权向该辖区提交", "api_key is missing or not valid, or may not submit to this jurisdiction")}
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, deny
	}
	p, err := h.d.Identity.Authenticate(ctx, key)
	if err != nil || p == nil || p.Kind != viewer.APIKey || p.TenantID != t.ID {
		return nil, deny
	}
	roles := h.d.Roles.RolesIn(p.Subject, t.Path)
	if !slices.Contains(roles, viewer.RoleChannel) {
		return nil, deny
	}
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.APIKey, ActorID: p.ID, ActorName: p.Name,
		HomeTenantID: t.ID, HomeTenantCode: t.Code, TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path,
		Roles: roles,
	}), nil
}

// submitInput checks a POST form and turns it into a citizen report.
func (h *Handler) submitInput(ctx context.Context, t *tenant.Tenant, form url.Values, lang string) (*caseflow.SubmitInput, *apiError) {
	code := strings.TrimSpace(form.Get("service_code"))
	if code == "" {
		return nil, badRequest(lang, "须提供 service_code", "service_code is required")
	}
	s, err := h.service(reader(ctx, t), t, code)
	if err != nil {
		return nil, h.fromCaseLoop(ctx, err, lang)
	}
	if s == nil {
		return nil, badRequest(lang, "service_code 不是本辖区的服务", "service_code is not a service of this jurisdiction")
	}
	in := &caseflow.SubmitInput{Source: caseflow.SourceCitizen, Kind: caseflow.KindEvent, ClassCode: code, CRS: "WGS84"}
	latS, lonS := strings.TrimSpace(form.Get("lat")), strings.TrimSpace(form.Get("long"))
	in.Address = strings.TrimSpace(form.Get("address_string"))
	switch {
	case latS != "" || lonS != "":
		lat, err1 := strconv.ParseFloat(latS, 64)
		lon, err2 := strconv.ParseFloat(lonS, 64)
		if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			return nil, badRequest(lang, "lat/long 须为有效的 WGS84 坐标", "lat and long must be a valid WGS84 point")
		}
		in.Lat, in.Lon = lat, lon
	case in.Address != "":
		return nil, badRequest(lang, "请同时提供 lat/long 坐标：本辖区暂不支持仅凭地址定位",
			"give lat and long too: this jurisdiction cannot locate a report by address_string alone")
	default:
		return nil, badRequest(lang, "须提供位置：lat/long（或地址加坐标）", "a location is required: lat and long")
	}
	if utf8.RuneCountInString(in.Address) > 500 {
		return nil, badRequest(lang, "address_string 不能超过 500 个字符", "address_string must be at most 500 characters")
	}
	desc := strings.TrimSpace(form.Get("description"))
	if utf8.RuneCountInString(desc) > MaxDescription {
		return nil, badRequest(lang, "description 不能超过 4000 个字符", "description must be at most 4,000 characters")
	}
	if media := strings.TrimSpace(form.Get("media_url")); media != "" {
		u, err := url.Parse(media)
		if err != nil || len(media) > maxMediaURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest(lang, "media_url 须为 http(s) 链接", "media_url must be an http(s) URL")
		}
		desc += mediaMark + media
	}
	in.Description = desc
	if fc := strings.TrimSpace(form.Get("attribute[" + FilingConditionAttribute + "]")); fc != "" {
		conds, err := h.d.Taxonomy.ListFilingConditions(reader(ctx, t), t.Code, taxonomy.Event, code, 0)
		if err != nil {
			return nil, h.fromCaseLoop(ctx, err, lang)
		}
		if !slices.ContainsFunc(conds, func(c taxonomy.FilingCondition) bool { return c.Code == fc }) {
			return nil, badRequest(lang, "attribute[filing_condition] 不是该服务的立案条件", "attribute[filing_condition] is not a filing condition of this service")
		}
		in.FilingConditionCode = fc
	}
	email := strings.TrimSpace(form.Get("email"))
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
			return nil, badRequest(lang, "email 格式不正确", "email is not a valid address")
		}
	}
	phone := strings.TrimSpace(form.Get("phone"))
	if phone != "" && !phonePattern.MatchString(phone) {
		return nil, badRequest(lang, "phone 格式不正确", "phone is not a valid number")
	}
	if email == "" && phone == "" && (h.d.AllowAnonymous == nil || !h.d.AllowAnonymous(t.Code)) {
		return nil, badRequest(lang, "本辖区不接受匿名上报：请提供 email 或 phone", "this jurisdiction takes no anonymous reports: give an email or phone")
	}
	name := fullName(strings.TrimSpace(form.Get("first_name")), strings.TrimSpace(form.Get("last_name")))
	if utf8.RuneCountInString(name) > maxName {
		return nil, badRequest(lang, "姓名过长", "the name is too long")
	}
	if email != "" {
		name = strings.TrimSpace(name + " <" + email + ">")
	}
	in.ReporterName, in.ReporterPhone = name, phone
	return in, nil
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,30}$`)

// fullName joins the spec's name parts: family name first for Chinese.
func fullName(first, last string) string {
	if first == "" || last == "" {
		return first + last
	}
	if !isASCII(first + last) {
		return last + first
	}
	return first + " " + last
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (h *Handler) listRequests(c *call) {
	t, ok := c.tenantOf()
	if !ok {
		return
	}
	ctx := reader(c.r.Context(), t)
	q := c.r.URL.Query()
	var cases []*caseflow.Case
	if ids := strings.TrimSpace(q.Get("service_request_id")); ids != "" {
		// With ids the other filters are ignored (the spec says so).
		list := strings.Split(ids, ",")
		if len(list) > maxIDs {
			c.fail(badRequest(c.lang, "service_request_id 最多 200 个", "at most 200 service_request_id values"))
			return
		}
		for _, id := range list {
			cs, err := h.d.Cases.Get(ctx, strings.TrimSpace(id))
			if err != nil {
				if e := h.fromCaseLoop(ctx, err, c.lang); e.Status == http.StatusNotFound {
					continue
				}
				c.fail(h.fromCaseLoop(ctx, err, c.lang))
				return
			}
			cases = append(cases, cs)
		}
	} else {
		f, e := h.filter(q, c.lang)
		if e != nil {
			c.fail(e)
			return
		}
		token := ""
		for len(cases) < MaxResults {
			page, err := h.d.Cases.Search(ctx, f, min(caseflow.MaxPageSize, MaxResults-len(cases)), token)
			if err != nil {
				c.fail(h.fromCaseLoop(ctx, err, c.lang))
				return
			}
			cases = append(cases, page.Cases...)
			if page.Next == "" {
				break
			}
			token = page.Next
		}
	}
	out, err := h.present(ctx, t, cases, c.lang)
	if err != nil {
		c.fail(h.fromCaseLoop(ctx, err, c.lang))
		return
	}
	c.ok(out, requestsXML[request]{Requests: out})
}

// filter reads GET requests' service_code, start_date, end_date and status.
func (h *Handler) filter(q url.Values, lang string) (caseflow.Filter, *apiError) {
	f := caseflow.Filter{ClassCode: strings.TrimSpace(q.Get("service_code"))}
	end, start := h.now(), time.Time{}
	if s := q.Get("end_date"); s != "" {
		tm, err := parseISO(s)
		if err != nil {
			return f, badRequest(lang, "end_date 须为 ISO 8601 时间（如 2026-03-01T00:00:00Z）", "end_date must be an ISO 8601 datetime (e.g. 2026-03-01T00:00:00Z)")
		}
		end = tm
	}
	if s := q.Get("start_date"); s != "" {
		tm, err := parseISO(s)
		if err != nil {
			return f, badRequest(lang, "start_date 须为 ISO 8601 时间（如 2026-03-01T00:00:00Z）", "start_date must be an ISO 8601 datetime (e.g. 2026-03-01T00:00:00Z)")
		}
		start = tm
	} else {
		start = end.Add(-DefaultWindow)
	}
	if start.After(end) {
		return f, badRequest(lang, "start_date 不能晚于 end_date", "start_date must not be after end_date")
	}
	if end.Sub(start) > DefaultWindow {
		return f, badRequest(lang, "查询时间范围不能超过 90 天", "the date range may not span more than 90 days")
	}
	f.ReportedFrom, f.ReportedTo = &start, &end
	switch strings.ToLower(strings.TrimSpace(q.Get("status"))) {
	case "":
		f.States = append(caseflow.OpenStates(), closedStates...)
	case "open":
		f.States = caseflow.OpenStates()
	case "closed":
		f.States = slices.Clone(closedStates)
	case "open,closed", "closed,open":
		f.States = append(caseflow.OpenStates(), closedStates...)
	default:
		return f, badRequest(lang, "status 只能是 open 或 closed", "status must be open or closed")
	}
	return f, nil
}

// parseISO reads an ISO 8601 datetime (with offset or Z; a bare date is
// midnight UTC).
func parseISO(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}

func (h *Handler) getRequest(c *call) {
	t, ok := c.tenantOf()
	if !ok {
		return
	}
	ctx := reader(c.r.Context(), t)
	cs, err := h.d.Cases.Get(ctx, c.arg)
	if err != nil {
		c.fail(h.notFoundOr(ctx, err, c.lang))
		return
	}
	out, err := h.present(ctx, t, []*caseflow.Case{cs}, c.lang)
	if err != nil {
		c.fail(h.fromCaseLoop(ctx, err, c.lang))
		return
	}
	c.ok(out, requestsXML[request]{Requests: out})
}

// notFoundOr answers the spec's 404 for a case the tenant does not have.
func (h *Handler) notFoundOr(ctx context.Context, err error, lang string) *apiError {
	e := h.fromCaseLoop(ctx, err, lang)
	if e.Status == http.StatusNotFound {
		e.Description = pick(lang, "服务请求（service_request_id）不存在", "no such service_request_id")
	}
	return e
}

// token answers the request id of a token: requests are created
// synchronously, so a token is the case number itself.
func (h *Handler) token(c *call) {
	t, ok := c.tenantOf()
	if !ok {
		return
	}
	ctx := reader(c.r.Context(), t)
	cs, err := h.d.Cases.Get(ctx, c.arg)
	if err != nil {
		e := h.fromCaseLoop(ctx, err, c.lang)
		if e.Status == http.StatusNotFound {
			e.Description = c.zh("token 不存在", "no such token")
		}
		c.fail(e)
		return
	}
	ans := tokenAnswer{ID: cs.Number, Token: c.arg}
	c.ok([]tokenAnswer{ans}, requestsXML[tokenAnswer]{Requests: []tokenAnswer{ans}})
}

// present turns cases into the public view.
func (h *Handler) present(ctx context.Context, t *tenant.Tenant, cases []*caseflow.Case, lang string) ([]request, error) {
	list, err := h.serviceList(ctx, t)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(list))
	for _, s := range list {
		names[s.Code] = s.localized(lang).Name
	}
	out := make([]request, 0, len(cases))
	for _, cs := range cases {
		desc, media := splitMedia(cs.Description)
		status := "open"
		if slices.Contains(closedStates, cs.State) {
			status = "closed"
		}
		out = append(out, request{
			ID: cs.Number, Status: status, StatusNotes: statusNotes(cs, lang),
			ServiceName: names[cs.ClassCode], ServiceCode: cs.ClassCode, Description: scrub(desc),
			AgencyResponsible: cs.PrimaryDepartmentCode,
			Requested:         iso(cs.ReportedAt), Updated: iso(&cs.UpdatedAt), Expected: iso(stageDeadline(cs)),
			Address: scrub(cs.Address), Lat: cs.Lat, Long: cs.Lon, MediaURL: media,
		})
	}
	return out, nil
}

func splitMedia(desc string) (string, string) {
	if i := strings.LastIndex(desc, mediaMark); i >= 0 {
		return desc[:i], desc[i+len(mediaMark):]
	}
	return desc, ""
}

var (
	longDigits = regexp.MustCompile(`\d[\d \-]{5,}\d`)
	emails     = regexp.MustCompile(`[[:alnum:]._%+\-]+@[[:alnum:].\-]+\.[[:alpha:]]{2,}`)
)

// scrub hides what looks like a phone number or email in free text a
// citizen wrote, since the text is shown publicly.
func scrub(s string) string {
	s = emails.ReplaceAllString(s, "***")
	return longDigits.ReplaceAllStringFunc(s, func(m string) string {
		if strings.ContainsAny(m, " -") && len(strings.ReplaceAll(strings.ReplaceAll(m, " ", ""), "-", "")) < 7 {
			return m
		}
		return "***"
	})
}

// stageDeadline is the deadline of the stage the case is in; nil when it
// is in none (closed, hung, awaiting approval of something outside the
// clock).
func stageDeadline(c *caseflow.Case) *time.Time {
	switch c.State {
	case caseflow.StateVerifyPending:
		return c.VerifyDeadline
	case caseflow.StateFiled:
		return c.DispatchDeadline
	case caseflow.StateDispatched, caseflow.StateInDisposal, caseflow.StateReturnPending, caseflow.StateDelayPending, caseflow.StateHangPending:
		return c.DisposeDeadline
	case caseflow.StateFeedback, caseflow.StateCheckPending:
		return c.CheckDeadline
	case caseflow.StateClosePending:
		return c.CloseDeadline
	}
	return nil
}

// statusNotes says in a sentence where a case stands.
func statusNotes(c *caseflow.Case, lang string) string {
	switch c.State {
	case caseflow.StateDraft, caseflow.StateReported:
		return pick(lang, "已受理，等待处理", "Received; awaiting handling")
	case caseflow.StateVerifyPending:
		return pick(lang, "已受理，等待监督员现场核实", "Received; a supervisor will verify it on site")
	case caseflow.StateFiled:
		return pick(lang, "已立案，等待派遣至责任单位", "Filed; awaiting dispatch to the responsible department")
	case caseflow.StateSelfHandled:
		return pick(lang, "已由监督员现场处置，等待审核", "Handled on site by a supervisor; under review")
	case caseflow.StateDispatched:
		return pick(lang, "已派遣至责任单位处置", "Dispatched to the responsible department")
	case caseflow.StateInDisposal, caseflow.StateReturnPending, caseflow.StateDelayPending, caseflow.StateHangPending:
		return pick(lang, "责任单位处置中", "The responsible department is working on it")
	case caseflow.StateHung:
		return pick(lang, "暂时无法处置，已挂账跟踪", "Cannot be solved for now; kept on record and tracked")
	case caseflow.StateFeedback, caseflow.StateCheckPending:
		return pick(lang, "责任单位已处置，等待现场核查", "Handled by the department; awaiting an on-site check")
	case caseflow.StateClosePending:
		return pick(lang, "已核查，等待结案", "Checked; about to be closed")
	case caseflow.StateVoidPending:
		return pick(lang, "正在审核", "Under review")
	case caseflow.StateClosed:
		return pick(lang, "已结案", "Closed: the problem has been solved")
	case caseflow.StateRejected:
		return pick(lang, "经核实不予受理", "Not accepted after verification")
	case caseflow.StateMerged:
		if c.MergedInto != "" {
			return pick(lang, "同一问题已合并至案件 "+c.MergedInto+" 处理", "Merged into case "+c.MergedInto+" about the same problem")
		}
		return pick(lang, "已与同一问题的案件合并处理", "Merged with a case about the same problem")
	case caseflow.StateVoided:
		return pick(lang, "已作废", "Voided")
	}
	return ""
}
