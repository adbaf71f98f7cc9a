package manifest

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseDepartments decodes departments.yaml into t.Departments.
func parseDepartments(t *Tenant, file string, data []byte) Problems {
	d := &decoder{file: file}
	root := d.parse(data)
	if root == nil {
		return d.probs
	}
	fields := d.mapping(root, "", "departments")
	if fields == nil {
		return d.probs
	}
	f, ok := fields["departments"]
	if !ok {
		d.add(root, "departments", "缺少必填字段 departments", "required field departments is missing")
		return d.probs
	}
	seen := make(map[string]int) // code → line of first use
	for i, n := range d.sequence(f, "departments") {
		path := index("departments", i)
		dep, codeNode, ok := d.department(n, path)
		if !ok {
			continue
		}
		if dep.Code != "" {
			if line, dup := seen[dep.Code]; dup {
				d.add(codeNode, path+".code",
					fmt.Sprintf("部门代码 %s 重复（第 %d 行已使用）", dep.Code, line),
					fmt.Sprintf("department code %s is used twice (first on line %d)", dep.Code, line))
			} else {
				seen[dep.Code] = dep.Pos.Line
			}
		}
		t.Departments = append(t.Departments, dep)
	}
	return d.probs
}

// department decodes one list item; it also returns the node of its code,
// where a duplicate is reported.
func (d *decoder) department(n *yaml.Node, path string) (Department, *yaml.Node, bool) {
	m := d.mapping(n, path, "code", "name", "kind", "contacts")
	if m == nil {
		return Department{}, nil, false
	}
	dep := Department{Pos: d.pos(n)}
	code, cn, ok := d.required(m, "code", path, n)
	if ok {
		if deptCodeRE.MatchString(code) {
			dep.Code = code
		} else {
			d.addf(cn, path+".code", "部门代码 %q 无效：应为 1–32 个字母、数字、_ 或 -",
				"department code %q is invalid: want 1-32 letters, digits, '_' or '-'", code)
		}
	}
	dep.NameZH, dep.NameEN = d.bilingual(m, "name", path, n)
	if kind, kn, ok := d.required(m, "kind", path, n); ok {
		dep.Kind = DepartmentKind(kind)
		if !slices.Contains(DepartmentKinds, dep.Kind) {
			d.addf(kn, path+".kind", "部门类型 %q 无效：应为 %s", "department kind %q is invalid: want one of %s",
				kind, kindList())
		}
	}
	if f, ok := m["contacts"]; ok {
		for i, cn := range d.sequence(f, path+".contacts") {
			if c, ok := d.contact(cn, index(path+".contacts", i)); ok {
				dep.Contacts = append(dep.Contacts, c)
			}
		}
	}
	return dep, cn, true
}

func (d *decoder) contact(n *yaml.Node, path string) (Contact, bool) {
	m := d.mapping(n, path, "name", "title", "phone")
	if m == nil {
		return Contact{}, false
	}
	c := Contact{Pos: d.pos(n)}
	c.Name, _, _ = d.required(m, "name", path, n)
	c.Title, _, _ = d.optional(m, "title", path)
	// A contact without a phone number is of no use to a dispatcher.
	if phone, pn, ok := d.required(m, "phone", path, n); ok {
		if phoneRE.MatchString(phone) && strings.ContainsAny(phone, "0123456789") {
			c.Phone = phone
		} else {
			d.addf(pn, path+".phone", "电话 %q 无效：只能包含数字、-、+ 和空格（最多 32 个字符）",
				"phone %q is invalid: use digits, '-', '+' and spaces only (at most 32 characters)", phone)
		}
	}
	return c, true
}

func kindList() string {
	s := make([]string, len(DepartmentKinds))
	for i, k := range DepartmentKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
