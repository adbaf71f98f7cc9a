package supervision

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

// runningStates are the states whose stage clock runs, with the stage.
// A hung case's clock stands still (caseflow moves the deadline on
// resume); reported, feedback and the final states have none.
var runningStates = map[caseflow.State]caseflow.Stage{
	caseflow.StateVerifyPending: caseflow.StageVerify,
	caseflow.StateFiled:         caseflow.StageDispatch,
	caseflow.StateDispatched:    caseflow.StageDispose,
	caseflow.StateInDisposal:    caseflow.StageDispose,
	// Waiting for an approval does not stop the department's clock.
	caseflow.StateReturnPending: caseflow.StageDispose,
	caseflow.StateDelayPending:  caseflow.StageDispose,
	caseflow.StateHangPending:   caseflow.StageDispose,
	caseflow.StateCheckPending:  caseflow.StageCheck,
	caseflow.StateClosePending:  caseflow.StageClose,
}

// RunningStates lists the states whose stage clock supervision watches,
// for the storage query.
func RunningStates() []caseflow.State {
	return []caseflow.State{
		caseflow.StateVerifyPending, caseflow.StateFiled, caseflow.StateDispatched, caseflow.StateInDisposal,
		caseflow.StateReturnPending, caseflow.StateDelayPending, caseflow.StateHangPending,
		caseflow.StateCheckPending, caseflow.StateClosePending,
	}
}

// clock returns the running stage of c and its deadline; ok is false when
// no clock runs (or the stage has no deadline).
func clock(c *caseflow.Case) (stage caseflow.Stage, deadline time.Time, ok bool) {
	stage, running := runningStates[c.State]
	if !running {
		return "", time.Time{}, false
	}
	var d *time.Time
	switch stage {
	case caseflow.StageVerify:
		d = c.VerifyDeadline
	case caseflow.StageDispatch:
		d = c.DispatchDeadline
	case caseflow.StageDispose:
		d = c.DisposeDeadline
	case caseflow.StageCheck:
		d = c.CheckDeadline
	case caseflow.StageClose:
		d = c.CloseDeadline
	}
	if d == nil {
		return stage, time.Time{}, false
	}
	return stage, *d, true
}

// overdueFor is how long c's running stage is past its deadline at now; 0
// when it is not.
func overdueFor(c *caseflow.Case, now time.Time) time.Duration {
	_, d, ok := clock(c)
	if !ok || !now.After(d) {
		return 0
	}
	return now.Sub(d)
}

// remindDue: the disposal deadline is within th.remindBefore (and not yet
// passed: after it, the 超期 mark says more), and the reminder was not sent
// for this deadline; an extension moves the deadline and so re-arms it.
func remindDue(c *caseflow.Case, now time.Time, th thresholds) bool {
	stage, d, ok := clock(c)
	if !ok || stage != caseflow.StageDispose {
		return false
	}
	if now.Before(d.Add(-th.remindBefore)) || now.After(d) {
		return false
	}
	return c.PreRemindedFor == nil || !c.PreRemindedFor.Equal(d)
}

// overdueDue: the running stage's deadline passed and the case was not
// marked overdue since that deadline. The Overdue flag itself stays set
// once a case was late (scoring counts it); OverdueAt re-arms the mark for
// a later stage's deadline or a moved one, as PreRemindedFor does for the
// reminder.
func overdueDue(c *caseflow.Case, now time.Time) bool {
	_, d, ok := clock(c)
	if !ok || !now.After(d) {
		return false
	}
	return c.OverdueAt == nil || !c.OverdueAt.After(d)
}

// superviseDue: overdue for at least th.superviseAfter and not supervised.
func superviseDue(c *caseflow.Case, now time.Time, th thresholds) bool {
	o := overdueFor(c, now)
	return o > 0 && o >= th.superviseAfter && !c.Supervised
}

// escalateDue: overdue for at least the level's minutes and the level not
// yet reached.
func escalateDue(c *caseflow.Case, now time.Time, l Level) bool {
	o := overdueFor(c, now)
	return o > 0 && o >= time.Duration(l.AfterMinutes)*time.Minute && l.Level > c.EscalationLevel
}

// supervisable reports whether a case is still being worked on.
func supervisable(s caseflow.State) bool {
	switch s {
	case caseflow.StateDraft, caseflow.StateRejected, caseflow.StateMerged, caseflow.StateClosed, caseflow.StateVoided:
		return false
	}
	return true
}

// stageNames are the stages in Chinese and English, for messages.
var stageNames = map[caseflow.Stage][2]string{
	caseflow.StageVerify:   {"核实", "verification"},
	caseflow.StageDispatch: {"立案派遣", "filing and dispatch"},
	caseflow.StageDispose:  {"处置", "disposal"},
	caseflow.StageCheck:    {"核查", "check"},
	caseflow.StageClose:    {"结案", "closing"},
}

// stageRecipients are who answers for a stage: the department for
// disposal (the dispatcher when none is set), the post otherwise.
func stageRecipients(c *caseflow.Case, stage caseflow.Stage) []Recipient {
	switch stage {
	case caseflow.StageVerify, caseflow.StageCheck:
		return []Recipient{{ToRole, viewer.RoleSupervisor}}
	case caseflow.StageDispatch:
		return []Recipient{{ToRole, viewer.RoleDispatcher}}
	case caseflow.StageClose:
		return []Recipient{{ToRole, viewer.RoleShiftLeader}}
	}
	if c.PrimaryDepartmentCode != "" {
		return []Recipient{{ToDepartment, c.PrimaryDepartmentCode}}
	}
	return []Recipient{{ToRole, viewer.RoleDispatcher}}
}

// cst is China Standard Time, in which messages show times (no daylight
// saving, so no time zone database is needed).
var cst = time.FixedZone("CST", 8*60*60)

func showTime(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04") }

// showDuration prints a duration in whole days, hours and minutes,
// leaving out a zero smaller unit.
func showDuration(d time.Duration) (zh, en string) {
	m := int(d / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%d天%d小时", days, hours), fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%d天", days), fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%d小时%d分钟", hours, mins), fmt.Sprintf("%dh %dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%d小时", hours), fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%d分钟", mins), fmt.Sprintf("%dm", mins)
}

// message is a notification text in both languages.
type message struct{ zh, en string }

func remindMessage(number string, deadline time.Time) message {
	return message{
		fmt.Sprintf("催办：案件 %s 的处置时限将于 %s 到期，请抓紧处置并反馈", number, showTime(deadline)),
		fmt.Sprintf("Reminder: case %s is due for disposal at %s (UTC+8); dispose of it and report back", number, showTime(deadline)),
	}
}

func overdueMessage(number string, stage caseflow.Stage, deadline time.Time) message {
	n := stageNames[stage]
	return message{
		fmt.Sprintf("超期：案件 %s 已超过%s时限（%s 到期）", number, n[0], showTime(deadline)),
		fmt.Sprintf("Overdue: case %s missed its %s deadline (%s UTC+8)", number, n[1], showTime(deadline)),
	}
}

func superviseMessage(number, reason string, deadline *time.Time) message {
	zh := fmt.Sprintf("督办：案件 %s 已被督办（%s）", number, reason)
	en := fmt.Sprintf("Supervision: case %s is under supervision (%s)", number, reason)
	if deadline != nil {
		zh += fmt.Sprintf("，请于 %s 前办理并反馈", showTime(*deadline))
		en += fmt.Sprintf("; act and reply by %s UTC+8", showTime(*deadline))
	}
	return message{zh, en}
}

func answeredMessage(number string, id int, dep string) message {
	return message{
		fmt.Sprintf("督办反馈：%s 已反馈案件 %s 的督办单 %d", dep, number, id),
		fmt.Sprintf("Supervision reply: %s answered order %d on case %s", dep, id, number),
	}
}

func escalateMessage(number string, l Level, overdue time.Duration) message {
	zh, en := showDuration(overdue)
	return message{
		fmt.Sprintf("升级：案件 %s 已超期 %s，升级至%s（第 %d 级）", number, zh, l.NameZH, l.Level),
		fmt.Sprintf("Escalation: case %s has been overdue for %s; escalated to level %d (%s)", number, en, l.Level, l.NameZH),
	}
}

// truncate keeps s within n bytes, cut at a character boundary (the
// columns are bounded in bytes; Chinese takes three a character).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
