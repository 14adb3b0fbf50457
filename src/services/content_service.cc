#include "services/content_service.h"

#include <vector>

#include "common/filters.h"
#include "common/logging.h"
#include "common/timeutil.h"
#include "github.com/containerd/containerd/api/events/content.pb.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {
namespace {

// An optional digest field: empty is none; anything else must parse.
Result<std::optional<Digest>> OptionalDigest(const std::string& s) {
  if (s.empty()) return std::optional<Digest>();
  auto d = ParseDigest(s);
  if (!d.ok()) return d.status();
  return std::optional<Digest>(std::move(d).value());
}

void ToProto(const metadata::ContentInfo& in, contentapi::Info* out) {
  out->set_digest(in.digest);
  out->set_size(in.size);
  SetTimestamp(out->mutable_created_at(), in.created_at);
  SetTimestamp(out->mutable_updated_at(), in.updated_at);
  out->mutable_labels()->clear();
  for (const auto& [k, v] : in.labels) (*out->mutable_labels())[k] = v;
}

void ToProto(const content::IngestStatus& in, contentapi::Status* out) {
  *out->mutable_started_at() = berth::ToProto(in.started_at);
  *out->mutable_updated_at() = berth::ToProto(in.updated_at);
  out->set_ref(in.ref);
  out->set_offset(in.offset);
  out->set_total(in.total);
  out->set_expected(in.expected);
}

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

}  // namespace

grpc::Status ContentService::Info(grpc::ServerContext* ctx, const contentapi::InfoRequest* req,
                                  contentapi::InfoResponse* resp) {
  return Serve([&]() -> Reply {
    auto digest = ParseDigest(req->digest());
    if (!digest.ok()) return Invalid(fmt::format("{:?} failed validation", req->digest()));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentInfo info, store_.Info(scope, *digest));
    ToProto(info, resp->mutable_info());
    return {};
  });
}

grpc::Status ContentService::Update(grpc::ServerContext* ctx, const contentapi::UpdateRequest* req,
                                    contentapi::UpdateResponse* resp) {
  return Serve([&]() -> Reply {
    auto digest = ParseDigest(req->info().digest());
    if (!digest.ok()) return Invalid(fmt::format("{:?} failed validation", req->info().digest()));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    labels::Labels lbls(req->info().labels().begin(), req->info().labels().end());
    std::vector<std::string> paths(req->update_mask().paths().begin(), req->update_mask().paths().end());
    BERTH_ASSIGN_OR_RETURN(metadata::ContentInfo info, store_.Update(scope, *digest, lbls, paths));
    ToProto(info, resp->mutable_info());
    return {};
  });
}

grpc::Status ContentService::List(grpc::ServerContext* ctx, const contentapi::ListContentRequest* req,
                                  grpc::ServerWriter<contentapi::ListContentResponse>* writer) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(filters::FilterPtr filter, filters::ParseAll(req->filters()));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    BERTH_ASSIGN_OR_RETURN(std::vector<metadata::ContentInfo> infos, store_.List(scope, filter));
    contentapi::ListContentResponse batch;
    for (const auto& info : infos) {
      ToProto(info, batch.add_info());
      if (batch.info_size() >= kListBatch) {
        if (!writer->Write(batch)) return {};  // client went away
        batch.Clear();
      }
    }
    if (batch.info_size() > 0) writer->Write(batch);
    return {};
  });
}

grpc::Status ContentService::Delete(grpc::ServerContext* ctx, const contentapi::DeleteContentRequest* req,
                                    google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    auto digest = ParseDigest(req->digest());
    if (!digest.ok()) return Invalid(digest.status().ToString());
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    BERTH_RETURN_IF_ERROR(store_.Delete(scope, *digest));
    gc_.Schedule();
    containerd::events::ContentDelete event;
    event.set_digest(digest->String());
    berth::Status pst = publisher_.Publish(scope.ns, "/content/delete", event);
    if (!pst.ok()) {
      log::Warn("publish content event", {{"namespace", scope.ns}, {"digest", digest->String()},
                                          {"error", pst.ToString()}});
    }
    return {};
  });
}

grpc::Status ContentService::Read(grpc::ServerContext* ctx, const contentapi::ReadContentRequest* req,
                                  grpc::ServerWriter<contentapi::ReadContentResponse>* writer) {
  return Serve([&]() -> Reply {
    auto digest = ParseDigest(req->digest());
    if (!digest.ok()) return Invalid(fmt::format("{}: {}", req->digest(), digest.status().ToString()));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentInfo info, store_.Info(scope, *digest));
    BERTH_ASSIGN_OR_RETURN(content::ReaderAt reader, store_.Reader(scope, *digest));

    int64_t offset = std::max<int64_t>(req->offset(), 0);
    int64_t size = req->size();
    if (offset > info.size) {
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, fmt::format("read past object length {} bytes", info.size));
    }
    if (size <= 0 || offset + size > info.size) size = info.size - offset;

    std::vector<char> buf(std::min<size_t>(kReadChunk, static_cast<size_t>(std::max<int64_t>(size, 1))));
    contentapi::ReadContentResponse chunk;
    const int64_t end = offset + size;
    while (offset < end) {
      if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
      size_t want = static_cast<size_t>(std::min<int64_t>(end - offset, static_cast<int64_t>(buf.size())));
      BERTH_ASSIGN_OR_RETURN(size_t n, reader.ReadAt(std::span<char>(buf.data(), want), offset));
      if (n == 0) break;  // the file is shorter than recorded: stop, as io.SectionReader does
      chunk.set_offset(offset);
      chunk.set_data(buf.data(), n);
      if (!writer->Write(chunk)) return {};
      offset += static_cast<int64_t>(n);
    }
    return {};
  });
}

grpc::Status ContentService::Status(grpc::ServerContext* ctx, const contentapi::StatusRequest* req,
                                    contentapi::StatusResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    auto st = store_.Ingest(scope, req->ref());
    if (!st.ok()) return st.status().Wrap(fmt::format("could not get status for ref {:?}", req->ref()));
    ToProto(*st, resp->mutable_status());
    return {};
  });
}

grpc::Status ContentService::ListStatuses(grpc::ServerContext* ctx, const contentapi::ListStatusesRequest* req,
                                          contentapi::ListStatusesResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(filters::FilterPtr filter, filters::ParseAll(req->filters()));
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    BERTH_ASSIGN_OR_RETURN(auto statuses, store_.ListIngests(scope, filter));
    for (const auto& st : statuses) ToProto(st, resp->add_statuses());
    return {};
  });
}

grpc::Status ContentService::Abort(grpc::ServerContext* ctx, const contentapi::AbortRequest* req,
                                   google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    return store_.Abort(scope, req->ref());
  });
}

grpc::Status ContentService::Write(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<contentapi::WriteContentResponse, contentapi::WriteContentRequest>* stream) {
  return Serve([&]() -> Reply {
    contentapi::WriteContentRequest req;
    if (!stream->Read(&req)) return {};  // nothing asked
    const std::string ref = req.ref();
    if (ref.empty()) return Invalid("first message must have a reference");
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));

    int64_t total = req.total();
    BERTH_ASSIGN_OR_RETURN(std::optional<Digest> expected, OptionalDigest(req.expected()));

    auto opened = store_.OpenWriter(scope, ref, total, expected);
    if (!opened.ok()) {
      if (!opened.status().Is(Errc::kAlreadyExists)) {
        log::Warn("content write failed", {{"namespace", scope.ns}, {"ref", ref},
                                           {"error", opened.status().ToString()}});
      }
      return opened.status();
    }
    std::unique_ptr<metadata::ContentWriter> wr = std::move(opened).value();
    auto fail = [&](Reply reply) {
      if (reply.status().error_code() != grpc::StatusCode::ALREADY_EXISTS) {
        log::Warn("content write failed", {{"namespace", scope.ns}, {"ref", ref},
                                           {"error", reply.status().error_message()}});
      }
      return reply;
    };

    contentapi::WriteContentResponse msg;
    for (;;) {
      msg.set_action(req.action());
      content::IngestStatus ws = wr->Progress();
      msg.set_offset(ws.offset);  // always set the offset

      if (!req.expected().empty()) {
        auto next = OptionalDigest(req.expected());
        if (!next.ok()) return fail(next.status());
        expected = *next;
        if (store_.Info(scope, *expected).ok()) {
          // Someone committed it meanwhile: this write is moot.
          berth::Status closed = wr->Close();
          if (!closed.ok()) log::Warn("close content writer", {{"ref", ref}, {"error", closed.ToString()}});
          wr.reset();
          berth::Status aborted = store_.Abort(scope, ref);
          if (!aborted.ok()) log::Warn("abort content write", {{"ref", ref}, {"error", aborted.ToString()}});
          return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                              fmt::format("blob with expected digest {} exists", expected->String()));
        }
      }
      if (req.total() > 0) total = req.total();

      switch (req.action()) {
        case contentapi::STAT:
          msg.set_digest(wr->CurrentDigest().String());
          *msg.mutable_started_at() = berth::ToProto(ws.started_at);
          *msg.mutable_updated_at() = berth::ToProto(ws.updated_at);
          msg.set_total(total);
          break;
        case contentapi::WRITE:
        case contentapi::COMMIT: {
          if (req.offset() > 0 && req.offset() != ws.offset) {
            return fail(grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                                     fmt::format("write @{} must occur at current offset {}", req.offset(), ws.offset)));
          }
          if (req.offset() == 0 && ws.offset > 0) {
            berth::Status st = wr->Truncate(0);
            if (!st.ok()) return fail(st.Wrap("truncate failed"));
            msg.set_offset(0);
          }
          if (!req.data().empty()) {
            berth::Status st = wr->Write(req.data());
            if (!st.ok()) return fail(st);
            msg.set_offset(msg.offset() + static_cast<int64_t>(req.data().size()));
          }
          if (req.action() == contentapi::COMMIT) {
            labels::Labels lbls(req.labels().begin(), req.labels().end());
            berth::Status st = wr->Commit(total, expected, lbls);
            if (!st.ok()) return fail(st);
            msg.set_digest(wr->committed().String());
          } else {
            msg.set_digest(wr->CurrentDigest().String());
          }
          break;
        }
        default:
          return fail(Invalid(fmt::format("unknown write action {}", static_cast<int>(req.action()))));
      }

      if (!stream->Write(msg)) return {};  // client went away; the ingest stays
      if (req.action() == contentapi::COMMIT) return {};
      if (!stream->Read(&req)) return {};  // end of stream: the ingest stays
    }
  });
}

}  // namespace berth::services
