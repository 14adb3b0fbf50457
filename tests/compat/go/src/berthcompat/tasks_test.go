package berthcompat

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1stats "github.com/containerd/cgroups/stats/v1"
	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/typeurl"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fifoDir keeps the client's fifos in our temp dir (not /run/containerd/fifo).
func fifoDir() cio.Opt { return cio.WithFIFODir(filepath.Join(workDir, "fifo")) }

// newTestContainer: WithNewSnapshot + WithNewSpec(WithImageConfig, WithProcessArgs, more...).
func newTestContainer(t *testing.T, ctx context.Context, c *containerd.Client, img containerd.Image, id string,
	args []string, specOpts []oci.SpecOpts, opts ...containerd.NewContainerOpts) containerd.Container {
	t.Helper()
	so := append([]oci.SpecOpts{oci.WithImageConfig(img), oci.WithProcessArgs(args...)}, specOpts...)
	all := append([]containerd.NewContainerOpts{containerd.WithNewSnapshot(id+"-snap", img), containerd.WithNewSpec(so...)}, opts...)
	ctr, err := c.NewContainer(ctx, id, all...)
	if err != nil {
		t.Fatalf("NewContainer(%s): %v", id, err)
	}
	cleanupContainer(t, c, nsOf(t, ctx), id)
	return ctr
}

func waitExit(t *testing.T, ch <-chan containerd.ExitStatus, d time.Duration) containerd.ExitStatus {
	t.Helper()
	select {
	case st := <-ch:
		return st
	case <-time.After(d):
		t.Fatalf("no exit within %v", d)
	}
	return containerd.ExitStatus{}
}

// Pull from the local registry with unpack; the image is unpacked; container from it.
func TestPullAndNewContainer(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	if img.Name() != imageRef {
		t.Errorf("image name %q, want %q", img.Name(), imageRef)
	}
	ok, err := img.IsUnpacked(ctx, containerd.DefaultSnapshotter)
	if err != nil || !ok {
		t.Errorf("IsUnpacked = %v, %v; want true", ok, err)
	}
	if got, err := c.GetImage(ctx, imageRef); err != nil || got.Target().Digest != img.Target().Digest {
		t.Errorf("GetImage: %v", err)
	}
	// A second pull of the same reference is a no-op that succeeds.
	if _, err := c.Pull(ctx, imageRef, containerd.WithPullUnpack, plainHTTPResolver()); err != nil {
		t.Errorf("second Pull: %v", err)
	}
	ctr := newTestContainer(t, ctx, c, img, "compat-ctr", []string{"echo", "hi"}, nil,
		containerd.WithContainerLabels(map[string]string{"l": "v"}))
	info, err := ctr.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Image != imageRef || info.SnapshotKey != "compat-ctr-snap" || info.Snapshotter == "" ||
		info.Runtime.Name != "io.containerd.runc.v2" || info.Labels["l"] != "v" {
		t.Errorf("container info = %+v", info)
	}
	spec, err := ctr.Spec(ctx)
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	if strings.Join(spec.Process.Args, " ") != "echo hi" || spec.Root == nil || spec.Root.Path != "rootfs" {
		t.Errorf("spec process %+v root %+v", spec.Process, spec.Root)
	}
	if _, err := c.NewContainer(ctx, "compat-ctr", containerd.WithNewSpec()); !errdefs.IsAlreadyExists(err) {
		t.Errorf("NewContainer with an existing id: %v, want AlreadyExists", err)
	}
	mounts, err := c.SnapshotService(info.Snapshotter).Mounts(ctx, info.SnapshotKey)
	if err != nil || len(mounts) == 0 {
		t.Errorf("snapshot Mounts = %+v, %v", mounts, err)
	}
}

// A task with captured stdout; Wait before Start; Delete returns the exit status.
func TestTaskStdoutAndExitStatus(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	ctr := newTestContainer(t, ctx, c, img, "compat-echo",
		[]string{"sh", "-c", "echo out-line; echo err-line >&2; exit 7"}, nil)
	var out, errb syncBuffer
	task, err := ctr.NewTask(ctx, cio.NewCreator(cio.WithStreams(nil, &out, &errb), fifoDir()))
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	if task.Pid() == 0 {
		t.Errorf("Pid() = 0 after create")
	}
	if st, err := task.Status(ctx); err != nil || st.Status != containerd.Created {
		t.Errorf("Status after create = %+v, %v; want created", st, err)
	}
	ch, err := task.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitExit(t, ch, 30*time.Second)
	if st.ExitCode() != 7 || st.ExitTime().IsZero() {
		t.Errorf("exit = %d at %v (%v), want 7", st.ExitCode(), st.ExitTime(), st.Error())
	}
	task.CloseIO(ctx, containerd.WithStdinCloser)
	task.IO().Wait()
	if out.String() != "out-line\n" || errb.String() != "err-line\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
	if s, err := task.Status(ctx); err != nil || s.Status != containerd.Stopped || s.ExitStatus != 7 {
		t.Errorf("Status after exit = %+v, %v; want stopped/7", s, err)
	}
	es, err := task.Delete(ctx)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if es.ExitCode() != 7 {
		t.Errorf("Delete exit status %d, want 7", es.ExitCode())
	}
	if _, err := ctr.Task(ctx, nil); !errdefs.IsNotFound(err) {
		t.Errorf("Task after Delete: %v, want NotFound", err)
	}
}

// cio.NullIO: the task runs with no fifos.
func TestTaskNullIO(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	ctr := newTestContainer(t, ctx, c, img, "compat-null", []string{"sh", "-c", "echo to-nowhere; exit 3"}, nil)
	task, err := ctr.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatalf("NewTask(NullIO): %v", err)
	}
	ch, err := task.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if st := waitExit(t, ch, 30*time.Second); st.ExitCode() != 3 {
		t.Errorf("exit %d (%v), want 3", st.ExitCode(), st.Error())
	}
	if _, err := task.Delete(ctx); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

// startTicker starts a task printing "tick N" every 100 ms, its stdout read through a
// DirectIO whose reader the caller can close without removing the fifos (a client that
// goes away). Returns the task and the output seen through that first reader.
func startTicker(t *testing.T, ctx context.Context, ctr containerd.Container) (containerd.Task, *syncBuffer, *cio.DirectIO) {
	t.Helper()
	var direct *cio.DirectIO
	creator := func(id string) (cio.IO, error) {
		fifos, err := cio.NewFIFOSetInDir(filepath.Join(workDir, "fifo"), id, false)
		if err != nil {
			return nil, err
		}
		fifos.Stdin = ""
		fifos.Stderr = ""
		direct, err = cio.NewDirectIO(context.Background(), fifos)
		return direct, err
	}
	task, err := ctr.NewTask(ctx, creator)
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	out := &syncBuffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := direct.Stdout.Read(buf)
			if n > 0 {
				out.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !waitFor(15*time.Second, func() bool { return strings.Contains(out.String(), "tick 3\n") }) {
		t.Fatalf("first reader saw %q, want ticks", out.String())
	}
	return task, out, direct
}

var tickerArgs = []string{"sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"}

// Attach to a running task's IO (container.Task with cio.NewAttach) after the first
// reader went away: the new reader gets the new output.
func TestTaskAttachExistingIO(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	ctr := newTestContainer(t, ctx, c, img, "compat-attach", tickerArgs, nil)
	_, first, direct := startTicker(t, ctx, ctr)
	direct.Stdout.Close() // the first client leaves; the fifo files stay
	time.Sleep(300 * time.Millisecond)
	seen := len(first.String())

	var out syncBuffer
	task, err := ctr.Task(ctx, cio.NewAttach(cio.WithStreams(nil, &out, nil)))
	if err != nil {
		t.Fatalf("Task(NewAttach): %v", err)
	}
	if !waitFor(10*time.Second, func() bool { return strings.Count(out.String(), "tick") >= 5 }) {
		t.Fatalf("attached reader got %q in 10s (first reader had %d bytes); want new ticks", out.String(), seen)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != containerd.Running {
		t.Errorf("Status = %+v, %v; want running", st, err)
	}
	task.Kill(ctx, syscall.SIGKILL)
}

// Exec with its own IO, Pids, Metrics, Update, Pause/Resume, Kill, Wait, Delete.
func TestTaskExecPidsMetricsUpdatePause(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 120*time.Second)
	img := pullImage(t, ctx, c)
	ctr := newTestContainer(t, ctx, c, img, "compat-life", []string{"sleep", "300"}, nil)
	task, err := ctr.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	ch, err := task.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}

	// Exec with its own IO and exit code.
	spec, err := ctr.Spec(ctx)
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	pspec := *spec.Process
	pspec.Args = []string{"sh", "-c", "echo exec-out $$; exit 5"}
	var eout syncBuffer
	proc, err := task.Exec(ctx, "compat-exec1", &pspec, cio.NewCreator(cio.WithStreams(nil, &eout, &eout), fifoDir()))
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	pch, err := proc.Wait(ctx)
	if err != nil {
		t.Fatalf("exec Wait: %v", err)
	}
	if err := proc.Start(ctx); err != nil {
		t.Fatalf("exec Start: %v", err)
	}
	if st := waitExit(t, pch, 30*time.Second); st.ExitCode() != 5 {
		t.Errorf("exec exit %d (%v), want 5", st.ExitCode(), st.Error())
	}
	proc.IO().Wait()
	if !strings.HasPrefix(eout.String(), "exec-out ") {
		t.Errorf("exec output %q", eout.String())
	}
	if es, err := proc.Delete(ctx); err != nil || es.ExitCode() != 5 {
		t.Errorf("exec Delete = %v, %v; want exit 5", es, err)
	}
	if _, err := task.Exec(ctx, "compat-exec1", &pspec, cio.NullIO); err != nil {
		t.Errorf("Exec reusing a deleted exec id: %v", err)
	} else if p, err := task.LoadProcess(ctx, "compat-exec1", nil); err == nil {
		p.Delete(ctx)
	}

	// Pids: the init process at least.
	pids, err := task.Pids(ctx)
	if err != nil {
		t.Fatalf("Pids: %v", err)
	}
	found := false
	for _, p := range pids {
		found = found || p.Pid == task.Pid()
	}
	if !found {
		t.Errorf("Pids = %+v, want %d among them", pids, task.Pid())
	}

	// Metrics: cgroup v1 stats, decodable with typeurl.
	m, err := task.Metrics(ctx)
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	if m.ID != "compat-life" || m.Data == nil {
		t.Errorf("Metrics = %+v", m)
	} else if v, err := typeurl.UnmarshalAny(m.Data); err != nil {
		t.Errorf("Metrics data %q: %v", m.Data.TypeUrl, err)
	} else if s, ok := v.(*v1stats.Metrics); !ok {
		t.Errorf("Metrics data is %T, want cgroups v1 Metrics", v)
	} else if s.Pids == nil || s.Pids.Current == 0 || s.Memory == nil || s.Memory.Usage == nil || s.Memory.Usage.Usage == 0 {
		t.Errorf("Metrics pids %+v memory %+v, want non-zero", s.Pids, s.Memory)
	}

	// Update: a memory limit lands in the task's cgroup.
	limit := int64(64 << 20)
	if err := task.Update(ctx, containerd.WithResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}})); err != nil {
		t.Errorf("Update: %v", err)
	} else if got := memoryLimit(t, int(task.Pid())); got != fmt.Sprint(limit) {
		t.Errorf("memory.limit_in_bytes = %q after Update, want %d", got, limit)
	}

	// Pause / Resume / Status.
	if err := task.Pause(ctx); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != containerd.Paused {
		t.Errorf("Status after Pause = %+v, %v; want paused", st, err)
	}
	if err := task.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != containerd.Running {
		t.Errorf("Status after Resume = %+v, %v; want running", st, err)
	}

	// Deleting a running task is refused.
	if _, err := task.Delete(ctx); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("Delete of a running task: %v, want FailedPrecondition", err)
	}
	// Kill, Wait, Delete. (sleep is pid 1 of its pid namespace: SIGTERM would be ignored.)
	if err := task.Kill(ctx, syscall.SIGKILL); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	st := waitExit(t, ch, 30*time.Second)
	if st.ExitCode() != 128+uint32(syscall.SIGKILL) {
		t.Errorf("exit after SIGKILL: %d, want %d", st.ExitCode(), 128+syscall.SIGKILL)
	}
	es, err := task.Delete(ctx)
	if err != nil || es.ExitCode() != st.ExitCode() {
		t.Errorf("Delete = %v, %v; want exit %d", es, err, st.ExitCode())
	}
	if err := task.Kill(ctx, syscall.SIGKILL); !errdefs.IsNotFound(err) {
		t.Errorf("Kill of a deleted task: %v, want NotFound", err)
	}
}

// memoryLimit reads memory.limit_in_bytes of pid's memory cgroup (cgroup v1) or memory.max (v2).
func memoryLimit(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("cgroup of %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, ctl := range strings.Split(f[1], ",") {
			if ctl == "memory" {
				v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/memory", f[2], "memory.limit_in_bytes"))
				if err != nil {
					t.Fatalf("memory limit: %v", err)
				}
				return strings.TrimSpace(string(v))
			}
		}
		if f[1] == "" && f[0] == "0" {
			if v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", f[2], "memory.max")); err == nil {
				return strings.TrimSpace(string(v))
			}
		}
	}
	t.Fatalf("no memory cgroup for %d in %s", pid, b)
	return ""
}
