// Status <-> grpc::Status, with the codes containerd's errdefs.ToGRPC uses, and Serve: the one
// way a gRPC handler turns its body's Status into the answer.
#pragma once

#include <utility>

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace berth::services {

grpc::StatusCode ToGrpcCode(Errc code);
// The message is Status::ToString(): "namespace \"x\": not found", as containerd sends it.
grpc::Status ToGrpc(const Status& status);

// What a handler's body returns: a berth::Status (mapped by ToGrpc), or a grpc::Status passed
// through as is where containerd answers with a code or a text that errdefs has no kind for
// (OUT_OF_RANGE, a bare InvalidArgument message). `return {};` is OK.
class Reply {
 public:
  Reply() = default;
  Reply(const Status& s) : status_(ToGrpc(s)) {}       // NOLINT: implicit by design
  Reply(grpc::Status s) : status_(std::move(s)) {}     // NOLINT: implicit by design

  const grpc::Status& status() const { return status_; }

 private:
  grpc::Status status_;
};

// Runs a handler's body, so that it can use BERTH_RETURN_IF_ERROR and BERTH_ASSIGN_OR_RETURN:
//
//   grpc::Status FooService::Get(grpc::ServerContext* ctx, const GetRequest* req, GetResponse* resp) {
//     return Serve([&]() -> Reply {
//       BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
//       BERTH_ASSIGN_OR_RETURN(auto foo, foos_.Get(ns, req->id()));
//       ToProto(foo, resp->mutable_foo());
//       return {};
//     });
//   }
template <typename Body>
grpc::Status Serve(Body&& body) {
  return std::forward<Body>(body)().status();
}

}  // namespace berth::services
