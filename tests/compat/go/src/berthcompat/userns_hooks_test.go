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

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A user namespace with a remapped snapshot: root in the container is 100000 on the host,
// and the rootfs is owned by the remapped root.
func TestUserNamespaceRemappedSnapshot(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 120*time.Second)
	img := pullImage(t, ctx, c)
	const base = 100000
	id := "compat-userns"
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: base, Size: 65536}}
	ctr, err := c.NewContainer(ctx, id,
		containerd.WithRemappedSnapshot(id+"-snap", img, base, base),
		containerd.WithNewSpec(oci.WithImageConfig(img), oci.WithUserNamespace(m, m),
			oci.WithProcessArgs("sh", "-c", "echo uid=$(id -u) owner=$(stat -c %u:%g /bin) map=$(awk '{print $1, $2, $3}' /proc/self/uid_map); sleep 30")))
	if err != nil {
		t.Fatalf("NewContainer(remapped): %v", err)
	}
	cleanupContainer(t, c, nsOf(t, ctx), id)
	var out syncBuffer
	task, err := ctr.NewTask(ctx, cio.NewCreator(cio.WithStreams(nil, &out, &out), fifoDir()))
	if err != nil {
		t.Fatalf("NewTask in a user namespace: %v", err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !waitFor(15*time.Second, func() bool { return strings.Contains(out.String(), "map=") }) {
		t.Fatalf("output %q", out.String())
	}
	line := strings.Join(strings.Fields(out.String()), " ")
	if !strings.HasPrefix(line, fmt.Sprintf("uid=0 owner=0:0 map=0 %d 65536", base)) {
		t.Errorf("inside the container: %q; want uid 0, /bin owned by 0:0, uid_map 0 %d 65536", line, base)
	}
	// From the host, the task's root directory belongs to the remapped root.
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/root/bin", task.Pid()), &st); err != nil {
		t.Fatalf("stat rootfs: %v", err)
	}
	if st.Uid != base || st.Gid != base {
		t.Errorf("host owner of the rootfs /bin: %d:%d, want %d:%d", st.Uid, st.Gid, base, base)
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", task.Pid())); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Uid:") && !strings.Contains(l, fmt.Sprint(base)) {
				t.Errorf("host view of the task's %s, want uid %d", l, base)
			}
		}
	}
	task.Kill(ctx, syscall.SIGKILL)
}

// OCI hooks through `berthd oci-hook` (containerd's `containerd oci-hook`): the templates
// {{id}} {{pid}} {{rootfs}} {{bundle}} {{annotation "k"}} are filled from the state on stdin.
func TestOCIHooksViaOciHook(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 90*time.Second)
	img := pullImage(t, ctx, c)
	id := "compat-hooks"
	dir := filepath.Join(workDir, "hooks")
	os.MkdirAll(dir, 0755)
	hook := func(file string) specs.Hook {
		return specs.Hook{
			Path: berthd.bin,
			Args: []string{"berthd", "oci-hook", "--", "/bin/sh", "-c",
				`echo {{id}} {{pid}} {{rootfs}} {{bundle}} {{annotation "k"}} > ` + file},
		}
	}
	prestart, createRuntime := filepath.Join(dir, "prestart"), filepath.Join(dir, "createRuntime")
	withHooks := func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Hooks == nil {
			s.Hooks = &specs.Hooks{}
		}
		s.Hooks.Prestart = append(s.Hooks.Prestart, hook(prestart))
		s.Hooks.CreateRuntime = append(s.Hooks.CreateRuntime, hook(createRuntime))
		return nil
	}
	ctr := newTestContainer(t, ctx, c, img, id, []string{"sleep", "30"},
		[]oci.SpecOpts{oci.WithAnnotations(map[string]string{"k": "annotation-value"}), withHooks})
	task, err := ctr.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatalf("NewTask with oci-hook hooks: %v", err)
	}
	defer task.Kill(ctx, syscall.SIGKILL)
	for _, f := range []string{prestart, createRuntime} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("hook output %s: %v", filepath.Base(f), err)
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) != 5 {
			t.Errorf("%s wrote %q, want 5 fields", filepath.Base(f), b)
			continue
		}
		bundle := fields[3]
		if fields[0] != id || fields[1] != fmt.Sprint(task.Pid()) || fields[2] != filepath.Join(bundle, "rootfs") ||
			filepath.Base(bundle) != id || fields[4] != "annotation-value" {
			t.Errorf("%s wrote %q; want id %s, pid %d, rootfs <bundle>/rootfs, bundle .../%s, annotation-value",
				filepath.Base(f), strings.TrimSpace(string(b)), id, task.Pid(), id)
		}
		if _, err := os.Stat(filepath.Join(bundle, "config.json")); err != nil {
			t.Errorf("bundle %s: %v", bundle, err)
		}
	}
}
