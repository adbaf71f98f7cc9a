package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree for one file and collects problems instead
// of stopping at the first, which is why manifests are not decoded straight
// into structs: yaml.v3's struct decoding stops early and loses positions.
type decoder struct {
	file  string
	probs Problems
}

// add records a problem at n (nil for the whole file).
func (d *decoder) add(n *yaml.Node, field, zh, en string) {
	p := Problem{File: d.file, Field: field, ZH: zh, EN: en}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.probs = append(d.probs, p)
}

// addf records a problem whose two messages take the same arguments.
func (d *decoder) addf(n *yaml.Node, field, zh, en string, args ...any) {
	d.add(n, field, fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...))
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Column: n.Column}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads data as exactly one YAML document and returns its root node,
// or nil after recording why it could not.
func (d *decoder) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.add(nil, "", "文件为空", "the file is empty")
		} else {
			d.syntax(err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err, data)
		return nil
	default:
		// A single Decode would silently ignore the second document; one
		// file, one document.
		d.add(&extra, "", "文件只能包含一个 YAML 文档（发现了 ---）",
			"the file must hold a single YAML document (found ---)")
		return nil
	}
	if len(doc.Content) == 0 {
		d.add(nil, "", "文件为空", "the file is empty")
		return nil
	}
	return doc.Content[0]
}

// zeroBasedParserErrors are yaml.v3 (v3.0.1) parser errors whose "line N"
// is the 0-based line of the construct being parsed: the library adds 1 only
// for scanner errors. Adding 1 here points operators at the right line; the
// malformed-YAML tests pin the behaviour should the library fix it.
var zeroBasedParserErrors = []string{
	"did not find expected key",
	"did not find expected ',' or '}'",
	"did not find expected ',' or ']'",
	"did not find expected '-' indicator",
	"found undefined tag handle",
}

// syntax records a yaml.v3 parse error, keeping the line it names.
func (d *decoder) syntax(err error, data []byte) {
	msg, line := err.Error(), 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if slices.Contains(zeroBasedParserErrors, msg) && line < bytes.Count(data, []byte("\n"))+1 {
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.probs = append(d.probs, Problem{File: d.file, Line: line,
		ZH: "YAML 格式错误：" + msg, EN: "malformed YAML: " + msg})
}

// field is one key of a mapping.
type field struct {
	key, value *yaml.Node
}

// mapping checks that n is a mapping with only the known keys and returns
// its fields by key. Unknown keys are reported at their own line because a
// misspelt key is otherwise silently ignored, which is the most common
// manifest mistake. A nil result means n was not a usable mapping.
func (d *decoder) mapping(n *yaml.Node, path string, known ...string) map[string]field {
	if !d.notAlias(n, path) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.addf(n, path, "应为映射（key: value）", "want a mapping (key: value)")
		return nil
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.add(k, path, "字段名必须是字符串", "field names must be plain strings")
			continue
		}
		name := k.Value
		if !slices.Contains(known, name) {
			d.addf(k, join(path, name), "未知字段 %q（允许的字段：%s）", "unknown field %q (allowed: %s)",
				name, strings.Join(known, ", "))
			continue
		}
		if prev, dup := out[name]; dup {
			d.add(k, join(path, name),
				fmt.Sprintf("字段 %q 重复（第 %d 行已定义）", name, prev.key.Line),
				fmt.Sprintf("field %q is repeated (already set on line %d)", name, prev.key.Line))
			continue
		}
		out[name] = field{key: k, value: v}
	}
	return out
}

// notAlias rejects YAML aliases (*name). Manifests are short reviewed files;
// an alias hides what a field contains from the reviewer and from the
// position-based error reports.
func (d *decoder) notAlias(n *yaml.Node, path string) bool {
	if n.Kind == yaml.AliasNode {
		d.add(n, path, "不支持 YAML 别名（*引用），请直接写出内容", "YAML aliases (*ref) are not supported; write the value out")
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// text returns a scalar's raw text. The raw text, not the resolved value, is
// what we want for codes: 000000 and 450126 must survive unquoted. A missing
// or null value yields ok=false without a problem so the caller can apply a
// default or report it as required.
func (d *decoder) text(f field, path string) (s string, ok bool) {
	n := f.value
	if isNull(n) {
		return "", false
	}
	if !d.notAlias(n, path) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.add(n, path, "应为单个值（字符串或数字）", "want a single value (string or number)")
		return "", false
	}
	return n.Value, true
}

// required returns the text of a required field, reporting it when missing
// or blank. at is where to report a missing field: the enclosing mapping.
func (d *decoder) required(fields map[string]field, name, path string, at *yaml.Node) (string, *yaml.Node, bool) {
	f, present := fields[name]
	if !present {
		d.addf(at, join(path, name), "缺少必填字段 %s", "required field %s is missing", name)
		return "", at, false
	}
	s, ok := d.text(f, join(path, name))
	if !ok {
		if isNull(f.value) {
			d.addf(f.value, join(path, name), "必填字段 %s 不能为空", "required field %s must not be empty", name)
		}
		return "", f.value, false
	}
	if strings.TrimSpace(s) == "" {
		d.addf(f.value, join(path, name), "必填字段 %s 不能为空", "required field %s must not be empty", name)
		return "", f.value, false
	}
	return s, f.value, true
}

// optional returns the text of an optional field. A present but blank value
// is reported: it is either a mistake or should be left out.
func (d *decoder) optional(fields map[string]field, name, path string) (string, *yaml.Node, bool) {
	f, present := fields[name]
	if !present || isNull(f.value) {
		return "", nil, false
	}
	s, ok := d.text(f, join(path, name))
	if !ok {
		return "", f.value, false
	}
	if strings.TrimSpace(s) == "" {
		d.addf(f.value, join(path, name), "字段 %s 为空：请填写或删除该字段", "field %s is blank: fill it in or remove it", name)
		return "", f.value, false
	}
	return s, f.value, true
}

// boolean decodes an optional YAML boolean. Quoted "true" or yes/no are
// rejected rather than guessed at.
func (d *decoder) boolean(fields map[string]field, name, path string) (bool, *yaml.Node) {
	f, present := fields[name]
	if !present || isNull(f.value) {
		return false, nil
	}
	n := f.value
	if !d.notAlias(n, join(path, name)) {
		return false, n
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.add(n, join(path, name), "应为 true 或 false（不加引号）", "want true or false (unquoted)")
		return false, n
	}
	return b, n
}

// sequence returns the items of an optional list.
func (d *decoder) sequence(f field, path string) []*yaml.Node {
	n := f.value
	if isNull(n) || !d.notAlias(n, path) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n, path, "应为列表（- item）", "want a list (- item)")
		return nil
	}
	return n.Content
}

// bilingual decodes a {zh, en} name; zh is required because Chinese is the
// authoritative name, en is optional.
func (d *decoder) bilingual(fields map[string]field, name, path string, at *yaml.Node) (zh, en string) {
	p := join(path, name)
	f, present := fields[name]
	if !present || isNull(f.value) {
		d.addf(pickNode(f.value, at), p, "缺少必填字段 %s（需包含 zh，可选 en）", "required field %s is missing (with zh and optional en)", name)
		return "", ""
	}
	m := d.mapping(f.value, p, "zh", "en")
	if m == nil {
		return "", ""
	}
	zh, _, _ = d.required(m, "zh", p, f.value)
	en, _, _ = d.optional(m, "en", p)
	return strings.TrimSpace(zh), strings.TrimSpace(en)
}

func pickNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
