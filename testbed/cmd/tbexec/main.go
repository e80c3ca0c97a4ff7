// Command tbexec is the last step of starting a test-bed pod: inside the
// pod's network and mount namespaces and its root, it takes the user,
// group, working directory, environment and command line of a container
// from a JSON file and execs the command, with nothing else inherited (the
// kubelet's container runtime does the same from the pod spec).
//
//	tbexec <spec.json>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// Spec is what tbexec reads.
type Spec struct {
	Argv   []string `json:"argv"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir"`
	UID    *int     `json:"uid"`
	GID    *int     `json:"gid"`
	Groups []int    `json:"groups"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tbexec <spec.json>")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		fail(err)
	}
	if len(s.Argv) == 0 {
		fail(fmt.Errorf("%s: no command", os.Args[1]))
	}
	if s.Dir != "" {
		if err := os.Chdir(s.Dir); err != nil {
			fail(err)
		}
	}
	if s.GID != nil {
		if err := syscall.Setgroups(s.Groups); err != nil {
			fail(err)
		}
		if err := syscall.Setresgid(*s.GID, *s.GID, *s.GID); err != nil {
			fail(err)
		}
	}
	if s.UID != nil {
		if err := syscall.Setresuid(*s.UID, *s.UID, *s.UID); err != nil {
			fail(err)
		}
	}
	bin := s.Argv[0]
	if !strings.Contains(bin, "/") {
		// Look the command up in the container's PATH, not ours.
		for _, kv := range s.Env {
			if p, ok := strings.CutPrefix(kv, "PATH="); ok {
				os.Setenv("PATH", p)
			}
		}
		if bin, err = exec.LookPath(s.Argv[0]); err != nil {
			fail(err)
		}
	}
	fail(syscall.Exec(bin, s.Argv, s.Env))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tbexec:", err)
	os.Exit(127)
}
