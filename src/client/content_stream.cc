// ContentWriter and ContentReader over the content service's Write and Read streams.
#include "client/content_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"

namespace berth::client {

struct ContentWriter::Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<contentv1::WriteContentRequest, contentv1::WriteContentResponse>> rw;
  ContentWriteRequest request;
  int64_t offset = 0;
  bool finished = false;

  // Ends the stream after a failed exchange and returns the daemon's status.
  Status Fail() {
    if (finished) return Unknown("content write {:?}: the stream is closed", request.ref);
    rw->WritesDone();
    contentv1::WriteContentResponse ignored;
    while (rw->Read(&ignored)) {
    }
    finished = true;
    Status status = FromGrpc(rw->Finish());
    if (status.ok()) return Unknown("content write {:?}: the daemon ended the stream early", request.ref);
    return status;
  }

  ~Stream() {
    if (finished) return;
    // Leaving uncommitted: cancel; the daemon keeps the ingest.
    context.TryCancel();
    contentv1::WriteContentResponse ignored;
    while (rw->Read(&ignored)) {
    }
    (void)rw->Finish();
  }
};

ContentWriter::ContentWriter(std::unique_ptr<Stream> stream) : stream_(std::move(stream)) {}
ContentWriter::~ContentWriter() = default;

bool IsRefLocked(const Status& status) {
  return status.Is(Errc::kUnavailable) && status.message().find("locked") != std::string::npos;
}

Result<std::unique_ptr<ContentWriter>> ContentWriter::Open(Client& client, const ContentWriteRequest& request,
                                                           const std::function<bool()>& stop) {
  if (request.ref.empty()) return InvalidArgument("a content write needs a ref");
  std::minstd_rand rng(std::random_device{}());
  int retry_ms = 16;
  for (;;) {
    auto opened = OpenOnce(client, request);
    if (opened.ok() || !IsRefLocked(opened.status()) || (stop && stop())) return opened;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % static_cast<unsigned>(retry_ms)));
    if (retry_ms < 2048) retry_ms <<= 1;
    if (stop && stop()) return opened;
  }
}

Result<std::unique_ptr<ContentWriter>> ContentWriter::OpenOnce(Client& client, const ContentWriteRequest& request) {
  auto stream = std::make_unique<Stream>();
  stream->request = request;
  client.Prepare(&stream->context, false);
  stream->rw = client.stubs_->content->Write(&stream->context);
  contentv1::WriteContentRequest message;
  message.set_action(contentv1::STAT);
  message.set_ref(request.ref);
  message.set_total(request.size);
  message.set_expected(request.expected);
  contentv1::WriteContentResponse response;
  if (!stream->rw->Write(message) || !stream->rw->Read(&response)) return stream->Fail();
  stream->offset = response.offset();
  if (request.size > 0 && stream->offset > request.size) stream->offset = 0;  // not this blob's bytes
  return std::unique_ptr<ContentWriter>(new ContentWriter(std::move(stream)));
}

int64_t ContentWriter::offset() const { return stream_->offset; }

void ContentWriter::Restart() { stream_->offset = 0; }

Status ContentWriter::Write(std::string_view data) {
  Stream& s = *stream_;
  constexpr size_t kChunk = 1 << 20;  // under the 16 MiB message limit, with room to spare
  while (!data.empty()) {
    size_t n = std::min(data.size(), kChunk);
    contentv1::WriteContentRequest message;
    message.set_action(contentv1::WRITE);
    message.set_ref(s.request.ref);
    message.set_offset(s.offset);
    message.set_data(data.data(), n);
    contentv1::WriteContentResponse response;
    if (s.finished || !s.rw->Write(message) || !s.rw->Read(&response)) return s.Fail();
    if (response.offset() != s.offset + static_cast<int64_t>(n)) {
      return Unknown("content write {:?}: wrote {} bytes at {} but the ingest is at {}", s.request.ref, n,
                     s.offset, response.offset());
    }
    s.offset = response.offset();
    data.remove_prefix(n);
  }
  return Status::Ok();
}

Result<std::string> ContentWriter::Commit(const labels::Labels& labels) {
  Stream& s = *stream_;
  contentv1::WriteContentRequest message;
  message.set_action(contentv1::COMMIT);
  message.set_ref(s.request.ref);
  message.set_offset(s.offset);
  message.set_total(s.request.size);
  message.set_expected(s.request.expected);
  for (const auto& [k, v] : labels) (*message.mutable_labels())[k] = v;
  contentv1::WriteContentResponse response;
  if (s.finished || !s.rw->Write(message) || !s.rw->Read(&response)) return s.Fail();
  s.rw->WritesDone();
  s.finished = true;
  Status status = FromGrpc(s.rw->Finish());
  if (!status.ok()) return status;
  return response.digest();
}

struct ContentReader::Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<contentv1::ReadContentResponse>> reader;
  contentv1::ReadContentResponse chunk;
  size_t used = 0;  // bytes of chunk.data() handed out
  bool ended = false;

  ~Stream() {
    if (ended) return;
    context.TryCancel();
    while (reader->Read(&chunk)) {
    }
    (void)reader->Finish();
  }
};

ContentReader::ContentReader(std::unique_ptr<Stream> stream) : stream_(std::move(stream)) {}
ContentReader::~ContentReader() = default;

Result<std::unique_ptr<ContentReader>> ContentReader::Open(Client& client, const std::string& digest,
                                                           int64_t offset) {
  auto stream = std::make_unique<Stream>();
  client.Prepare(&stream->context, false);
  contentv1::ReadContentRequest request;
  request.set_digest(digest);
  request.set_offset(offset);
  stream->reader = client.stubs_->content->Read(&stream->context, request);
  return std::unique_ptr<ContentReader>(new ContentReader(std::move(stream)));
}

Result<size_t> ContentReader::Read(std::span<char> buf) {
  Stream& s = *stream_;
  while (!s.ended && s.used == s.chunk.data().size()) {
    s.used = 0;
    if (!s.reader->Read(&s.chunk)) {
      s.ended = true;
      s.chunk.Clear();
      BERTH_RETURN_IF_ERROR(FromGrpc(s.reader->Finish()));
    }
  }
  if (s.ended) return size_t{0};
  size_t n = std::min(buf.size(), s.chunk.data().size() - s.used);
  std::memcpy(buf.data(), s.chunk.data().data() + s.used, n);
  s.used += n;
  return n;
}

}  // namespace berth::client
