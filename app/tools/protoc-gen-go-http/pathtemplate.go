package main

import (
	"fmt"
	"regexp"
	"strings"
)

// pathTemplate is a parsed google.api.http path template:
//
//	Template = "/" Segments [ Verb ] ;
//	Segments = Segment { "/" Segment } ;
//	Segment  = LITERAL | Variable ;
//	Variable = "{" FieldPath [ "=" Pattern ] "}" ;
//	Pattern  = PSegment { "/" PSegment } ;   PSegment = "*" | "**" | LITERAL
//	FieldPath = IDENT { "." IDENT } ;
//	Verb     = ":" LITERAL ;
//
// Wildcards outside a variable are rejected: gorilla/mux, which kratos routes
// with, cannot match an unnamed wildcard, and a client could not fill it.
type pathTemplate struct {
	Raw      string
	Segments []pathSegment
	Verb     string // without the leading colon; "" when absent
}

// pathSegment is either a literal path segment or a variable.
type pathSegment struct {
	Literal string
	Var     *pathVar
}

// pathVar is a variable of a path template, e.g. {tenant_code} or
// {name=tenants/*/cases/*}.
type pathVar struct {
	FieldPath []string // proto field names, outermost first
	Pattern   []string // pattern segments; ["*"] when the template gives none
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parsePathTemplate parses a google.api.http path template.
func parsePathTemplate(s string) (*pathTemplate, error) {
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("path template %q must start with /", s)
	}
	t := &pathTemplate{Raw: s}
	if s == "/" {
		return t, nil
	}
	rest := s[1:]
	for {
		var seg pathSegment
		if strings.HasPrefix(rest, "{") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("path template %q: unclosed {", s)
			}
			v, err := parseVariable(rest[1:end])
			if err != nil {
				return nil, fmt.Errorf("path template %q: %w", s, err)
			}
			seg.Var = v
			rest = rest[end+1:]
			if rest != "" && rest[0] != '/' && rest[0] != ':' {
				return nil, fmt.Errorf("path template %q: a variable must fill whole segments", s)
			}
		} else {
			end := strings.IndexAny(rest, "/{}")
			if end < 0 {
				end = len(rest)
			}
			if end < len(rest) && rest[end] != '/' {
				return nil, fmt.Errorf("path template %q: a variable must fill whole segments", s)
			}
			seg.Literal = rest[:end]
			rest = rest[end:]
			if seg.Literal == "" {
				return nil, fmt.Errorf("path template %q: empty segment", s)
			}
			if rest == "" { // the last segment may carry the verb
				if i := strings.LastIndexByte(seg.Literal, ':'); i >= 0 {
					t.Verb = seg.Literal[i+1:]
					seg.Literal = seg.Literal[:i]
					if t.Verb == "" || seg.Literal == "" {
						return nil, fmt.Errorf("path template %q: malformed verb", s)
					}
				}
			}
			if seg.Literal == "*" || seg.Literal == "**" {
				return nil, fmt.Errorf("path template %q: wildcard %s outside a variable is not supported", s, seg.Literal)
			}
		}
		t.Segments = append(t.Segments, seg)
		switch {
		case rest == "":
			return t.check()
		case rest[0] == ':':
			t.Verb = rest[1:]
			if t.Verb == "" || strings.ContainsAny(t.Verb, "/{}:") {
				return nil, fmt.Errorf("path template %q: malformed verb", s)
			}
			return t.check()
		default: // '/'
			rest = rest[1:]
			if rest == "" {
				return nil, fmt.Errorf("path template %q: trailing /", s)
			}
		}
	}
}

func parseVariable(body string) (*pathVar, error) {
	name, pattern, hasPattern := strings.Cut(body, "=")
	name = strings.TrimSpace(name)
	v := &pathVar{Pattern: []string{"*"}}
	for _, id := range strings.Split(name, ".") {
		if !identRE.MatchString(id) {
			return nil, fmt.Errorf("variable {%s}: %q is not a field name", body, id)
		}
		v.FieldPath = append(v.FieldPath, id)
	}
	if hasPattern {
		v.Pattern = strings.Split(strings.TrimSpace(pattern), "/")
		for i, p := range v.Pattern {
			switch {
			case p == "":
				return nil, fmt.Errorf("variable {%s}: empty pattern segment", body)
			case p == "**" && i != len(v.Pattern)-1:
				return nil, fmt.Errorf("variable {%s}: ** must be the last segment", body)
			case p != "*" && p != "**" && strings.ContainsAny(p, "*{}=:"):
				return nil, fmt.Errorf("variable {%s}: malformed pattern segment %q", body, p)
			}
		}
	}
	return v, nil
}

func (t *pathTemplate) check() (*pathTemplate, error) {
	seen := make(map[string]bool)
	for _, v := range t.Vars() {
		if seen[v.Name()] {
			return nil, fmt.Errorf("path template %q: variable %s appears twice", t.Raw, v.Name())
		}
		seen[v.Name()] = true
	}
	return t, nil
}

// Vars returns the variables of the template in order.
func (t *pathTemplate) Vars() []*pathVar {
	var vs []*pathVar
	for _, s := range t.Segments {
		if s.Var != nil {
			vs = append(vs, s.Var)
		}
	}
	return vs
}

// Name returns the dotted field path, which is also the gorilla/mux variable
// name and so the key kratos's BindVars decodes (by proto field name).
func (v *pathVar) Name() string { return strings.Join(v.FieldPath, ".") }

// SingleSegment reports whether the variable matches exactly one path
// segment ({x} or {x=*}); its value is then escaped as one segment.
func (v *pathVar) SingleSegment() bool { return len(v.Pattern) == 1 && v.Pattern[0] == "*" }

// muxRegexp returns the regular expression gorilla/mux matches the variable
// with: * is one segment, ** any number of segments.
func (v *pathVar) muxRegexp() string {
	parts := make([]string, len(v.Pattern))
	for i, p := range v.Pattern {
		switch p {
		case "*":
			parts[i] = "[^/]+"
		case "**":
			parts[i] = ".+"
		default:
			parts[i] = regexp.QuoteMeta(p)
		}
	}
	return strings.Join(parts, "/")
}

// Route returns the template in gorilla/mux syntax, as kratos's router takes
// it: {tenant_code}, {name:tenants/[^/]+}, /x:verb.
func (t *pathTemplate) Route() string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		if s.Var == nil {
			b.WriteString(s.Literal)
			continue
		}
		b.WriteString("{" + s.Var.Name())
		if !s.Var.SingleSegment() {
			b.WriteString(":" + s.Var.muxRegexp())
		}
		b.WriteString("}")
	}
	if len(t.Segments) == 0 {
		b.WriteByte('/')
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String()
}

// urlPart is a piece of a client URL: literal text, or a variable's value.
type urlPart struct {
	Text string
	Var  *pathVar
}

// URLParts splits the template into the literal text and variables a client
// concatenates to build the request path.
func (t *pathTemplate) URLParts() []urlPart {
	var parts []urlPart
	lit := func(s string) {
		if n := len(parts); n > 0 && parts[n-1].Var == nil {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, urlPart{Text: s})
	}
	for _, s := range t.Segments {
		lit("/")
		if s.Var == nil {
			lit(s.Literal)
		} else {
			parts = append(parts, urlPart{Var: s.Var})
		}
	}
	if len(t.Segments) == 0 {
		lit("/")
	}
	if t.Verb != "" {
		lit(":" + t.Verb)
	}
	return parts
}
