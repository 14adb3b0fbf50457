// Client: the content service (containerd's content proxy: info, list, labels, delete, read,
// and the Write stream's stat/write/commit protocol, resuming an open ingest).
#include <algorithm>
#include <istream>
#include <memory>
#include <ostream>
#include <vector>

#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"
#include "common/digest.h"

namespace berth::client {
namespace {

ContentInfo InfoFromProto(const contentv1::Info& info) {
  return ContentInfo{info.digest(), info.size(), TimeOf(info.has_created_at(), info.created_at()),
                     TimeOf(info.has_updated_at(), info.updated_at()), LabelsOf(info.labels())};
}

IngestStatus StatusFromProto(const contentv1::Status& st) {
  return IngestStatus{st.ref(),
                      st.offset(),
                      st.total(),
                      st.expected(),
                      TimeOf(st.has_started_at(), st.started_at()),
                      TimeOf(st.has_updated_at(), st.updated_at())};
}

// Reads up to `want` bytes; fewer only at the end of the input.
Result<size_t> ReadSome(std::istream& in, char* buf, size_t want) {
  in.read(buf, static_cast<std::streamsize>(want));
  if (in.bad()) return Unknown("reading the input failed");
  return static_cast<size_t>(in.gcount());
}

// Consumes the first `offset` bytes of `in`: Ok(true) if they hash to `digest` (or cannot be
// checked), Ok(false) if they differ or the input is shorter.
Result<bool> SkipPrefix(std::istream& in, int64_t offset, const std::string& digest,
                        std::vector<char>& buf) {
  auto hasher = Hasher::ForDigest(digest);  // the daemon's digest for what it holds
  int64_t left = offset;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
    BERTH_ASSIGN_OR_RETURN(size_t n, ReadSome(in, buf.data(), want));
    if (n == 0) return false;
    if (hasher.ok()) hasher->Update(buf.data(), n);
    left -= static_cast<int64_t>(n);
  }
  return !hasher.ok() || hasher->Finish().String() == digest;
}

}  // namespace

Result<ContentInfo> Client::GetContentInfo(const std::string& digest) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::InfoRequest request;
  request.set_digest(digest);
  contentv1::InfoResponse response;
  grpc::Status status = stubs_->content->Info(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return InfoFromProto(response.info());
}

Result<std::vector<ContentInfo>> Client::ListContent(
    const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::ListContentRequest request;
  for (const auto& f : filters) request.add_filters(f);
  auto reader = stubs_->content->List(&context, request);
  std::vector<ContentInfo> out;
  contentv1::ListContentResponse batch;
  while (reader->Read(&batch)) {
    for (const auto& info : batch.info()) out.push_back(InfoFromProto(info));
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpc(status);
  return out;
}

Result<ContentInfo> Client::UpdateContentLabels(const std::string& digest,
                                                const labels::Labels& labels,
                                                const std::vector<std::string>& paths) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::UpdateRequest request;
  request.mutable_info()->set_digest(digest);
  SetLabels(labels, request.mutable_info()->mutable_labels());
  for (const auto& path : paths) request.mutable_update_mask()->add_paths(path);
  contentv1::UpdateResponse response;
  grpc::Status status = stubs_->content->Update(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return InfoFromProto(response.info());
}

Status Client::DeleteContent(const std::string& digest) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::DeleteContentRequest request;
  request.set_digest(digest);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->content->Delete(&context, request, &response));
}

Status Client::ReadContent(const std::string& digest, const ReadCallback& callback,
                           int64_t offset, int64_t size) const {
  grpc::ClientContext context;
  Prepare(&context, false);  // a large blob may take long
  contentv1::ReadContentRequest request;
  request.set_digest(digest);
  request.set_offset(offset);
  request.set_size(size);
  auto reader = stubs_->content->Read(&context, request);
  contentv1::ReadContentResponse chunk;
  Status stopped;
  while (reader->Read(&chunk)) {
    stopped = callback(chunk.data());
    if (!stopped.ok()) {
      context.TryCancel();
      break;
    }
  }
  while (reader->Read(&chunk)) {
  }
  grpc::Status status = reader->Finish();
  if (!stopped.ok()) return stopped;
  return FromGrpc(status);
}

Status Client::ReadContent(const std::string& digest, std::ostream& out, int64_t offset,
                           int64_t size) const {
  return ReadContent(
      digest,
      [&out](std::string_view data) {
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        return out ? Status::Ok() : Unknown("writing the output failed");
      },
      offset, size);
}

Result<std::string> Client::ReadContentBlob(const std::string& digest, int64_t limit) const {
  std::string blob;
  BERTH_RETURN_IF_ERROR(ReadContent(digest, [&](std::string_view data) {
    if (static_cast<int64_t>(blob.size() + data.size()) > limit) {
      return Status(Errc::kResourceExhausted,
                    fmt::format("content {}: larger than {} bytes", digest, limit));
    }
    blob.append(data);
    return Status::Ok();
  }));
  return blob;
}

Result<ContentWriteResult> Client::WriteContent(std::istream& in,
                                                const ContentWriteRequest& request) const {
  if (request.ref.empty()) return InvalidArgument("a content write needs a ref");
  grpc::ClientContext context;
  Prepare(&context, false);
  auto stream = stubs_->content->Write(&context);
  // Every way out finishes the stream; leaving early cancels it (the ingest stays open).
  bool finished = false;
  struct Finisher {
    grpc::ClientContext& ctx;
    decltype(stream)& rw;
    bool& done;
    ~Finisher() {
      if (done) return;
      ctx.TryCancel();
      contentv1::WriteContentResponse ignored;
      while (rw->Read(&ignored)) {
      }
      (void)rw->Finish();
    }
  } finisher{context, stream, finished};

  ContentWriteResult result;
  std::string digest;  // of the bytes in the ingest, as the daemon last reported
  // After a failed exchange: the daemon's status, where "already exists" means the blob is
  // there (someone else wrote it), which is success.
  auto failed = [&]() -> Result<ContentWriteResult> {
    stream->WritesDone();
    contentv1::WriteContentResponse ignored;
    while (stream->Read(&ignored)) {
    }
    finished = true;
    Status status = FromGrpc(stream->Finish());
    if (status.ok()) {
      return Unknown("content write {:?}: the daemon ended the stream early", request.ref);
    }
    if (status.Is(Errc::kAlreadyExists) && (!request.expected.empty() || !digest.empty())) {
      result.already_exists = true;
      result.digest = request.expected.empty() ? digest : request.expected;
      result.offset = request.size;
      return result;
    }
    return status;
  };

  contentv1::WriteContentRequest message;
  contentv1::WriteContentResponse response;
  message.set_action(contentv1::STAT);
  message.set_ref(request.ref);
  message.set_total(request.size);
  message.set_expected(request.expected);
  if (!stream->Write(message) || !stream->Read(&response)) return failed();

  std::vector<char> buf(std::max<size_t>(request.chunk_size, 1));
  int64_t offset = response.offset();
  digest = response.digest();
  result.resumed_from = offset;
  if (offset > 0) {
    // Resume: skip what the ingest holds, if it is what the input starts with.
    BERTH_ASSIGN_OR_RETURN(bool same, SkipPrefix(in, offset, digest, buf));
    if (!same) {
      in.clear();
      if (!in.seekg(0)) {
        return FailedPrecondition(
            "ingest {:?} holds {} bytes that are not how the input starts; abort it first",
            request.ref, offset);
      }
      offset = 0;  // the first write at offset 0 truncates the ingest
      result.resumed_from = 0;
    }
  }

  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, ReadSome(in, buf.data(), buf.size()));
    if (n == 0) break;
    message.Clear();
    message.set_action(contentv1::WRITE);
    message.set_ref(request.ref);
    message.set_offset(offset);
    message.set_data(buf.data(), n);
    if (!stream->Write(message) || !stream->Read(&response)) return failed();
    if (response.offset() != offset + static_cast<int64_t>(n)) {
      return Unknown("content write {:?}: wrote {} bytes at {} but the ingest is at {}",
                     request.ref, n, offset, response.offset());
    }
    offset = response.offset();
    digest = response.digest();
  }

  if (!request.commit) {
    stream->WritesDone();
    finished = true;
    Status status = FromGrpc(stream->Finish());
    if (!status.ok()) return status;
    result.digest = digest;
    result.offset = offset;
    return result;
  }

  message.Clear();
  message.set_action(contentv1::COMMIT);
  message.set_ref(request.ref);
  message.set_offset(offset);
  message.set_total(request.size);
  message.set_expected(request.expected);
  SetLabels(request.labels, message.mutable_labels());
  if (!stream->Write(message) || !stream->Read(&response)) return failed();
  stream->WritesDone();
  finished = true;
  Status status = FromGrpc(stream->Finish());
  if (!status.ok()) return status;
  result.digest = response.digest();
  result.offset = response.offset();
  return result;
}

Result<IngestStatus> Client::GetIngestStatus(const std::string& ref) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::StatusRequest request;
  request.set_ref(ref);
  contentv1::StatusResponse response;
  grpc::Status status = stubs_->content->Status(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return StatusFromProto(response.status());
}

Result<std::vector<IngestStatus>> Client::ListIngestStatuses(
    const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::ListStatusesRequest request;
  for (const auto& f : filters) request.add_filters(f);
  contentv1::ListStatusesResponse response;
  grpc::Status status = stubs_->content->ListStatuses(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<IngestStatus> out;
  for (const auto& st : response.statuses()) out.push_back(StatusFromProto(st));
  return out;
}

Status Client::AbortIngest(const std::string& ref) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  contentv1::AbortRequest request;
  request.set_ref(ref);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->content->Abort(&context, request, &response));
}

}  // namespace berth::client
