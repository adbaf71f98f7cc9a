package open311

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

// statusView is what the public status page shows: no reporter, no actor.
type statusView struct {
	Found                   bool
	Message                 string
	Jurisdiction            string
	Number, Service, Status string
	Notes, Address          string
	Reported, Updated, Due  string
	Closed                  bool
}

var statusPage = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>案件进度查询{{if .Found}} · {{.Number}}{{end}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#222}dt{color:#666;margin-top:.8em}dd{margin:0;font-size:1.1em}.open{color:#b35c00}.closed{color:#1a7f37}</style>
</head>
<body>
<h1>案件进度查询</h1>
{{if .Found}}<p>{{.Jurisdiction}}数字城管</p>
<dl>
<dt>案件号</dt><dd>{{.Number}}</dd>
<dt>问题类别</dt><dd>{{.Service}}</dd>
<dt>状态</dt><dd class="{{if .Closed}}closed{{else}}open{{end}}">{{.Status}}：{{.Notes}}</dd>
{{if .Address}}<dt>地点</dt><dd>{{.Address}}</dd>{{end}}
<dt>上报时间</dt><dd>{{.Reported}}</dd>
<dt>最近更新</dt><dd>{{.Updated}}</dd>
{{if .Due}}<dt>本阶段办理时限</dt><dd>{{.Due}}</dd>{{end}}
</dl>
{{else}}<p>{{.Message}}</p>{{end}}
</body>
</html>
`))

// statusPage serves /open311/v2/status/{jurisdiction}/{number}: a plain
// Chinese page about one case, without personal data.
func (h *Handler) statusPage(w http.ResponseWriter, r *http.Request, rest string) {
	render := func(status int, v statusView) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_ = statusPage.Execute(w, v)
	}
	missing := statusView{Message: "未找到该案件，请核对辖区和案件号。"}
	juris, number, ok := strings.Cut(strings.Trim(rest, "/"), "/")
	if !ok || number == "" || strings.Contains(number, "/") {
		render(http.StatusNotFound, missing)
		return
	}
	t, e := h.jurisdiction(r.Context(), juris, apierr.ZH)
	if e != nil {
		if e.Status == http.StatusBadRequest {
			render(http.StatusNotFound, missing)
			return
		}
		render(e.Status, statusView{Message: e.Description})
		return
	}
	ctx := reader(r.Context(), t)
	cs, err := h.d.Cases.Get(ctx, number)
	if err != nil {
		if e := h.fromCaseLoop(ctx, err, apierr.ZH); e.Status != http.StatusNotFound {
			render(e.Status, statusView{Message: e.Description})
			return
		}
		render(http.StatusNotFound, missing)
		return
	}
	reqs, err := h.present(ctx, t, []*caseflow.Case{cs}, apierr.ZH)
	if err != nil {
		e := h.fromCaseLoop(ctx, err, apierr.ZH)
		render(e.Status, statusView{Message: e.Description})
		return
	}
	q := reqs[0]
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	local := func(ts *isoTime) string {
		if ts == nil {
			return ""
		}
		return ts.t.In(loc).Format("2006-01-02 15:04")
	}
	v := statusView{
		Found: true, Jurisdiction: t.NameZH, Number: q.ID, Service: q.ServiceName, Notes: q.StatusNotes,
		Address: q.Address, Reported: local(q.Requested), Updated: local(q.Updated), Due: local(q.Expected),
		Closed: q.Status == "closed", Status: "处理中",
	}
	if v.Service == "" {
		v.Service = q.ServiceCode
	}
	if v.Closed {
		v.Status = "已办结"
	}
	render(http.StatusOK, v)
}
