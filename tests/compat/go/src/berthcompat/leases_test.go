package berthcompat

import (
	"bytes"
	"testing"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/leases"
)

// Leases: create with labels and expiry, resources, list, delete (synchronous GC).
func TestLeasesWithResources(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 60*time.Second)
	lm := c.LeasesService()
	l, err := lm.Create(ctx, leases.WithID("compat-l1"), leases.WithLabels(map[string]string{"owner": "compat"}),
		leases.WithExpiration(time.Hour))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if l.ID != "compat-l1" || l.Labels["owner"] != "compat" || l.Labels["containerd.io/gc.expire"] == "" || l.CreatedAt.IsZero() {
		t.Errorf("created lease = %+v", l)
	}
	if _, err := lm.Create(ctx, leases.WithID("compat-l1")); !errdefs.IsAlreadyExists(err) {
		t.Errorf("second Create: %v, want AlreadyExists", err)
	}
	ls, err := lm.List(ctx, `labels.owner==compat`)
	if err != nil || len(ls) != 1 || ls[0].ID != "compat-l1" {
		t.Errorf("List(labels.owner==compat) = %+v, %v", ls, err)
	}

	// Content written under the lease is held by it alone.
	lctx := leases.WithLease(ctx, l.ID)
	cs := c.ContentStore()
	data, desc := randomBlob(t, 4<<10)
	if err := content.WriteBlob(lctx, cs, "compat-leased", bytes.NewReader(data), desc); err != nil {
		t.Fatalf("WriteBlob under lease: %v", err)
	}
	rs, err := lm.ListResources(ctx, l)
	if err != nil {
		t.Fatalf("ListResources: %v", err)
	}
	if !hasResource(rs, leases.Resource{ID: desc.Digest.String(), Type: "content"}) {
		t.Errorf("ListResources = %+v, want the content written under the lease", rs)
	}

	// Explicit resources.
	snap := leases.Resource{ID: "compat-snap-key", Type: "snapshots/overlayfs"}
	ing := leases.Resource{ID: "compat-ingest", Type: "ingests"}
	for _, r := range []leases.Resource{snap, ing} {
		if err := lm.AddResource(ctx, l, r); err != nil {
			t.Errorf("AddResource(%+v): %v", r, err)
		}
	}
	if err := lm.AddResource(ctx, l, leases.Resource{ID: "x", Type: "bogus"}); !errdefs.IsNotImplemented(err) && !errdefs.IsInvalidArgument(err) {
		t.Errorf("AddResource of an unknown type: %v, want NotImplemented (as containerd)", err)
	}
	if err := lm.AddResource(ctx, leases.Lease{ID: "compat-missing"}, snap); !errdefs.IsNotFound(err) {
		t.Errorf("AddResource to a missing lease: %v, want NotFound", err)
	}
	rs, err = lm.ListResources(ctx, l)
	if err != nil || !hasResource(rs, snap) || !hasResource(rs, ing) || len(rs) != 3 {
		t.Errorf("ListResources after AddResource = %+v, %v; want content, snapshot, ingest", rs, err)
	}
	if err := lm.DeleteResource(ctx, l, snap); err != nil {
		t.Errorf("DeleteResource: %v", err)
	}
	rs, err = lm.ListResources(ctx, l)
	if err != nil || hasResource(rs, snap) || len(rs) != 2 {
		t.Errorf("ListResources after DeleteResource = %+v, %v", rs, err)
	}

	// Deleting the lease synchronously collects the content only it held.
	if err := lm.Delete(ctx, l, leases.SynchronousDelete); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := cs.Info(ctx, desc.Digest); !errdefs.IsNotFound(err) {
		t.Errorf("content held only by the deleted lease: Info = %v, want NotFound (collected)", err)
	}
	if err := lm.Delete(ctx, l); !errdefs.IsNotFound(err) {
		t.Errorf("second Delete: %v, want NotFound", err)
	}
	if ls, err := lm.List(ctx, `id=="compat-l1"`); err != nil || len(ls) != 0 {
		t.Errorf("List after Delete = %+v, %v", ls, err)
	}
}

func hasResource(rs []leases.Resource, want leases.Resource) bool {
	for _, r := range rs {
		if r == want {
			return true
		}
	}
	return false
}
