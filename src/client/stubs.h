// The gRPC stubs behind a Client (private to the client library).
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "client/client.h"
#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/diff/v1/diff.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/introspection/v1/introspection.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"

namespace berth::client {

namespace containersv1 = containerd::services::containers::v1;
namespace contentv1 = containerd::services::content::v1;
namespace diffv1 = containerd::services::diff::v1;
namespace eventsv1 = containerd::services::events::v1;
namespace imagesv1 = containerd::services::images::v1;
namespace introspectionv1 = containerd::services::introspection::v1;
namespace leasesv1 = containerd::services::leases::v1;
namespace namespacesv1 = containerd::services::namespaces::v1;
namespace snapshotsv1 = containerd::services::snapshots::v1;
namespace tasksv1 = containerd::services::tasks::v1;
namespace versionv1 = containerd::services::version::v1;

// Thread-safe: gRPC stubs may be used from any thread at once; the members are set once, at
// construction.
struct Client::Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : version(versionv1::Version::NewStub(channel)),
        introspection(introspectionv1::Introspection::NewStub(channel)),
        namespaces(namespacesv1::Namespaces::NewStub(channel)),
        events(eventsv1::Events::NewStub(channel)),
        content(contentv1::Content::NewStub(channel)),
        images(imagesv1::Images::NewStub(channel)),
        leases(leasesv1::Leases::NewStub(channel)),
        containers(containersv1::Containers::NewStub(channel)),
        snapshots(snapshotsv1::Snapshots::NewStub(channel)),
        tasks(tasksv1::Tasks::NewStub(channel)),
        diff(diffv1::Diff::NewStub(channel)) {}

  std::unique_ptr<versionv1::Version::Stub> version;
  std::unique_ptr<introspectionv1::Introspection::Stub> introspection;
  std::unique_ptr<namespacesv1::Namespaces::Stub> namespaces;
  std::unique_ptr<eventsv1::Events::Stub> events;
  std::unique_ptr<contentv1::Content::Stub> content;
  std::unique_ptr<imagesv1::Images::Stub> images;
  std::unique_ptr<leasesv1::Leases::Stub> leases;
  std::unique_ptr<containersv1::Containers::Stub> containers;
  std::unique_ptr<snapshotsv1::Snapshots::Stub> snapshots;
  std::unique_ptr<tasksv1::Tasks::Stub> tasks;
  std::unique_ptr<diffv1::Diff::Stub> diff;
};

}  // namespace berth::client
