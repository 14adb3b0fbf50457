package berthcompat

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/errdefs"
)

// containerd.New + IsServing (grpc.health.v1.Health/Check) + Version.
func TestClientServingAndVersion(t *testing.T) {
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serving, err := c.IsServing(ctx)
	if err != nil {
		t.Errorf("IsServing: %v", err)
	} else if !serving {
		t.Errorf("IsServing = false, want true")
	}
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if v.Version == "" || v.Revision == "" {
		t.Errorf("Version = %+v, want version and revision set", v)
	}
	t.Logf("version %q revision %q", v.Version, v.Revision)
	// The server's UUID is stable across calls.
	id1, err := c.Server(ctx)
	if err != nil {
		t.Fatalf("Server: %v", err)
	}
	id2, err := c.Server(ctx)
	if err != nil || id1.UUID == "" || id1.UUID != id2.UUID {
		t.Errorf("Server UUID %q then %q (%v), want the same non-empty", id1.UUID, id2.UUID, err)
	}
}

// Namespaces with labels: create, labels, set label, list, delete.
func TestNamespacesWithLabels(t *testing.T) {
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ns := c.NamespaceService()
	const name = "compat-ns-labels"
	if err := ns.Create(ctx, name, map[string]string{"a": "1", "containerd.io/defaults/runtime": "io.containerd.runc.v2"}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	defer ns.Delete(ctx, name)
	if err := ns.Create(ctx, name, nil); !errdefs.IsAlreadyExists(err) {
		t.Errorf("second Create: %v, want AlreadyExists", err)
	}
	labels, err := ns.Labels(ctx, name)
	if err != nil {
		t.Fatalf("Labels: %v", err)
	}
	if labels["a"] != "1" || len(labels) != 2 {
		t.Errorf("Labels = %v, want a=1 and the runtime default", labels)
	}
	if err := ns.SetLabel(ctx, name, "b", "2"); err != nil {
		t.Fatalf("SetLabel b: %v", err)
	}
	if err := ns.SetLabel(ctx, name, "a", ""); err != nil { // empty value removes
		t.Fatalf("SetLabel a='': %v", err)
	}
	labels, err = ns.Labels(ctx, name)
	if err != nil {
		t.Fatalf("Labels: %v", err)
	}
	if _, ok := labels["a"]; ok || labels["b"] != "2" {
		t.Errorf("Labels after SetLabel = %v, want b=2 and no a", labels)
	}
	if err := ns.SetLabel(ctx, name, "big", strings.Repeat("x", 5000)); !errdefs.IsInvalidArgument(err) {
		t.Errorf("SetLabel with a 5000-byte value: %v, want InvalidArgument", err)
	}
	list, err := ns.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if i := sort.SearchStrings(list, name); i >= len(list) || list[i] != name {
		t.Errorf("List = %v, want sorted and containing %s", list, name)
	}
	// As containerd (metadata namespaceStore.Labels): a missing namespace has no labels, no error.
	if l, err := ns.Labels(ctx, "compat-ns-missing"); err != nil || len(l) != 0 {
		t.Errorf("Labels of a missing namespace = %v, %v; want empty, no error (as containerd)", l, err)
	}
	if err := ns.Delete(ctx, name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := ns.Delete(ctx, name); !errdefs.IsNotFound(err) {
		t.Errorf("second Delete: %v, want NotFound", err)
	}
	if err := ns.Create(ctx, "-not-valid", nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Create invalid name: %v, want InvalidArgument", err)
	}
}
