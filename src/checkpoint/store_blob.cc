#include "checkpoint/store_blob.h"

#include <chrono>
#include <random>

#include "common/logging.h"

namespace berth::checkpoint {

Result<Blob> StoreBlob(metadata::ContentStore& store, const metadata::ContentScope& scope, std::string media_type,
                       std::string_view ref_hint, const std::function<Status(const ByteSink&)>& produce) {
  std::random_device rd;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string ref = fmt::format("checkpoint-{}-{}-{:08x}", ref_hint,
                                      std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), rd());
  auto opened = store.OpenWriter(scope, ref, 0, std::nullopt);
  if (!opened.ok()) return opened.status().Wrap("failed to open writer");
  std::unique_ptr<metadata::ContentWriter> w = std::move(opened).value();
  auto abort = [&](const Status& st) -> Status {
    w->Close().IgnoreError();
    if (Status a = store.Abort(scope, ref); !a.ok()) {
      log::Warn("failed to remove checkpoint upload", {{"ref", ref}, {"error", a.ToString()}});
    }
    return st;
  };
  if (Status st = produce([&](std::string_view data) { return w->Write(data); }); !st.ok()) return abort(st);
  const Digest digest = w->CurrentDigest();
  const int64_t size = w->Progress().offset;
  Status st = w->Commit(0, digest, {});
  if (!st.ok() && !st.Is(Errc::kAlreadyExists)) return abort(st.Wrap("failed to commit"));
  return Blob{std::move(media_type), digest.String(), size};
}

}  // namespace berth::checkpoint
