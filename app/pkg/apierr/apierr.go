// Package apierr turns any error an API returns into the kratos error a
// person can act on: a stable reason code, and a message in the language the
// request asked for (zh-CN by default, en available).
//
// Reasons and their message templates are defined once, in proto (see
// api/errors/v1/messages.proto); the generated <Enum>Message and <Enum>Code
// functions are handed to a Localizer as Catalogs. Templates name metadata
// keys in braces ("租户 {code} 不存在"); a key may carry a per-language value
// under "<key>_zh" / "<key>_en" so that a detail can be bilingual too.
package apierr

import (
	"errors"
	"strings"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
)

// Language tags the platform answers in.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Catalog looks up the message template of a reason in a language.
type Catalog func(reason, lang string) (string, bool)

// Localizer renders error messages from catalogs of reasons.
type Localizer struct {
	catalogs []Catalog
}

// NewLocalizer returns a Localizer over the common reasons and the given
// domain catalogs.
func NewLocalizer(domain ...Catalog) *Localizer {
	return &Localizer{catalogs: append([]Catalog{errorsv1.ErrorReasonMessage}, domain...)}
}

// Lang picks zh-CN or en from an Accept-Language header value (or a gRPC
// accept-language metadata value). Anything that prefers English gets en;
// everything else, including an empty value, gets the default zh-CN.
func Lang(acceptLanguage string) string {
	best, bestQ := ZH, -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, q := parseLangPart(part)
		if tag == "" {
			continue
		}
		var l string
		switch {
		case strings.HasPrefix(tag, "en"):
			l = EN
		case strings.HasPrefix(tag, "zh"):
			l = ZH
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

func parseLangPart(part string) (string, float64) {
	fields := strings.Split(strings.TrimSpace(part), ";")
	tag := strings.ToLower(strings.TrimSpace(fields[0]))
	q := 1.0
	for _, f := range fields[1:] {
		f = strings.TrimSpace(f)
		if v, ok := strings.CutPrefix(f, "q="); ok {
			q = parseQ(v)
		}
	}
	return tag, q
}

// parseQ reads a quality value ("0.8"); a malformed one counts as 0 so that
// it never outranks a well-formed preference.
func parseQ(v string) float64 {
	if v == "1" || v == "1.0" || v == "1.00" || v == "1.000" {
		return 1
	}
	whole, frac, ok := strings.Cut(v, ".")
	if !ok || whole != "0" || len(frac) == 0 || len(frac) > 3 {
		return 0
	}
	q, scale := 0.0, 0.1
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0
		}
		q += float64(c-'0') * scale
		scale /= 10
	}
	return q
}

// Localize converts err into a kratos error whose message is rendered in
// lang. Errors that carry no CityOps reason become INTERNAL (bad bodies
// caught by the transport become INVALID_ARGUMENT) so that driver messages
// or stack details never reach a client. requestID, when set, is attached as
// metadata so an operator can find the request in the logs.
func (l *Localizer) Localize(err error, lang, requestID string) *kerrors.Error {
	if err == nil {
		return nil
	}
	src := kerrors.FromError(err)
	out := &kerrors.Error{Status: kerrors.Status{Code: src.Code, Reason: src.Reason, Metadata: copyMD(src.Metadata)}}
	out = out.WithCause(err)
	tmpl, known := l.lookup(src.Reason, lang)
	if !known {
		switch {
		case src.Reason == "CODEC" || (src.Code == 400 && src.Reason == ""):
			out.Code, out.Reason = 400, errorsv1.ErrorReason_INVALID_ARGUMENT.String()
			out.Metadata["field"] = "body"
			out.Metadata["detail"] = src.Message
		case src.Code == 404 && src.Reason == "":
			// The router found no operation for the path.
			out.Code, out.Reason = 404, "NOT_FOUND"
			tmpl = pick(lang, "接口不存在", "no such API operation")
		case src.Code == 405 && src.Reason == "":
			out.Code, out.Reason = 405, "METHOD_NOT_ALLOWED"
			tmpl = pick(lang, "该接口不支持此 HTTP 方法", "method not allowed for this API operation")
		default:
			out.Code, out.Reason = 500, errorsv1.ErrorReason_INTERNAL.String()
			out.Metadata = map[string]string{}
		}
		if tmpl == "" {
			tmpl, _ = l.lookup(out.Reason, lang)
		}
	}
	if requestID != "" {
		out.Metadata["request_id"] = requestID
	}
	out.Message = render(tmpl, out.Metadata, lang)
	return out
}

// Reason returns the reason of err, or "" when it has none.
func Reason(err error) string {
	var e *kerrors.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func (l *Localizer) lookup(reason, lang string) (string, bool) {
	if reason == "" {
		return "", false
	}
	for _, c := range l.catalogs {
		if t, ok := c(reason, lang); ok {
			return t, true
		}
		if t, ok := c(reason, ZH); ok {
			return t, true
		}
	}
	return "", false
}

func pick(lang, zh, en string) string {
	if lang == EN {
		return en
	}
	return zh
}

// render fills {key} placeholders from md, preferring the language-specific
// value key_zh / key_en.
func render(tmpl string, md map[string]string, lang string) string {
	suffix := "_zh"
	if lang == EN {
		suffix = "_en"
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		closing := strings.IndexByte(tmpl[open:], '}')
		if closing < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		key := tmpl[open+1 : open+closing]
		b.WriteString(tmpl[:open])
		if v, ok := md[key+suffix]; ok {
			b.WriteString(v)
		} else if v, ok := md[key]; ok {
			b.WriteString(v)
		} else {
			b.WriteString("?")
		}
		tmpl = tmpl[open+closing+1:]
	}
}

func copyMD(md map[string]string) map[string]string {
	out := make(map[string]string, len(md)+1)
	for k, v := range md {
		out[k] = v
	}
	return out
}
