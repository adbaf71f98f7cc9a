package open311

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"time"
)

// format is the response format the path's extension names.
type format string

const (
	formatJSON format = "json"
	formatXML  format = "xml"
)

// apiError is one error in the spec's form, with its HTTP status.
type apiError struct {
	Status      int
	Description string
}

func errNotFound(lang string) *apiError {
	return &apiError{Status: http.StatusNotFound, Description: pick(lang, "接口不存在", "no such resource")}
}

func errMethod(lang string) *apiError {
	return &apiError{Status: http.StatusMethodNotAllowed, Description: pick(lang, "该接口不支持此 HTTP 方法", "method not allowed")}
}

func badRequest(lang, zh, en string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Description: pick(lang, zh, en)}
}

type xmlError struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type xmlErrors struct {
	XMLName xml.Name   `xml:"errors"`
	Errors  []xmlError `xml:"error"`
}

// fail writes e as `[{"code":…,"description":…}]` or
// `<errors><error><code>…</code><description>…</description></error></errors>`.
func (h *Handler) fail(w http.ResponseWriter, f format, e *apiError) {
	body := []xmlError{{Code: e.Status, Description: e.Description}}
	if f == formatXML {
		write(w, f, e.Status, xmlErrors{Errors: body})
		return
	}
	write(w, f, e.Status, body)
}

func (c *call) fail(e *apiError) { c.h.fail(c.w, c.f, e) }

// ok writes a 200 response: jsonBody as JSON, xmlBody as XML.
func (c *call) ok(jsonBody, xmlBody any) {
	if c.f == formatXML {
		write(c.w, c.f, http.StatusOK, xmlBody)
		return
	}
	write(c.w, c.f, http.StatusOK, jsonBody)
}

func write(w http.ResponseWriter, f format, status int, v any) {
	var (
		b   []byte
		err error
	)
	if f == formatXML {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		b, err = xml.Marshal(v)
		if err == nil {
			b = append([]byte(xml.Header), b...)
		}
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		b, err = json.Marshal(v)
	}
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// isoTime is a datetime in ISO 8601 UTC with Z.
type isoTime struct{ t *time.Time }

func iso(t *time.Time) *isoTime {
	if t == nil || t.IsZero() {
		return nil
	}
	return &isoTime{t: t}
}

func (t isoTime) String() string { return t.t.UTC().Format("2006-01-02T15:04:05Z") }

// MarshalText implements encoding.TextMarshaler (JSON and XML).
func (t isoTime) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Discovery document.
type endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

type discoveryDoc struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

// service is one entry of the service list.
type service struct {
	Code        string `json:"service_code" xml:"service_code"`
	Name        string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`

	nameEN, groupEN string
}

type servicesXML struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

type attrValue struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

type attribute struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription string      `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []attrValue `json:"values" xml:"values>value"`
}

type serviceDefinition struct {
	XMLName    xml.Name    `json:"-" xml:"service_definition"`
	Code       string      `json:"service_code" xml:"service_code"`
	Attributes []attribute `json:"attributes" xml:"attributes>attribute"`
}

// created is the answer to POST requests.
type created struct {
	ID        string  `json:"service_request_id" xml:"service_request_id"`
	Notice    string  `json:"service_notice" xml:"service_notice"`
	AccountID *string `json:"account_id" xml:"account_id"`
}

type tokenAnswer struct {
	ID    string `json:"service_request_id" xml:"service_request_id"`
	Token string `json:"token" xml:"token"`
}

// request is a service request as the public sees it: no reporter, no
// internal actor.
type request struct {
	ID                string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	Requested         *isoTime `json:"requested_datetime" xml:"requested_datetime,omitempty"`
	Updated           *isoTime `json:"updated_datetime" xml:"updated_datetime,omitempty"`
	Expected          *isoTime `json:"expected_datetime" xml:"expected_datetime,omitempty"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               float64  `json:"lat" xml:"lat"`
	Long              float64  `json:"long" xml:"long"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

// requestsXML wraps any of created, tokenAnswer or request.
type requestsXML[T any] struct {
	XMLName  xml.Name `xml:"service_requests"`
	Requests []T      `xml:"request"`
}
