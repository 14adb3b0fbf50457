package berthcompat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/runtime/linux/runctypes"
	"github.com/containerd/containerd/runtime/v2/runc/options"
)

// A runtime binary that does not exist: NewTask fails and says which binary.
func TestRuntimeBinaryNameMissing(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 120*time.Second)
	img := pullImage(t, ctx, c)
	cases := []struct {
		name    string
		runtime string
		opts    interface{}
	}{
		{"runc.v2", "io.containerd.runc.v2", &options.Options{BinaryName: "/nonexistent/runc"}},
		{"runc.v1", "io.containerd.runc.v1", &options.Options{BinaryName: "/nonexistent/runc"}},
		{"linux.v1", "io.containerd.runtime.v1.linux", &runctypes.RuncOptions{Runtime: "/nonexistent/runc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "compat-badrt-" + strings.ReplaceAll(tc.name, ".", "-")
			ctr := newTestContainer(t, ctx, c, img, id, []string{"true"}, nil, containerd.WithRuntime(tc.runtime, tc.opts))
			task, err := ctr.NewTask(ctx, cio.NullIO)
			if err == nil {
				task.Delete(ctx, containerd.WithProcessKill)
				t.Fatalf("NewTask with runtime %s binary /nonexistent/runc succeeded", tc.runtime)
			}
			if !strings.Contains(err.Error(), "/nonexistent/runc") {
				t.Errorf("NewTask error %q does not name /nonexistent/runc", err)
			}
			t.Logf("error: %v", err)
			// Nothing is left behind: a task with that id does not exist.
			if _, err := ctr.Task(ctx, nil); err == nil {
				t.Errorf("a task exists after the failed create")
			}
		})
	}
}

// runc option ShimCgroup: the shim moves itself into that cgroup.
func TestRuntimeShimCgroup(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	cg := fmt.Sprintf("/berth-compat-shim-%d", os.Getpid())
	// cgroup v2: one group. v1: the group in the pids and memory hierarchies only (a fresh
	// cpuset group has no cpus/mems and refuses processes; containerd's loader skips
	// hierarchies without the path).
	var made []string
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	v2 := err == nil
	if v2 {
		made = append(made, filepath.Join("/sys/fs/cgroup", cg))
	} else {
		ents, _ := os.ReadDir("/sys/fs/cgroup")
		for _, e := range ents {
			if e.IsDir() && (e.Name() == "pids" || e.Name() == "memory") {
				made = append(made, filepath.Join("/sys/fs/cgroup", e.Name(), cg))
			}
		}
	}
	for _, d := range made {
		if err := os.Mkdir(d, 0755); err != nil {
			t.Fatalf("mkdir %s: %v", d, err)
		}
	}
	defer func() {
		for _, d := range made {
			// The shim has exited by now (task deleted by the cleanup below runs later: retry).
			waitFor(10*time.Second, func() bool { return syscall.Rmdir(d) == nil || os.IsNotExist(syscall.Rmdir(d)) })
		}
	}()
	id := "compat-shimcg"
	ctr := newTestContainer(t, ctx, c, img, id, []string{"sleep", "30"}, nil,
		containerd.WithRuntime("io.containerd.runc.v2", &options.Options{ShimCgroup: cg}))
	task, err := ctr.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	defer func() {
		task.Kill(ctx, syscall.SIGKILL)
		if ch, err := task.Wait(ctx); err == nil {
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
			}
		}
		task.Delete(ctx)
	}()
	pid := shimPid(t, nsOf(t, ctx), id)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("/proc/%d/cgroup: %v", pid, err)
	}
	inGroup := false
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && ((v2 && f[0] == "0") || (!v2 && (strings.Contains(f[1], "pids") || strings.Contains(f[1], "memory")))) {
			if f[2] != cg {
				t.Errorf("shim %d cgroup line %q, want path %s", pid, line, cg)
			}
			inGroup = inGroup || f[2] == cg
		}
	}
	if !inGroup {
		t.Errorf("shim %d not in %s:\n%s", pid, cg, b)
	}
	// The task itself stays in its own cgroup.
	tb, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", task.Pid()))
	if strings.Contains(string(tb), cg) {
		t.Errorf("the task is in the shim's cgroup:\n%s", tb)
	}
}
