package deploy_test

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dockerInstruction is one instruction of a Dockerfile, continuation lines
// joined.
type dockerInstruction struct {
	Line int
	Cmd  string // upper case
	Args string
}

func parseDockerfile(text string) []dockerInstruction {
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if rest, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func dockerfiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range deployFiles(t) {
		base := path.Base(f)
		if base == "Dockerfile" || (strings.HasSuffix(base, ".Dockerfile") || strings.HasSuffix(base, ".dockerfile")) {
			out = append(out, f)
		}
	}
	return out
}

var fromStage = regexp.MustCompile(`(?i)^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$`)

func TestDockerfiles(t *testing.T) {
	t.Parallel()
	files := dockerfiles(t)
	if !slices.Contains(files, "docker/platform.Dockerfile") {
		t.Fatalf("docker/platform.Dockerfile missing (found %v)", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			ins := parseDockerfile(string(readFile(t, f)))
			var stages []string
			var final []dockerInstruction // instructions of the last stage
			for _, in := range ins {
				switch in.Cmd {
				case "FROM":
					m := fromStage.FindStringSubmatch(in.Args)
					if m == nil {
						t.Errorf("line %d: cannot read FROM %q", in.Line, in.Args)
						continue
					}
					if !slices.Contains(stages, m[1]) && m[1] != "scratch" {
						checkImageRef(t, "FROM", m[1])
					}
					stages = append(stages, m[2])
					final = nil
				case "ADD":
					if strings.Contains(strings.ToLower(in.Args), "http://") || strings.Contains(strings.ToLower(in.Args), "https://") {
						t.Errorf("line %d: ADD of a URL; download in a RUN step with a checksum instead", in.Line)
					}
				case "COPY":
					for _, field := range strings.Fields(in.Args) {
						if from, ok := strings.CutPrefix(field, "--from="); ok && !slices.Contains(stages, from) {
							t.Errorf("line %d: COPY --from=%s names no earlier stage", in.Line, from)
						}
					}
				}
				final = append(final, in)
			}
			if len(stages) == 0 {
				t.Fatal("no FROM instruction")
			}
			if f != "docker/platform.Dockerfile" {
				return
			}
			if len(stages) < 2 {
				t.Errorf("want a multi-stage build, have %d stage(s)", len(stages))
			}
			all := func(cmd string) string {
				var parts []string
				for _, in := range ins {
					if in.Cmd == cmd {
						parts = append(parts, in.Args)
					}
				}
				return strings.Join(parts, "\n")
			}
			for _, want := range []struct{ cmd, text string }{
				{"FROM", "golang:1.26"},
				{"ENV", "CGO_ENABLED=0"},
				{"RUN", "./app/platform/cmd/platform"},
				{"RUN", "./app/cityctl"},
				{"COPY", "tenants/"},
				{"EXPOSE", "8000"},
				{"EXPOSE", "9000"},
			} {
				if !strings.Contains(all(want.cmd), want.text) {
					t.Errorf("no %s instruction containing %q", want.cmd, want.text)
				}
			}
			var user string
			for _, in := range final {
				if in.Cmd == "USER" {
					user = in.Args
				}
			}
			if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
				t.Errorf("final stage runs as %q; want a non-root USER", user)
			}
		})
	}
}
