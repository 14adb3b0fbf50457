// Package berthcompat drives a real berthd with containerd 1.6's own Go client
// (github.com/containerd/containerd), as any Go program written for containerd would.
//
// TestMain starts berthd on fresh temp dirs and a local registry (scripts/test-registry)
// holding the embedded busybox image, runs the tests, and stops everything.
//
// Environment (set by ../../run.sh):
//
//	BERTH_COMPAT_BERTHD      the berthd binary (berth-shim must be beside it or on PATH)
//	BERTH_COMPAT_SOURCE      the source tree (for scripts/test-registry)
//	BERTH_COMPAT_IMAGE_TAR   the embedded image, an OCI archive (build/images/berth-busybox.tar)
//	BERTH_COMPAT_WORKDIR     optional: where temp dirs go (default: $TMPDIR)
//	BERTH_COMPAT_CRIU        optional: the criu for the checkpoint/restore tests, its directory
//	                         on PATH before any other criu (default: $BERTH_CRIU, or criu on PATH)
package berthcompat

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/remotes/docker"
)

// daemon is one berthd on its own dirs; Kill + Start restarts it on the same dirs.
type daemon struct {
	bin, root, state, sock, log string
	cmd                         *exec.Cmd
	exited                      chan struct{}
	logf                        *os.File
}

var (
	berthd      *daemon
	registry    string // 127.0.0.1:PORT
	imageRef    string // registry/berth/busybox:latest
	workDir     string
	registryDir string
	sourceDir   string
)

func (d *daemon) Start() error {
	f, err := os.OpenFile(d.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "==== berthd start %s\n", time.Now().Format(time.RFC3339Nano))
	// Our own (empty) config file: /etc/berth/config.toml of the machine must not matter.
	cfg := filepath.Join(filepath.Dir(d.log), "berthd.toml")
	if err := os.WriteFile(cfg, []byte("# berth compat-go\n"), 0644); err != nil {
		return err
	}
	cmd := exec.Command(d.bin, "--config", cfg, "--root", d.root, "--state", d.state, "--address", d.sock,
		"--log-level", "debug")
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a Ctrl-C on the test does not hit it first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	d.cmd, d.logf = cmd, f
	d.exited = make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) { c.Wait(); close(ch) }(cmd, d.exited)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("berthd exited during start-up: %v (log %s)\n%s", cmd.ProcessState, d.log, tail(d.log, 30))
		default:
		}
		if c, err := containerd.New(d.sock, containerd.WithTimeout(300*time.Millisecond)); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, verr := c.Version(ctx)
			cancel()
			c.Close()
			if verr == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("berthd did not answer on %s within 60s (log %s)", d.sock, d.log)
}

// Stop sends sig and waits for the exit (SIGKILL after 20 s).
func (d *daemon) Stop(sig syscall.Signal) {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(sig)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
	fmt.Fprintf(d.logf, "==== berthd exited: %v\n", d.cmd.ProcessState)
	d.logf.Close()
	d.cmd = nil
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	bin := os.Getenv("BERTH_COMPAT_BERTHD")
	sourceDir = os.Getenv("BERTH_COMPAT_SOURCE")
	imageTar := os.Getenv("BERTH_COMPAT_IMAGE_TAR")
	if bin == "" || sourceDir == "" || imageTar == "" {
		fmt.Fprintln(os.Stderr, "set BERTH_COMPAT_BERTHD, BERTH_COMPAT_SOURCE, BERTH_COMPAT_IMAGE_TAR (see run.sh)")
		return 2
	}
	var err error
	workDir, err = os.MkdirTemp(os.Getenv("BERTH_COMPAT_WORKDIR"), "berth-compat-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Like containerd's /run/containerd and /var/lib/containerd (0711): a user-namespaced
	// container's root must be able to traverse to its bundle.
	os.Chmod(workDir, 0711)
	keep := os.Getenv("BERTH_COMPAT_KEEP") != ""
	defer func() {
		if keep {
			fmt.Printf("kept %s\n", workDir)
			return
		}
		// Mounts left by a failed test would make RemoveAll fail half-way: unmount first.
		unmountUnder(workDir)
		if err := os.RemoveAll(workDir); err != nil {
			fmt.Fprintf(os.Stderr, "cleanup: %v\n", err)
		}
	}()

	// The socket lives under /tmp with a short name: sun_path is 108 bytes.
	sockDir, err := os.MkdirTemp("/tmp", "bcg")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(sockDir)

	// Registry with the embedded image.
	registryDir = filepath.Join(workDir, "registry")
	out, err := exec.Command("bash", filepath.Join(sourceDir, "scripts/test-registry"), "start", registryDir,
		"--owner-pid", fmt.Sprint(os.Getpid())).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test-registry start: %v\n%s\n", err, stderrOf(err))
		return 2
	}
	registry = strings.TrimSpace(string(out))
	defer exec.Command("bash", filepath.Join(sourceDir, "scripts/test-registry"), "stop", registryDir).Run()
	layout := filepath.Join(workDir, "layout")
	os.MkdirAll(layout, 0755)
	if out, err := exec.Command("tar", "-xf", imageTar, "-C", layout).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "untar %s: %v\n%s", imageTar, err, out)
		return 2
	}
	if out, err := exec.Command("bash", filepath.Join(sourceDir, "scripts/test-registry"), "push", registryDir,
		layout, "latest", "berth/busybox:latest").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "test-registry push: %v\n%s", err, out)
		return 2
	}
	imageRef = registry + "/berth/busybox:latest"

	berthd = &daemon{
		bin:   bin,
		root:  filepath.Join(workDir, "root"),
		state: filepath.Join(workDir, "state"),
		sock:  filepath.Join(sockDir, "s"),
		log:   filepath.Join(workDir, "berthd.log"),
	}
	if err := berthd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer func() {
		killShims()
		berthd.Stop(syscall.SIGTERM)
		removeNamespaceCgroups()
		if code != 0 || os.Getenv("BERTH_COMPAT_SHOW_LOG") != "" {
			fmt.Printf("---- last lines of berthd.log\n%s\n----\n", tail(berthd.log, 60))
		}
	}()
	return m.Run()
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// killShims kills any shim still running for our state dir (a test that failed half-way).
func killShims() {
	filepath.Walk(berthd.state, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "shim.pid" {
			if b, err := os.ReadFile(p); err == nil {
				var pid int
				if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 1 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		return nil
	})
}

// removeNamespaceCgroups removes the empty per-namespace parent cgroups (/<ns>, our
// namespaces are all "compat-*") that runc leaves behind, as containerd's do.
func removeNamespaceCgroups() {
	for _, pattern := range []string{"/sys/fs/cgroup/*/compat-*", "/sys/fs/cgroup/compat-*"} {
		dirs, _ := filepath.Glob(pattern)
		for _, d := range dirs {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				syscall.Rmdir(d) // fails (harmlessly) unless empty
			}
		}
	}
}

func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var mps []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			mps = append(mps, f[4])
		}
	}
	for i := len(mps) - 1; i >= 0; i-- {
		syscall.Unmount(mps[i], syscall.MNT_DETACH)
	}
}

// ---- helpers shared by the tests

// newClient connects containerd's client to berthd; closed at the end of the test.
func newClient(t *testing.T) *containerd.Client {
	t.Helper()
	c, err := containerd.New(berthd.sock, containerd.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("containerd.New(%s): %v", berthd.sock, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nsContext is a context in namespace "compat-<test>" with a deadline.
func nsContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ns := "compat-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	ns = strings.ReplaceAll(ns, "_", "-")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return namespaces.WithNamespace(ctx, ns)
}

// leased is ctx under a new lease, deleted when the test ends: what containerd's own clients
// (pull, buildkit, the CRI plugin) hold while content has no other reference, since committed
// content that nothing references is collectable at any time.
func leased(t *testing.T, c *containerd.Client, ctx context.Context) context.Context {
	t.Helper()
	lctx, done, err := c.WithLease(ctx)
	if err != nil {
		t.Fatalf("WithLease: %v", err)
	}
	t.Cleanup(func() { done(ctx) })
	return lctx
}

func plainHTTPResolver() containerd.RemoteOpt {
	return containerd.WithResolver(docker.NewResolver(docker.ResolverOptions{PlainHTTP: true}))
}

// pullImage pulls and unpacks the test image into ctx's namespace.
func pullImage(t *testing.T, ctx context.Context, c *containerd.Client) containerd.Image {
	t.Helper()
	img, err := c.Pull(ctx, imageRef, containerd.WithPullUnpack, plainHTTPResolver())
	if err != nil {
		t.Fatalf("Pull(%s): %v", imageRef, err)
	}
	return img
}

// syncBuffer is a bytes.Buffer safe for the cio copy goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shimPid finds the shim serving container id in namespace ns: the bundle's shim.pid.
func shimPid(t *testing.T, ns, id string) int {
	t.Helper()
	var found int
	filepath.Walk(berthd.state, func(p string, info os.FileInfo, err error) error {
		if err != nil || found != 0 {
			return nil
		}
		if info.Name() == "shim.pid" && filepath.Base(filepath.Dir(p)) == id &&
			filepath.Base(filepath.Dir(filepath.Dir(p))) == ns {
			b, err := os.ReadFile(p)
			if err == nil {
				fmt.Sscan(string(b), &found)
			}
		}
		return nil
	})
	if found == 0 {
		t.Fatalf("no shim.pid for %s/%s under %s", ns, id, berthd.state)
	}
	return found
}

// cleanupContainer removes a container, its task and its snapshot at the end of the test.
func cleanupContainer(t *testing.T, c *containerd.Client, ns string, id string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), 30*time.Second)
		defer cancel()
		ctr, err := c.LoadContainer(ctx, id)
		if err != nil {
			return
		}
		if task, err := ctr.Task(ctx, nil); err == nil {
			task.Kill(ctx, syscall.SIGKILL)
			if ch, err := task.Wait(ctx); err == nil {
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
				}
			}
			task.Delete(ctx, containerd.WithProcessKill)
		}
		if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
			t.Logf("cleanup: delete container %s: %v", id, err)
		}
	})
}

func nsOf(t *testing.T, ctx context.Context) string {
	ns, err := namespaces.NamespaceRequired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}
