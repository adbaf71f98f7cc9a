package manifest

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cityops/cityops/app/pkg/region"
)

var tenantFields = []string{
	"code", "slug", "name", "level", "parent", "management_area", "isolation", "time_zone", "admin",
}

// parseTenant decodes and validates tenant.yaml on its own. dirName is the
// tenant directory's base name, which the slug must equal. It returns nil
// only when the file is not a YAML mapping at all; otherwise the tenant is
// returned with whatever could be read, so that tree checks still run.
func parseTenant(file string, data []byte, dirName string) (*Tenant, Problems) {
	d := &decoder{file: file}
	root := d.parse(data)
	if root == nil {
		return nil, d.probs
	}
	fields := d.mapping(root, "", tenantFields...)
	if fields == nil {
		return nil, d.probs
	}
	t := &Tenant{Pos: d.pos(root), fields: make(map[string]Pos, len(fields))}
	for name, f := range fields {
		t.fields[name] = d.pos(f.value)
	}

	code, _, codeOK := d.required(fields, "code", "", root)
	t.Code = code

	if slug, n, ok := d.required(fields, "slug", "", root); ok {
		t.Slug = slug
		switch {
		case !slugRE.MatchString(slug):
			d.addf(n, "slug", "slug %q 无效：应以小写字母开头，由 2–63 个小写字母、数字或 - 组成",
				"slug %q is invalid: want 2-63 lowercase letters, digits or -, starting with a letter", slug)
		case dirName != "" && slug != dirName:
			d.addf(n, "slug", "slug %q 与目录名 %q 不一致", "slug %q does not match the directory name %q", slug, dirName)
		}
	}

	t.NameZH, t.NameEN = d.bilingual(fields, "name", "", root)

	level, _, levelOK := d.required(fields, "level", "", root)
	t.Level = region.Level(level)

	t.ManagementArea, _ = d.boolean(fields, "management_area", "")

	if codeOK || levelOK {
		for _, v := range region.CheckNode(t.Node()) {
			// A missing field was reported as such; a second message about
			// its empty value would only add noise.
			if v.Field == "code" && !codeOK || v.Field == "level" && !levelOK {
				continue
			}
			d.add(fieldNode(fields, v.Field, root), v.Field, v.ZH, v.EN)
		}
	}

	if f, present := fields["parent"]; present && !isNull(f.value) {
		t.parentGiven = true
	}
	if parent, n, ok := d.optional(fields, "parent", ""); ok {
		t.ParentCode = parent
		// A parent always has children, so it is never a management area
		// and its code is always a GB/T 2260 code.
		if err := region.ValidateCode(t.ParentCode, false); err != nil {
			v := err.(*region.Violation)
			d.add(n, "parent", "上级"+v.ZH, "parent "+v.EN)
		}
	}

	t.Isolation = IsolationShared
	if iso, n, ok := d.optional(fields, "isolation", ""); ok {
		t.Isolation = Isolation(iso)
		if t.Isolation != IsolationShared && t.Isolation != IsolationDedicated {
			d.addf(n, "isolation", "隔离方式 %q 无效：应为 shared 或 dedicated",
				"isolation %q is invalid: want shared or dedicated", iso)
		}
	}

	t.TimeZone = DefaultTimeZone
	if tz, n, ok := d.optional(fields, "time_zone", ""); ok {
		_, err := time.LoadLocation(tz)
		switch {
		case tz == "Local":
			// time.LoadLocation accepts it, but it means whatever the server
			// happens to be set to.
			d.addf(n, "time_zone", "时区 %q 取决于服务器设置，请写 IANA 时区名（如 Asia/Shanghai）",
				"time zone %q depends on the server; write an IANA name such as Asia/Shanghai", tz)
		case err != nil:
			d.addf(n, "time_zone", "时区 %q 不是有效的 IANA 时区名（如 Asia/Shanghai）",
				"time zone %q is not a valid IANA name such as Asia/Shanghai", tz)
		default:
			t.TimeZone = tz
		}
	}

	if f, present := fields["admin"]; present && !isNull(f.value) {
		t.Admin = d.admin(f.value)
	}
	return t, d.probs
}

func (d *decoder) admin(n *yaml.Node) *Admin {
	m := d.mapping(n, "admin", "login", "display_name", "password")
	if m == nil {
		return nil
	}
	a := &Admin{Pos: d.pos(n)}
	if login, ln, ok := d.required(m, "login", "admin", n); ok {
		a.Login = login
		if !loginRE.MatchString(login) {
			d.addf(ln, "admin.login", "登录名 %q 无效：应为 1–64 个小写字母、数字或 . _ -，以字母或数字开头",
				"login %q is invalid: want 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", login)
		}
	}
	a.DisplayName, _, _ = d.optional(m, "display_name", "admin")
	if pw, pn, ok := d.optional(m, "password", "admin"); ok {
		// Secrets never live in manifests (CONVENTIONS, Configuration and
		// secrets); a literal here would end up in Git.
		if !strings.HasPrefix(pw, secretScheme) || len(pw) == len(secretScheme) {
			d.add(pn, "admin.password", "密码必须是密钥引用（secret://…），不能直接写密码",
				"password must be a secret reference (secret://...), never a literal password")
		} else {
			a.PasswordRef = pw
		}
	}
	return a
}

// fieldNode returns the value node of a top-level field, or at if absent.
func fieldNode(fields map[string]field, name string, at *yaml.Node) *yaml.Node {
	if f, ok := fields[name]; ok && f.value != nil {
		return f.value
	}
	return at
}
