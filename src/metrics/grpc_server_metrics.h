// The gRPC server's Prometheus metrics, named and labelled as containerd exports them
// (go-grpc-prometheus): grpc_server_started_total, grpc_server_handled_total (with grpc_code),
// grpc_server_msg_received_total, grpc_server_msg_sent_total, and, when asked for
// ([metrics] grpc_histogram), grpc_server_handling_seconds. Labels: grpc_type (unary,
// client_stream, server_stream, bidi_stream), grpc_service, grpc_method.
//
// A gRPC server interceptor factory: register it on the ServerBuilder. Thread-safe: gRPC
// creates one interceptor per call on any of its threads; the counters are prometheus-cpp's.
#pragma once

#include <memory>

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace berth::metrics {

class GrpcServerMetrics : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  GrpcServerMetrics(prometheus::Registry& registry, bool handling_histogram);

  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

  // Used by the per-call interceptors.
  struct Families {
    prometheus::Family<prometheus::Counter>* started;
    prometheus::Family<prometheus::Counter>* handled;
    prometheus::Family<prometheus::Counter>* received;
    prometheus::Family<prometheus::Counter>* sent;
    prometheus::Family<prometheus::Histogram>* seconds;  // nullptr without the histogram
  };

 private:
  Families families_;
};

// Go's names of gRPC status codes (codes.Code.String()), the values of grpc_code.
const char* GrpcCodeName(int code);

}  // namespace berth::metrics
