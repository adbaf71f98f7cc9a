// Command cityctl administers a CityOps deployment: it applies database
// migrations, onboards tenants from their manifests and shows the tenant
// tree. It reads the same configuration as the platform (-conf, or the
// embedded defaults with CITYOPS_* overrides).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/pkg/manifest"
	"github.com/cityops/cityops/app/platform/admin"
)

const usage = `cityctl — CityOps administration

Usage:
  cityctl [-conf FILE] [-lang zh-CN|en] migrate [-grant-app ROLE]
                                                       apply pending database migrations; on PostgreSQL
                                                       grant ROLE (the platform's login) what it needs
  cityctl [-conf FILE] [-lang zh-CN|en] migrate status     show the applied and latest versions
  cityctl [-conf FILE] [-lang zh-CN|en] tenant onboard DIR validate and load tenants/<slug> or a tree of them
  cityctl [-conf FILE] [-lang zh-CN|en] tenant tree [CODE] print the tenant tree (default root 000000)
  cityctl [-conf FILE] [-lang zh-CN|en] taxonomy seed|import|export CODE …
                                                       the tenant's component/event taxonomy (分类、立案条件、时限)
  cityctl [-conf FILE] [-lang zh-CN|en] grid import|export|locate|coverage CODE …
                                                       streets, communities, unit/patrol/responsibility grids
  cityctl [-conf FILE] [-lang zh-CN|en] component import|export|nearby CODE …
                                                       the component census (部件普查)
  cityctl sample grids|components CODE FILE [-cells N] [-count N] [-seed S]
                                                       generate a sample territory in the import formats
  cityctl [-conf FILE] [-lang zh-CN|en] auth rotate-key    add a new access-token signing key (no one is logged out)
  cityctl [-conf FILE] [-lang zh-CN|en] audit verify CODE|platform
                                                       verify an audit hash chain; exit 1 when broken
`

func main() {
	// kratos's config package logs through the process-wide logger; a CLI
	// shows warnings only.
	log.SetLogger(log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelWarn)))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cityctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	confPath := fs.String("conf", "", "config file (default: embedded defaults)")
	lang := fs.String("lang", langFromEnv(environ), "message language: zh-CN or en")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l := apierr.Lang(*lang)
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return 2
	}
	open := func() (*admin.Admin, func(), bool) {
		a, closeFn, err := admin.Open(ctx, *confPath, environ)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl:", err)
			return nil, nil, false
		}
		return a, closeFn, true
	}
	switch {
	case rest[0] == "migrate" && (len(rest) == 1 || rest[1] == "up" || strings.HasPrefix(rest[1], "-")):
		mfs := flag.NewFlagSet("migrate", flag.ContinueOnError)
		mfs.SetOutput(stderr)
		grant := mfs.String("grant-app", "", "PostgreSQL role of the platform to grant table privileges to")
		margs := rest[1:]
		if len(margs) > 0 && margs[0] == "up" {
			margs = margs[1:]
		}
		if err := mfs.Parse(margs); err != nil {
			return 2
		}
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		from, to, err := a.Migrate(ctx, *grant)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: migrate:", err)
			return 1
		}
		if from == to {
			fmt.Fprintf(stdout, msg(l, "数据库已是最新版本 %d（%s）\n", "database is up to date at version %d (%s)\n"), to, a.Driver)
		} else {
			fmt.Fprintf(stdout, msg(l, "数据库已从版本 %d 迁移到 %d（%s）\n", "migrated the database from version %d to %d (%s)\n"), from, to, a.Driver)
		}
		return 0
	case rest[0] == "migrate" && rest[1] == "status":
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		cur, latest, err := a.MigrationStatus(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: migrate status:", err)
			return 1
		}
		fmt.Fprintf(stdout, msg(l, "当前版本 %d，最新版本 %d\n", "applied %d, latest %d\n"), cur, latest)
		if cur != latest {
			return 3
		}
		return 0
	case rest[0] == "tenant" && len(rest) == 3 && rest[1] == "onboard":
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		return onboard(ctx, a, rest[2], l, stdout, stderr)
	case rest[0] == "auth" && len(rest) == 2 && rest[1] == "rotate-key":
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		kid, err := a.RotateSigningKey(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: rotate key:", err)
			return 1
		}
		fmt.Fprintf(stdout, msg(l, "新签名密钥 %s 已加入，旧密钥签发的令牌在到期前仍然有效\n", "added signing key %s; tokens of the previous key stay valid until they expire\n"), kid)
		return 0
	case rest[0] == "taxonomy":
		return runTaxonomy(ctx, rest[1:], l, open, stdout, stderr)
	case rest[0] == "grid":
		return runGrid(ctx, rest[1:], l, open, stdout, stderr)
	case rest[0] == "component":
		return runComponent(ctx, rest[1:], l, open, stdout, stderr)
	case rest[0] == "sample":
		return runSample(ctx, rest[1:], l, stdout, stderr)
	case rest[0] == "audit":
		return runAudit(ctx, rest[1:], l, open, stdout, stderr)
	case rest[0] == "tenant" && len(rest) >= 2 && rest[1] == "tree":
		code := "000000"
		if len(rest) > 2 {
			code = rest[2]
		}
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		n, err := a.Tree(ctx, code)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl:", apierr.NewLocalizer().Localize(err, l, "").Message)
			return 1
		}
		printTree(stdout, n, "", true, true)
		return 0
	}
	fs.Usage()
	return 2
}

func onboard(ctx context.Context, a *admin.Admin, path string, l string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, msg(l, "校验 %s …\n", "validating %s …\n"), path)
	sum, err := a.Onboard(ctx, path, func(s admin.Step) {
		state := msg(l, "未变", "unchanged")
		switch {
		case s.Result.Created:
			state = msg(l, "新建", "created")
		case s.Result.Updated:
			state = msg(l, "更新", "updated")
		}
		fmt.Fprintf(stdout, "%s %d/%d %-8s %s %s  %s, %s %d/%d\n", bar(s.Index, s.Total, 20), s.Index, s.Total,
			s.Tenant.Code, s.Tenant.NameZH, s.Tenant.Slug, state,
			msg(l, "部门 新建/更新", "departments created/updated"), s.Result.DepartmentsCreated, s.Result.DepartmentsUpdated)
	})
	if err != nil {
		var ps manifest.Problems
		if errors.As(err, &ps) {
			fmt.Fprintf(stderr, msg(l, "发现 %d 个问题，未写入任何数据：\n", "%d problem(s) found; nothing was written:\n"), len(ps))
			for _, p := range ps {
				fmt.Fprintln(stderr, "  "+p.Localize(l))
			}
			return 1
		}
		fmt.Fprintln(stderr, "cityctl: onboard:", err)
		return 1
	}
	fmt.Fprintf(stdout, msg(l, "完成：%d 个租户（新建 %d，更新 %d，未变 %d），部门新建 %d、更新 %d\n",
		"done: %d tenants (%d created, %d updated, %d unchanged), departments %d created, %d updated\n"),
		sum.Tenants, sum.Created, sum.Updated, sum.Unchanged, sum.DepartmentsCreated, sum.DepartmentsUpdated)
	if len(sum.Admins) > 0 {
		fmt.Fprintln(stdout, msg(l, "新建管理员的初始密码（只显示这一次，已存入密钥库）：", "first administrators' passwords (shown once; kept in the secret store):"))
		for _, c := range sum.Admins {
			fmt.Fprintf(stdout, "  %s %s  %s / %s\n", c.TenantCode, c.TenantName, c.Login, c.Password)
		}
	}
	return 0
}

func bar(i, n, width int) string {
	if n == 0 {
		return "[" + strings.Repeat("=", width) + "]"
	}
	done := i * width / n
	return "[" + strings.Repeat("=", done) + strings.Repeat(" ", width-done) + "]"
}

func printTree(w io.Writer, n *admin.TreeNode, prefix string, last, root bool) {
	t := n.Tenant
	line := fmt.Sprintf("%s %s (%s, %s)", t.Code, t.NameZH, t.Slug, t.Level)
	if t.Status != "active" {
		line += " [" + string(t.Status) + "]"
	}
	child := prefix
	if root {
		fmt.Fprintln(w, line)
	} else if last {
		fmt.Fprintln(w, prefix+"└── "+line)
		child += "    "
	} else {
		fmt.Fprintln(w, prefix+"├── "+line)
		child += "│   "
	}
	for i, c := range n.Children {
		printTree(w, c, child, i == len(n.Children)-1, false)
	}
}

func msg(lang, zh, en string) string {
	if lang == apierr.EN {
		return en
	}
	return zh
}

// langFromEnv maps LANG/LC_ALL (en_US.UTF-8, zh_CN.UTF-8) to a language tag.
func langFromEnv(environ []string) string {
	for _, key := range []string{"LC_ALL", "LANG"} {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, key+"="); ok && v != "" {
				return strings.ReplaceAll(strings.SplitN(v, ".", 2)[0], "_", "-")
			}
		}
	}
	return apierr.ZH
}
