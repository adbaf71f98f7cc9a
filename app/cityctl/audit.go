package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/platform/admin"
)

// auditUsage is the usage of the audit subcommands.
const auditUsage = `Usage:
  cityctl [-conf FILE] [-lang zh-CN|en] audit verify CODE|platform  verify a tenant's (or the platform's) audit chain; exit 1 when broken
`

// runAudit runs `cityctl audit …` (args are what follows "audit") and
// returns the exit code: 0 when the chain verifies, 1 when it is broken or
// cannot be read, 2 on a usage error. open opens the platform's database
// only once the arguments are known to be right.
func runAudit(ctx context.Context, args []string, l string, open func() (*admin.Admin, func(), bool), stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "verify" || args[1] == "" {
		fmt.Fprint(stderr, auditUsage)
		return 2
	}
	a, closeFn, ok := open()
	if !ok {
		return 1
	}
	defer closeFn()
	rep, err := a.VerifyAudit(ctx, args[1])
	if err != nil {
		fmt.Fprintln(stderr, "cityctl: audit verify:", apierr.NewLocalizer().Localize(err, l, "").Message)
		return 1
	}
	printAuditReport(stdout, rep, l)
	if !rep.OK {
		return 1
	}
	return 0
}

// printAuditReport prints rep in language l, one line per problem.
func printAuditReport(w io.Writer, rep admin.AuditReport, l string) {
	if rep.OK {
		fmt.Fprintf(w, msg(l, "审计链 %s：共 %d 条记录，校验通过\n", "audit chain %s: %d entries, verified\n"), rep.Chain, rep.Entries)
		return
	}
	fmt.Fprintf(w, msg(l, "审计链 %s：共 %d 条记录，发现 %d 个问题（链已被破坏）：\n", "audit chain %s: %d entries, %d problem(s) found (the chain is broken):\n"),
		rep.Chain, rep.Entries, len(rep.Problems))
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "  "+describeProblem(p, l))
	}
	if len(rep.Problems) >= admin.AuditMaxProblems {
		fmt.Fprintf(w, "  "+msg(l, "（仅列出前 %d 个问题）\n", "(only the first %d problems are listed)\n"), admin.AuditMaxProblems)
	}
}

// describeProblem phrases one problem; English uses the report's own
// detail, Chinese is built from the kind and the numbers.
func describeProblem(p admin.AuditProblem, l string) string {
	if l == apierr.EN {
		s := fmt.Sprintf("entry %d: %s: %s", p.Seq, p.Kind, p.Detail)
		if p.Kind == admin.AuditAltered || p.Kind == admin.AuditBrokenLink {
			s += fmt.Sprintf(" (want %s, got %s)", short(p.Want, l), short(p.Got, l))
		}
		return s
	}
	switch p.Kind {
	case admin.AuditAltered:
		return fmt.Sprintf("第 %d 条：内容已被篡改（哈希应为 %s，重新计算为 %s）", p.Seq, short(p.Want, l), short(p.Got, l))
	case admin.AuditGap:
		if p.Want == strconv.FormatInt(p.Seq-1, 10) {
			return fmt.Sprintf("第 %d 条之前：缺少第 %s 条记录（已被删除）", p.Seq, p.Want)
		}
		return fmt.Sprintf("第 %d 条之前：缺少第 %s 至 %d 条记录（已被删除）", p.Seq, p.Want, p.Seq-1)
	case admin.AuditBrokenLink:
		return fmt.Sprintf("第 %d 条：前序哈希与上一条不符（应为 %s，实为 %s），记录被替换或重算", p.Seq, short(p.Want, l), short(p.Got, l))
	case admin.AuditTailMismatch:
		want, _, _ := strings.Cut(p.Want, ":")
		got, _, _ := strings.Cut(p.Got, ":")
		return fmt.Sprintf("链尾：链头记录到第 %s 条，链实际止于第 %s 条（末尾记录被删除或重算）", want, got)
	case admin.AuditUnheaded:
		return fmt.Sprintf("第 %d 条起：存在链头未记录的条目（最大序号 %s），疑为绕过平台写入", p.Seq, p.Got)
	}
	return fmt.Sprintf("第 %d 条：%s", p.Seq, p.Detail)
}

// short abbreviates a hash for display; the full values are in the API.
func short(h, l string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return msg(l, "（空）", "(empty)")
	}
	return h
}
