package berthcompat

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
)

// berthd is killed (SIGKILL) and started again on the same dirs while a task writes a line
// every 100 ms; a new client re-attaches (LoadContainer -> Task(NewAttach)) and reads new output.
func TestRestartReattach(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 150*time.Second)
	img := pullImage(t, ctx, c)
	id := "compat-restart"
	ctr := newTestContainer(t, ctx, c, img, id, tickerArgs, nil)
	task, first, direct := startTicker(t, ctx, ctr)
	pid := task.Pid()
	direct.Stdout.Close() // the first client goes away

	berthd.Stop(syscall.SIGKILL)
	if err := berthd.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if len(first.String()) == 0 {
		t.Fatalf("no output before the restart")
	}

	c2 := newClient(t)
	ctr2, err := c2.LoadContainer(ctx, id)
	if err != nil {
		t.Fatalf("LoadContainer after restart: %v", err)
	}
	var out syncBuffer
	task2, err := ctr2.Task(ctx, cio.NewAttach(cio.WithStreams(nil, &out, nil)))
	if err != nil {
		t.Fatalf("Task(NewAttach) after restart: %v", err)
	}
	if task2.Pid() != pid {
		t.Errorf("pid after restart %d, want %d", task2.Pid(), pid)
	}
	if st, err := task2.Status(ctx); err != nil || st.Status != containerd.Running {
		t.Errorf("Status after restart = %+v, %v; want running", st, err)
	}
	if !waitFor(10*time.Second, func() bool { return strings.Count(out.String(), "tick") >= 5 }) {
		t.Fatalf("re-attached reader got %q in 10s; want new ticks", out.String())
	}
	// The restored task still takes signals and reports its exit.
	ch, err := task2.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait after restart: %v", err)
	}
	if err := task2.Kill(ctx, syscall.SIGKILL); err != nil {
		t.Fatalf("Kill after restart: %v", err)
	}
	select {
	case st := <-ch:
		if st.ExitCode() != 137 {
			t.Errorf("exit after SIGKILL %d, want 137", st.ExitCode())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit after SIGKILL (restored task)")
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := task2.Delete(sctx); err != nil {
		t.Errorf("Delete after restart: %v", err)
	}
	// Through the new client: the first one may still be in its reconnect backoff.
	if err := ctr2.Delete(sctx, containerd.WithSnapshotCleanup); err != nil {
		t.Errorf("container Delete after restart: %v", err)
	}
}
