#include "metadata/content_writer.h"

#include <vector>

#include "common/crash_point.h"
#include "common/logging.h"
#include "metadata/content_meta.h"
#include "metadata/lease_resources.h"

namespace berth::metadata {

ContentWriter::ContentWriter(Db& db, content::LocalStore& store, std::string ns,
                             std::optional<std::string> lease, std::string ref,
                             std::unique_ptr<content::Writer> writer, int64_t total,
                             std::optional<Digest> blob)
    : db_(db),
      store_(store),
      ns_(std::move(ns)),
      lease_(std::move(lease)),
      ref_(std::move(ref)),
      writer_(std::move(writer)),
      total_(total),
      blob_(std::move(blob)),
      started_(Clock::now()) {}

ContentWriter::~ContentWriter() {
  Status st = Close();
  if (!st.ok()) log::Warn("close content writer", {{"namespace", ns_}, {"ref", ref_}, {"error", st.ToString()}});
}

content::IngestStatus ContentWriter::Progress() const {
  if (writer_) {
    content::IngestStatus st = writer_->Progress();
    st.ref = ref_;
    return st;
  }
  return content::IngestStatus{.ref = ref_, .offset = total_, .total = total_, .started_at = started_,
                               .updated_at = started_, .expected = blob_ ? blob_->String() : ""};
}

Digest ContentWriter::CurrentDigest() const {
  if (writer_) return writer_->CurrentDigest();
  return blob_ ? *blob_ : Digest{};
}

Status ContentWriter::Materialise(int64_t copy) {
  BERTH_ASSIGN_OR_RETURN(auto w, store_.OpenWriter(content::WriterOptions{
      .ref = content_meta::IngestKey(ns_, ref_), .total = copy > 0 ? copy : 0, .expected = std::nullopt,
      .algorithm = blob_ ? blob_->algorithm : "sha256"}));
  if (w->offset() > 0) BERTH_RETURN_IF_ERROR(w->Truncate(0));
  if (copy > 0 && blob_) {
    BERTH_ASSIGN_OR_RETURN(content::ReaderAt reader, store_.Reader(*blob_));
    std::vector<char> buf(1 << 20);
    while (w->offset() < copy) {
      size_t want = static_cast<size_t>(std::min<int64_t>(copy - w->offset(), static_cast<int64_t>(buf.size())));
      BERTH_ASSIGN_OR_RETURN(size_t n, reader.ReadAt(std::span<char>(buf.data(), want), w->offset()));
      if (n == 0) return FailedPrecondition("content {}: shorter than {} bytes", blob_->String(), copy);
      BERTH_RETURN_IF_ERROR(w->Write(std::string_view(buf.data(), n)));
    }
  }
  // Now a real ingest: it no longer stands for the existing blob.
  BERTH_RETURN_IF_ERROR(db_.Update([&](Tx& tx) { return content_meta::PutIngest(tx, ns_, ref_, ""); }));
  writer_ = std::move(w);
  return Status::Ok();
}

Status ContentWriter::Write(std::string_view data) {
  if (finished_) return FailedPrecondition("content writer {:?} already committed", ref_);
  if (!writer_) {
    if (data.empty()) return Status::Ok();
    BERTH_RETURN_IF_ERROR(Materialise(total_));
  }
  return writer_->Write(data);
}

Status ContentWriter::Truncate(int64_t size) {
  if (finished_) return FailedPrecondition("content writer {:?} already committed", ref_);
  if (writer_) return writer_->Truncate(size);
  if (size != 0) return InvalidArgument("truncate ingest {:?}: unsupported size {}", ref_, size);
  return Materialise(0);
}

Status ContentWriter::Record(Tx& tx, const Digest& digest, int64_t size,
                             const labels::Labels& labels, Status* inner) {
  Status ins = content_meta::Insert(tx, ns_, digest.String(), size, labels);
  if (ins.Is(Errc::kAlreadyExists)) {
    *inner = ins;
  } else if (!ins.ok()) {
    return ins;
  }
  BERTH_RETURN_IF_ERROR(content_meta::DeleteIngest(tx, ns_, ref_));
  if (lease_) {
    BERTH_RETURN_IF_ERROR(lease_resources::Remove(tx, ns_, *lease_, lease_resources::kIngests, ref_));
    Status add = lease_resources::Add(tx, ns_, *lease_, lease_resources::kContent, digest.String());
    if (!add.ok()) return add.Wrap("unable to lease content");
  }
  return Status::Ok();
}

Status ContentWriter::Commit(int64_t size, const std::optional<Digest>& expected,
                             const labels::Labels& labels) {
  Status valid = labels::ValidateAll(labels).Wrap("info.Labels");
  if (!valid.ok()) {
    Close().ok();  // the validation error is what the caller needs
    return valid;
  }
  if (finished_) return FailedPrecondition("content writer {:?} already committed", ref_);
  Status inner;
  const bool was_shared = shared();
  if (!writer_) {
    // Shared: the blob is already on disk; only the ownership row is new.
    if (size != 0 && size != total_) {
      return FailedPrecondition("{:?} failed size validation: {} != {}", ref_, total_, size);
    }
    if (expected && (!blob_ || *expected != *blob_)) {
      return FailedPrecondition("{:?} unexpected digest", ref_);
    }
    const Digest digest = *blob_;
    Status st = db_.Update([&](Tx& tx) -> Status {
      // The collector keeps blobs that ingests expect, so it is still there; check anyway,
      // inside the transaction that the sweep would need too.
      BERTH_ASSIGN_OR_RETURN(bool present, store_.Exists(digest));
      if (!present) return NotFound("content {}", digest.String());
      return Record(tx, digest, total_, labels, &inner);
    });
    if (!st.ok()) return st;
    committed_ = digest;
  } else {
    content::IngestStatus progress = writer_->Progress();
    if (size != 0 && size != progress.offset) {
      Close().IgnoreError();
      return FailedPrecondition("{:?} failed size validation: {} != {}", ref_, progress.offset, size);
    }
    // Hashing is incremental; this syncs and compares, outside any transaction.
    BERTH_ASSIGN_OR_RETURN(content::Writer::Verified verified, writer_->Verify(progress.offset, expected));
    Status st = db_.Update([&](Tx& tx) -> Status {
      Status installed = writer_->Install();
      if (!installed.ok() && !installed.Is(Errc::kAlreadyExists)) return installed;
      return Record(tx, verified.digest, verified.size, labels, &inner);
    });
    writer_.reset();
    if (!st.ok()) return st;
    committed_ = verified.digest;
  }
  CrashPoint("content.commit.recorded");
  log::Info("content committed", {{"namespace", ns_}, {"ref", ref_}, {"digest", committed_.String()},
                                  {"shared", was_shared ? "true" : "false"}});
  finished_ = true;
  return inner;
}

Status ContentWriter::Close() {
  if (!writer_) return Status::Ok();
  Status st = writer_->Close();
  return st;
}

}  // namespace berth::metadata
