package berthcompat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/runc/options"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The counter: /tmp/n counts up ten times a second.
var counterArgs = []string{"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done"}

// ---- no criu needed

// Checkpoint without a task, and Tasks.Create with a checkpoint descriptor berthd cannot use:
// the errors containerd gives, and nothing is left behind.
func TestCheckpointRestoreErrors(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	ns := nsOf(t, ctx)
	id := "compat-ck-notask"
	ctr := newTestContainer(t, ctx, c, img, id, []string{"true"}, nil)

	// container.Checkpoint with WithCheckpointTask: the container has no task.
	if _, err := ctr.Checkpoint(ctx, "compat-ck-notask:1", containerd.WithCheckpointTask); !errdefs.IsNotFound(err) {
		t.Errorf("container Checkpoint(WithCheckpointTask) without a task: %v, want NotFound", err)
	}
	if _, err := c.GetImage(ctx, "compat-ck-notask:1"); !errdefs.IsNotFound(err) {
		t.Errorf("GetImage after the failed checkpoint: %v, want NotFound (no image)", err)
	}
	// Tasks.Checkpoint itself: a container without a task, a container that does not exist.
	for _, cid := range []string{id, "compat-ck-nosuch"} {
		_, err := c.TaskService().Checkpoint(ctx, &tasksapi.CheckpointTaskRequest{ContainerID: cid})
		if err = errdefs.FromGRPC(err); !errdefs.IsNotFound(err) {
			t.Errorf("Tasks.Checkpoint(%s): %v, want NotFound", cid, err)
		}
	}

	// Tasks.Create with a checkpoint descriptor (what WithTaskCheckpoint sets).
	absent := digest.FromString("berth compat-go: a checkpoint that is not in the content store")
	withCheckpoint := func(mediaType string) containerd.NewTaskOpts {
		return func(_ context.Context, _ *containerd.Client, info *containerd.TaskInfo) error {
			info.Checkpoint = &types.Descriptor{MediaType: mediaType, Digest: absent, Size_: 1234}
			return nil
		}
	}
	cases := []struct {
		name, mediaType string
		want            func(error) bool
		kind, text      string
	}{
		{"unknown media type", "application/vnd.example.not-a-checkpoint", errdefs.IsInvalidArgument, "InvalidArgument",
			"unsupported checkpoint type"},
		{"criu tar not in the store", images.MediaTypeContainerd1Checkpoint, errdefs.IsNotFound, "NotFound", ""},
	}
	for _, tc := range cases {
		task, err := ctr.NewTask(ctx, cio.NullIO, withCheckpoint(tc.mediaType))
		if err == nil {
			task.Delete(ctx, containerd.WithProcessKill)
			t.Errorf("NewTask with a checkpoint (%s) succeeded", tc.name)
			continue
		}
		if !tc.want(err) || !strings.Contains(err.Error(), tc.text) {
			want := tc.kind
			if tc.text != "" {
				want += fmt.Sprintf(" saying %q", tc.text)
			}
			t.Errorf("NewTask with a checkpoint (%s): %v, want %s", tc.name, err, want)
		}
		t.Logf("%s: %v", tc.name, err)
		if _, err := ctr.Task(ctx, nil); !errdefs.IsNotFound(err) {
			t.Errorf("Task after the failed create (%s): %v, want NotFound", tc.name, err)
		}
		if b := bundleOf(ns, id); b != "" {
			t.Errorf("bundle %s left after the failed create (%s)", b, tc.name)
		}
	}

	// The container goes as any other.
	if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
		t.Errorf("container Delete: %v", err)
	}
	if _, err := c.LoadContainer(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("LoadContainer after Delete: %v, want NotFound", err)
	}
}

// ---- with criu

// Checkpoint/restore through criu, where `criu check` passes (else skipped): task.Checkpoint
// into a checkpoint image; container.Checkpoint + client.Restore + NewTask(WithTaskCheckpoint)
// going on from the checkpointed state; the runc options' image path (no image); Exit.
func TestCheckpointRestoreCriu(t *testing.T) {
	requireCriu(t)
	c := newClient(t)
	ctx := nsContext(t, 150*time.Second)
	img := pullImage(t, ctx, c)
	ns := nsOf(t, ctx)

	// task.Checkpoint: an image "containerd.io/checkpoint/<id>:<date>" labeled as a checkpoint,
	// its index holding criu's tar; the task keeps running.
	t.Run("TaskCheckpointImage", func(t *testing.T) {
		id := "compat-ck-task"
		_, task := startCounter(t, ctx, c, img, id)
		ck, err := task.Checkpoint(ctx)
		if err != nil {
			t.Fatalf("task Checkpoint: %v\n%s", err, tail(berthd.log, 20))
		}
		cleanupImage(t, c, ns, ck.Name())
		if !strings.HasPrefix(ck.Name(), "containerd.io/checkpoint/"+id+":") {
			t.Errorf("checkpoint image name %q, want containerd.io/checkpoint/%s:<date>", ck.Name(), id)
		}
		if ck.Labels()["containerd.io/checkpoint"] != "true" {
			t.Errorf("checkpoint image labels %v, want containerd.io/checkpoint=true", ck.Labels())
		}
		if got, err := c.GetImage(ctx, ck.Name()); err != nil || got.Target().Digest != ck.Target().Digest {
			t.Errorf("GetImage(%s): %v", ck.Name(), err)
		}
		index := readIndex(t, ctx, c, ck)
		if d := manifestOf(index, images.MediaTypeContainerd1Checkpoint); d == nil || d.Size == 0 {
			t.Errorf("index manifests %+v: no criu tar", index.Manifests)
		} else if info, err := c.ContentStore().Info(ctx, d.Digest); err != nil || info.Size != d.Size {
			t.Errorf("criu tar %s in the content store: %+v, %v", d.Digest, info, err)
		}
		if st, err := task.Status(ctx); err != nil || st.Status != containerd.Running {
			t.Errorf("Status after the checkpoint = %+v, %v; want running", st, err)
		}
	})

	// container.Checkpoint (task, runtime, rw), the task and container removed, client.Restore
	// into a new container, NewTask(WithTaskCheckpoint): the counter goes on from where it was.
	t.Run("ContainerCheckpointRestore", func(t *testing.T) {
		id, rid, ref := "compat-ck-orig", "compat-ck-restored", "compat-ck:1"
		ctr, task := startCounter(t, ctx, c, img, id)
		before := counterValue(t, ctx, ctr, task)
		if before < 0 {
			t.Fatalf("cannot read /tmp/n in %s", id)
		}
		// As `ctr c checkpoint --task` does: paused around the checkpoint.
		if err := task.Pause(ctx); err != nil {
			t.Fatalf("Pause: %v", err)
		}
		ck, err := ctr.Checkpoint(ctx, ref, containerd.WithCheckpointRuntime, containerd.WithCheckpointTask,
			containerd.WithCheckpointRW)
		if err == nil {
			cleanupImage(t, c, ns, ref)
		}
		if rerr := task.Resume(ctx); rerr != nil {
			t.Errorf("Resume: %v", rerr)
		}
		if err != nil {
			t.Fatalf("container Checkpoint: %v\n%s", err, tail(berthd.log, 20))
		}
		index := readIndex(t, ctx, c, ck)
		for _, mt := range []string{images.MediaTypeContainerd1Checkpoint, images.MediaTypeContainerd1CheckpointConfig,
			images.MediaTypeContainerd1CheckpointOptions, ocispec.MediaTypeImageLayerGzip} {
			if manifestOf(index, mt) == nil {
				t.Errorf("checkpoint index has no %s: %+v", mt, index.Manifests)
			}
		}
		// container.Checkpoint names the image under the OCI ref.name key (task.Checkpoint uses image.name).
		if index.Annotations["org.opencontainers.image.ref.name"] != imageRef {
			t.Errorf("checkpoint index annotations %v, want org.opencontainers.image.ref.name %s", index.Annotations, imageRef)
		}

		// The original goes.
		ch, err := task.Wait(ctx)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if err := task.Kill(ctx, syscall.SIGKILL); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		waitExit(t, ch, 20*time.Second)
		if _, err := task.Delete(ctx); err != nil {
			t.Fatalf("task Delete: %v", err)
		}
		if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
			t.Fatalf("container Delete: %v", err)
		}

		// Restored under a new id.
		rctr, err := c.Restore(ctx, rid, ck, containerd.WithRestoreImage, containerd.WithRestoreSpec,
			containerd.WithRestoreRuntime, containerd.WithRestoreRW)
		if err != nil {
			t.Fatalf("Restore: %v", err)
		}
		cleanupContainer(t, c, ns, rid)
		rtask, err := rctr.NewTask(ctx, cio.NullIO, containerd.WithTaskCheckpoint(ck))
		if err != nil {
			t.Fatalf("NewTask(WithTaskCheckpoint): %v\n%s", err, tail(berthd.log, 20))
		}
		if err := rtask.Start(ctx); err != nil {
			t.Fatalf("Start of the restored task: %v\n%s\n%s", err, criuErrors(err), tail(berthd.log, 20))
		}
		if st, err := rtask.Status(ctx); err != nil || st.Status != containerd.Running {
			t.Errorf("Status of the restored task = %+v, %v; want running", st, err)
		}
		first := counterValue(t, ctx, rctr, rtask)
		if first < before {
			t.Errorf("restored counter %d, want >= %d (the value before the checkpoint), not a fresh start", first, before)
		}
		time.Sleep(time.Second)
		if later := counterValue(t, ctx, rctr, rtask); later <= first {
			t.Errorf("restored counter %d then %d a second later: it does not count", first, later)
		}
	})

	// WithCheckpointImagePath: criu's files land in that directory, no image is made, and the
	// task keeps running.
	t.Run("TaskCheckpointImagePath", func(t *testing.T) {
		id := "compat-ck-path"
		_, task := startCounter(t, ctx, c, img, id)
		dir := filepath.Join(workDir, "checkpoint-image-path")
		if err := os.MkdirAll(dir, 0700); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		before := imageNames(t, ctx, c)
		ck, err := task.Checkpoint(ctx, containerd.WithCheckpointImagePath(dir))
		if err != nil {
			t.Fatalf("task Checkpoint(WithCheckpointImagePath): %v\n%s", err, tail(berthd.log, 20))
		}
		if ck.Name() != "" || ck.Target().Digest != "" {
			t.Errorf("Checkpoint to an image path returned image %q (%s), want the empty image", ck.Name(), ck.Target().Digest)
		}
		if after := imageNames(t, ctx, c); after != before {
			t.Errorf("images after the checkpoint to an image path: %s; before: %s", after, before)
		}
		imgs, _ := filepath.Glob(filepath.Join(dir, "*.img"))
		if _, err := os.Stat(filepath.Join(dir, "inventory.img")); err != nil || len(imgs) < 2 {
			ents, _ := os.ReadDir(dir)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("%s holds %v; want criu's images (inventory.img, ...)", dir, names)
		}
		if st, err := task.Status(ctx); err != nil || st.Status != containerd.Running {
			t.Errorf("Status after the checkpoint = %+v, %v; want running", st, err)
		}
	})

	// The runc options' Exit (ctr task checkpoint --exit): the task stops after the checkpoint.
	t.Run("TaskCheckpointExit", func(t *testing.T) {
		id := "compat-ck-exit"
		_, task := startCounter(t, ctx, c, img, id)
		ch, err := task.Wait(ctx)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		withExit := func(r *containerd.CheckpointTaskInfo) error {
			if r.Options == nil {
				r.Options = &options.CheckpointOptions{}
			}
			o, ok := r.Options.(*options.CheckpointOptions)
			if !ok {
				return fmt.Errorf("checkpoint options are %T", r.Options)
			}
			o.Exit = true
			return nil
		}
		ck, err := task.Checkpoint(ctx, withExit)
		if err != nil {
			t.Fatalf("task Checkpoint(Exit): %v\n%s", err, tail(berthd.log, 20))
		}
		cleanupImage(t, c, ns, ck.Name())
		if d := manifestOf(readIndex(t, ctx, c, ck), images.MediaTypeContainerd1Checkpoint); d == nil {
			t.Errorf("checkpoint %s has no criu tar", ck.Name())
		}
		st := waitExit(t, ch, 20*time.Second)
		t.Logf("exit after the checkpoint: %d", st.ExitCode())
		if s, err := task.Status(ctx); err != nil || s.Status != containerd.Stopped {
			t.Errorf("Status after the exit = %+v, %v; want stopped", s, err)
		}
		if _, err := task.Delete(ctx); err != nil {
			t.Errorf("task Delete: %v", err)
		}
	})
}

// requireCriu skips the test unless the criu berthd's shims will run passes `criu check`. The
// criu is $BERTH_COMPAT_CRIU (run.sh: $BERTH_CRIU or the first criu on PATH or in the sbin dirs,
// its directory put on PATH), else $BERTH_CRIU, else the first criu on PATH; berthd inherits
// our PATH, and runc runs the first `criu` on it, so that must be this one.
func requireCriu(t *testing.T) {
	t.Helper()
	criu := os.Getenv("BERTH_COMPAT_CRIU")
	if criu == "" {
		criu = os.Getenv("BERTH_CRIU")
	}
	if criu == "" {
		criu, _ = exec.LookPath("criu")
	}
	if criu == "" {
		t.Skip("SKIP checkpoint/restore with criu: no criu (set BERTH_CRIU=/path/to/criu or put criu on PATH)")
	}
	if filepath.Base(criu) != "criu" {
		t.Skipf("SKIP checkpoint/restore with criu: %s: the binary must be named criu (runc runs `criu` from PATH)", criu)
	}
	first, err := exec.LookPath("criu")
	fi1, err1 := os.Stat(criu)
	fi2, err2 := os.Stat(first)
	if err != nil || err1 != nil || err2 != nil || !os.SameFile(fi1, fi2) {
		t.Skipf("SKIP checkpoint/restore with criu: %s is not the first criu on PATH (%q: %v): berthd's runc would not run it; put its directory first on PATH (run.sh does)",
			criu, first, err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, criu, "check").CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" && err != nil {
		last = err.Error()
	}
	if err != nil || !strings.Contains(string(out), "Looks good") {
		t.Skipf("SKIP checkpoint/restore with criu: %s check: %s", criu, last)
	}
	t.Logf("%s check: %s", criu, last)
}

// startCounter starts the counter in a new container, its stdio fifos as ctr's (stdin at EOF
// already, output discarded), and waits until /tmp/n is at 10 or more.
func startCounter(t *testing.T, ctx context.Context, c *containerd.Client, img containerd.Image, id string) (containerd.Container, containerd.Task) {
	t.Helper()
	ctr := newTestContainer(t, ctx, c, img, id, counterArgs, nil)
	task, err := ctr.NewTask(ctx, cio.NewCreator(cio.WithStreams(strings.NewReader(""), io.Discard, io.Discard), fifoDir()))
	if err != nil {
		t.Fatalf("NewTask(%s): %v", id, err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start(%s): %v", id, err)
	}
	if !waitFor(15*time.Second, func() bool { return counterValue(t, ctx, ctr, task) >= 10 }) {
		t.Fatalf("the counter in %s does not count", id)
	}
	return ctr, task
}

var execSeq int64

// counterValue is /tmp/n of the task, read by an exec of `cat /tmp/n`: -1 when it cannot be read
// within 5 s (the loop may be between truncating and writing the file).
func counterValue(t *testing.T, ctx context.Context, ctr containerd.Container, task containerd.Task) int {
	t.Helper()
	spec, err := ctr.Spec(ctx)
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	value := -1
	var lastErr error
	waitFor(5*time.Second, func() bool {
		pspec := *spec.Process
		pspec.Args = []string{"cat", "/tmp/n"}
		pspec.Terminal = false
		var out syncBuffer
		execID := fmt.Sprintf("compat-cat-%d", atomic.AddInt64(&execSeq, 1))
		proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, &out, io.Discard), fifoDir()))
		if err != nil {
			lastErr = fmt.Errorf("Exec: %w", err)
			return false
		}
		defer proc.Delete(ctx)
		ch, err := proc.Wait(ctx)
		if err != nil {
			lastErr = fmt.Errorf("exec Wait: %w", err)
			return false
		}
		if err := proc.Start(ctx); err != nil {
			lastErr = fmt.Errorf("exec Start: %w", err)
			return false
		}
		select {
		case st := <-ch:
			if st.ExitCode() != 0 {
				lastErr = fmt.Errorf("cat /tmp/n: exit %d", st.ExitCode())
				return false
			}
		case <-time.After(10 * time.Second):
			lastErr = fmt.Errorf("cat /tmp/n: no exit in 10s")
			return false
		}
		proc.IO().Wait()
		n, err := strconv.Atoi(strings.TrimSpace(out.String()))
		if err != nil {
			lastErr = fmt.Errorf("cat /tmp/n: %q", out.String())
			return false
		}
		value = n
		return true
	})
	if value < 0 {
		t.Logf("reading /tmp/n of %s: %v", task.ID(), lastErr)
	}
	return value
}

func readIndex(t *testing.T, ctx context.Context, c *containerd.Client, im containerd.Image) ocispec.Index {
	t.Helper()
	var index ocispec.Index
	b, err := content.ReadBlob(ctx, c.ContentStore(), im.Target())
	if err != nil {
		t.Fatalf("read the index of %s: %v", im.Name(), err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatalf("index of %s: %v", im.Name(), err)
	}
	return index
}

func manifestOf(index ocispec.Index, mediaType string) *ocispec.Descriptor {
	for i := range index.Manifests {
		if index.Manifests[i].MediaType == mediaType {
			return &index.Manifests[i]
		}
	}
	return nil
}

func imageNames(t *testing.T, ctx context.Context, c *containerd.Client) string {
	t.Helper()
	list, err := c.ImageService().List(ctx)
	if err != nil {
		t.Fatalf("list images: %v", err)
	}
	var names []string
	for _, im := range list {
		names = append(names, im.Name)
	}
	return strings.Join(names, " ")
}

// cleanupImage removes an image (synchronously: its content goes) at the end of the test, after
// the containers made later.
func cleanupImage(t *testing.T, c *containerd.Client, ns, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), 30*time.Second)
		defer cancel()
		if err := c.ImageService().Delete(ctx, name, images.SynchronousDelete()); err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("cleanup: delete image %s: %v", name, err)
		}
	})
}

// bundleOf is the task bundle of ns/id under berthd's state dir, "" when there is none.
func bundleOf(ns, id string) string {
	var found string
	filepath.Walk(berthd.state, func(p string, info os.FileInfo, err error) error {
		if err == nil && found == "" && info.IsDir() && info.Name() == id && filepath.Base(filepath.Dir(p)) == ns {
			found = p
		}
		return nil
	})
	return found
}

// The error lines of the criu log a failed restore names ("path= <log>"), for the report.
func criuErrors(err error) string {
	m := regexp.MustCompile(`path= (\S+\.log)`).FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	data, rerr := os.ReadFile(m[1])
	if rerr != nil {
		return rerr.Error()
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "Error") || strings.Contains(l, "Warn") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
