#include "metrics/grpc_server_metrics.h"

#include <chrono>
#include <string>

#include <grpcpp/support/interceptor.h>

namespace berth::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY: return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING: return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING: return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unknown";
}

// One call: counts as it goes; the labels are made once.
class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(const GrpcServerMetrics::Families& f, ServerRpcInfo* info) : f_(f) {
    std::string method = info->method() != nullptr ? info->method() : "";
    // "/package.Service/Method"
    size_t slash = method.rfind('/');
    std::string service = slash == std::string::npos ? std::string() : method.substr(method.empty() ? 0 : 1, slash - 1);
    labels_ = {{"grpc_type", TypeName(info->type())},
               {"grpc_service", service},
               {"grpc_method", slash == std::string::npos ? method : method.substr(slash + 1)}};
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      f_.started->Add(labels_).Increment();
    }
    // POST_RECV_MESSAGE also fires for the read that finds the end of a stream (no message).
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) && m->GetRecvMessage() != nullptr) {
      // Looked up once per call, not per message (a lookup takes the family's lock); on first
      // use, so a series appears only once counted, as in go-grpc-prometheus.
      if (received_ == nullptr) received_ = &f_.received->Add(labels_);
      received_->Increment();
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (sent_ == nullptr) sent_ = &f_.sent->Add(labels_);
      sent_->Increment();
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      prometheus::Labels with_code = labels_;
      with_code["grpc_code"] = GrpcCodeName(m->GetSendStatus().error_code());
      f_.handled->Add(with_code).Increment();
      if (f_.seconds != nullptr) {
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
        f_.seconds->Add(labels_, prometheus::Histogram::BucketBoundaries{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})
            .Observe(took.count());
      }
    }
    m->Proceed();
  }

 private:
  const GrpcServerMetrics::Families& f_;
  prometheus::Labels labels_;
  prometheus::Counter* received_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

const char* GrpcCodeName(int code) {
  static const char* const kNames[] = {"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
                                       "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
                                       "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
                                       "Internal", "Unavailable", "DataLoss", "Unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "Unknown";
  return kNames[code];
}

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry, bool handling_histogram) {
  families_.started = &prometheus::BuildCounter()
                           .Name("grpc_server_started_total")
                           .Help("Total number of RPCs started on the server.")
                           .Register(registry);
  families_.handled = &prometheus::BuildCounter()
                           .Name("grpc_server_handled_total")
                           .Help("Total number of RPCs completed on the server, regardless of success or failure.")
                           .Register(registry);
  families_.received = &prometheus::BuildCounter()
                            .Name("grpc_server_msg_received_total")
                            .Help("Total number of RPC stream messages received on the server.")
                            .Register(registry);
  families_.sent = &prometheus::BuildCounter()
                        .Name("grpc_server_msg_sent_total")
                        .Help("Total number of gRPC stream messages sent by the server.")
                        .Register(registry);
  families_.seconds = nullptr;
  if (handling_histogram) {
    families_.seconds = &prometheus::BuildHistogram()
                             .Name("grpc_server_handling_seconds")
                             .Help("Histogram of response latency (seconds) of gRPC that had been application-level "
                                   "handled by the server.")
                             .Register(registry);
  }
}

grpc::experimental::Interceptor* GrpcServerMetrics::CreateServerInterceptor(ServerRpcInfo* info) {
  return new CallInterceptor(families_, info);
}

}  // namespace berth::metrics
