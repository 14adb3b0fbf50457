package berthcompat

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func randomBlob(t *testing.T, n int) ([]byte, ocispec.Descriptor) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b, ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(n)}
}

// A writer closed without commit keeps its ingest; reopening the ref resumes at its offset.
func TestContentResumeAfterClose(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 60*time.Second)
	ctx = leased(t, c, ctx)
	cs := c.ContentStore()
	data, desc := randomBlob(t, 300<<10)
	const ref = "compat-resume-1"
	defer cs.Abort(ctx, ref)

	w, err := cs.Writer(ctx, content.WithRef(ref), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	half := 100 << 10
	if n, err := w.Write(data[:half]); err != nil || n != half {
		t.Fatalf("Write: %d, %v", n, err)
	}
	st, err := w.Status()
	if err != nil || st.Offset != int64(half) || st.Total != desc.Size || st.Ref != ref {
		t.Fatalf("Status = %+v, %v; want offset %d total %d", st, err, half, desc.Size)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopen right away. content.OpenWriter retries while the ref is still locked (as
	// containerd's pull does); the old stream is closed so that must end quickly.
	start := time.Now()
	w2, err := content.OpenWriter(ctx, cs, content.WithRef(ref), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("OpenWriter (resume): %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("reopening a closed writer took %v (ref stayed locked after Close)", d)
	}
	st, err = w2.Status()
	if err != nil || st.Offset != int64(half) {
		t.Fatalf("resumed Status = %+v, %v; want offset %d", st, err, half)
	}
	// The ingest is listed meanwhile.
	if is, err := cs.Status(ctx, ref); err != nil || is.Offset != int64(half) {
		t.Errorf("ContentStore.Status(%s) = %+v, %v; want offset %d", ref, is, err, half)
	}
	if _, err := w2.Write(data[half:]); err != nil {
		t.Fatalf("Write rest: %v", err)
	}
	if w2.Digest() != desc.Digest {
		t.Errorf("Digest() = %s, want %s (re-hashed across the resume)", w2.Digest(), desc.Digest)
	}
	if err := w2.Commit(ctx, desc.Size, desc.Digest, content.WithLabels(map[string]string{"compat": "resume"})); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	w2.Close()
	got, err := content.ReadBlob(ctx, cs, desc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadBlob: %d bytes, %v; want the %d written", len(got), err, len(data))
	}
	info, err := cs.Info(ctx, desc.Digest)
	if err != nil || info.Size != desc.Size || info.Labels["compat"] != "resume" {
		t.Errorf("Info = %+v, %v", info, err)
	}
	if _, err := cs.Status(ctx, ref); !errdefs.IsNotFound(err) {
		t.Errorf("Status of a committed ref: %v, want NotFound", err)
	}
}

// Truncate(0) restarts the ingest; a wrong digest is refused; the right one commits.
func TestContentTruncateAndCommitDigest(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 60*time.Second)
	ctx = leased(t, c, ctx)
	cs := c.ContentStore()
	data, desc := randomBlob(t, 64<<10)
	const ref = "compat-truncate"
	defer cs.Abort(ctx, ref)

	w, err := cs.Writer(ctx, content.WithRef(ref), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	defer w.Close()
	junk := bytes.Repeat([]byte("junk"), 1000)
	if _, err := w.Write(junk); err != nil {
		t.Fatalf("Write junk: %v", err)
	}
	if err := w.Truncate(0); err != nil {
		t.Fatalf("Truncate(0): %v", err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write after Truncate: %v", err)
	}
	st, err := w.Status()
	if err != nil || st.Offset != desc.Size {
		t.Fatalf("Status after truncate+write = %+v, %v; want offset %d", st, err, desc.Size)
	}
	wrong := digest.FromString("not this")
	if err := w.Commit(ctx, desc.Size, wrong); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("Commit with a wrong digest: %v, want FailedPrecondition", err)
	}
	// containerd keeps the ingest after a failed commit; reopen (the failed commit may have
	// ended the stream) and commit with the right digest.
	w.Close()
	w2, err := content.OpenWriter(ctx, cs, content.WithRef(ref), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("OpenWriter after a failed commit: %v", err)
	}
	defer w2.Close()
	if st, err := w2.Status(); err != nil || st.Offset != desc.Size {
		t.Fatalf("Status after failed commit = %+v, %v; want offset %d (ingest kept)", st, err, desc.Size)
	}
	if err := w2.Commit(ctx, desc.Size, desc.Digest); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got, err := content.ReadBlob(ctx, cs, desc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadBlob after truncate: %d bytes, %v", len(got), err)
	}
	// Committing the same content again: AlreadyExists (WriteBlob treats it as success).
	if err := content.WriteBlob(ctx, cs, "compat-again", bytes.NewReader(data), desc); err != nil {
		t.Errorf("WriteBlob of existing content: %v, want nil", err)
	}
}

// Abort discards an ingest; a second writer on an open ref is Unavailable.
func TestContentAbortAndLocked(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 60*time.Second)
	cs := c.ContentStore()
	data, desc := randomBlob(t, 8<<10)

	w, err := cs.Writer(ctx, content.WithRef("compat-abort"), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write(data[:1000]); err != nil {
		t.Fatalf("Write: %v", err)
	}
	w.Close()
	// Listing ingests with a filter.
	sts, err := cs.ListStatuses(ctx, `ref=="compat-abort"`)
	if err != nil || len(sts) != 1 || sts[0].Offset != 1000 {
		t.Errorf("ListStatuses(ref==compat-abort) = %+v, %v; want one at offset 1000", sts, err)
	}
	// Abort may race with the server noticing the closed stream: retry briefly on Unavailable.
	var aerr error
	waitFor(3*time.Second, func() bool {
		aerr = cs.Abort(ctx, "compat-abort")
		return !errdefs.IsUnavailable(aerr)
	})
	if aerr != nil {
		t.Fatalf("Abort: %v", aerr)
	}
	if _, err := cs.Status(ctx, "compat-abort"); !errdefs.IsNotFound(err) {
		t.Errorf("Status after Abort: %v, want NotFound", err)
	}
	if err := cs.Abort(ctx, "compat-abort"); !errdefs.IsNotFound(err) {
		t.Errorf("second Abort: %v, want NotFound", err)
	}
	// A reopened aborted ref starts from 0.
	w, err = cs.Writer(ctx, content.WithRef("compat-abort"), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("Writer after abort: %v", err)
	}
	if st, _ := w.Status(); st.Offset != 0 {
		t.Errorf("offset after abort = %d, want 0", st.Offset)
	}

	// Second writer on the same open ref, without OpenWriter's retries: Unavailable.
	_, err = cs.Writer(ctx, content.WithRef("compat-abort"), content.WithDescriptor(desc))
	if !errdefs.IsUnavailable(err) {
		t.Errorf("second Writer on an open ref: %v, want Unavailable", err)
	}
	// content.OpenWriter on a locked ref keeps retrying until its context ends: the lock error.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = content.OpenWriter(short, cs, content.WithRef("compat-abort"))
	cancel()
	if !errdefs.IsUnavailable(err) {
		t.Errorf("OpenWriter on a locked ref: %v, want Unavailable after the deadline", err)
	}
	w.Close()
	waitFor(3*time.Second, func() bool { return !errdefs.IsUnavailable(cs.Abort(ctx, "compat-abort")) })
}

// content.Copy and WriteBlob from one namespace's store to another's.
func TestContentCopyBetweenNamespaces(t *testing.T) {
	c := newClient(t)
	ctx := nsContext(t, 60*time.Second)
	other := leased(t, c, namespaces.WithNamespace(ctx, nsOf(t, ctx)+"-other"))
	ctx = leased(t, c, ctx)
	cs := c.ContentStore()
	data, desc := randomBlob(t, 200<<10)
	if err := content.WriteBlob(ctx, cs, "compat-copy-src", bytes.NewReader(data), desc,
		content.WithLabels(map[string]string{"src": "yes"})); err != nil {
		t.Fatalf("WriteBlob: %v", err)
	}
	if _, err := cs.Info(other, desc.Digest); !errdefs.IsNotFound(err) {
		t.Fatalf("Info in the other namespace before copy: %v, want NotFound", err)
	}
	ra, err := cs.ReaderAt(ctx, desc)
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	defer ra.Close()
	if ra.Size() != desc.Size {
		t.Errorf("ReaderAt.Size = %d, want %d", ra.Size(), desc.Size)
	}
	cw, err := content.OpenWriter(other, cs, content.WithRef("compat-copy-dst"), content.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("OpenWriter(other): %v", err)
	}
	if err := content.Copy(other, cw, content.NewReader(ra), desc.Size, desc.Digest,
		content.WithLabels(map[string]string{"copied": "yes"})); err != nil {
		t.Fatalf("content.Copy: %v", err)
	}
	cw.Close()
	info, err := cs.Info(other, desc.Digest)
	if err != nil || info.Labels["copied"] != "yes" || info.Labels["src"] != "" {
		t.Errorf("Info in the other namespace = %+v, %v; want its own labels only", info, err)
	}
	got, err := content.ReadBlob(other, cs, desc)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("ReadBlob(other): %d bytes, %v", len(got), err)
	}
	// A ranged read.
	p := make([]byte, 10)
	if n, err := ra.ReadAt(p, 1000); n != 10 || (err != nil && n != 10) || !bytes.Equal(p, data[1000:1010]) {
		t.Errorf("ReadAt(1000) = %d, %v", n, err)
	}
	// Deleting in one namespace leaves the other's.
	if err := cs.Delete(ctx, desc.Digest); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := cs.Info(ctx, desc.Digest); !errdefs.IsNotFound(err) {
		t.Errorf("Info after Delete: %v, want NotFound", err)
	}
	if _, err := content.ReadBlob(other, cs, desc); err != nil {
		t.Errorf("ReadBlob(other) after deleting in the first namespace: %v", err)
	}
	cs.Delete(other, desc.Digest)
}
