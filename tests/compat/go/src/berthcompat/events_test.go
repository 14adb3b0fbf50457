package berthcompat

import (
	"context"
	"fmt"
	"testing"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/typeurl"
)

// client.Subscribe with a filter; envelopes decoded with typeurl.
func TestEventsSubscribeTaskExit(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	ns := nsOf(t, ctx)
	img := pullImage(t, ctx, c)
	ctr := newTestContainer(t, ctx, c, img, "compat-events", []string{"sh", "-c", "exit 3"}, nil)

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Only /tasks/exit of our namespace; a second filter (OR) for /tasks/start.
	evs, errs := c.Subscribe(sctx, fmt.Sprintf(`topic=="/tasks/exit",namespace==%q`, ns),
		fmt.Sprintf(`topic=="/tasks/start",namespace==%q`, ns))
	time.Sleep(200 * time.Millisecond) // the subscription is registered server-side

	task, err := ctr.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	ch, _ := task.Wait(ctx)
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitExit(t, ch, 30*time.Second)

	var gotStart, gotExit bool
	timeout := time.After(10 * time.Second)
	for !(gotStart && gotExit) {
		select {
		case env := <-evs:
			if env.Namespace != ns {
				t.Errorf("event of namespace %q passed the filter", env.Namespace)
				continue
			}
			v, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				t.Fatalf("UnmarshalAny(%s): %v", env.Event.TypeUrl, err)
			}
			switch e := v.(type) {
			case *apievents.TaskExit:
				if env.Topic != "/tasks/exit" {
					t.Errorf("TaskExit on topic %q", env.Topic)
				}
				if e.ContainerID != "compat-events" || e.ID != "compat-events" || e.ExitStatus != 3 ||
					e.Pid != task.Pid() || e.ExitedAt.IsZero() {
					t.Errorf("TaskExit = %+v, want container compat-events, status 3, pid %d", e, task.Pid())
				}
				gotExit = true
			case *apievents.TaskStart:
				if e.ContainerID != "compat-events" || e.Pid != task.Pid() {
					t.Errorf("TaskStart = %+v", e)
				}
				gotStart = true
			default:
				t.Errorf("event %T on topic %s passed the filter", v, env.Topic)
			}
			if env.Timestamp.IsZero() {
				t.Errorf("envelope without timestamp: %+v", env)
			}
		case err := <-errs:
			t.Fatalf("subscription error: %v", err)
		case <-timeout:
			t.Fatalf("events: start %v exit %v within 10s", gotStart, gotExit)
		}
	}
	task.Delete(ctx)
	// No /tasks/delete (filtered out) arrives.
	select {
	case env := <-evs:
		t.Errorf("unexpected event %s after the filtered ones", env.Topic)
	case <-time.After(500 * time.Millisecond):
	}
}
