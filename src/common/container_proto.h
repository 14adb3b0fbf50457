// Container <-> containerd.services.containers.v1.Container, all but the timestamps: berthd
// sets those and sends them (services/containers_service.cc), the client reads them back
// (client/containers.cc).
#pragma once

#include "common/records.h"
#include "github.com/containerd/containerd/api/services/containers/v1/containers.pb.h"

namespace berth {

// created_at and updated_at are left at the epoch.
Container ContainerFromProto(const containerd::services::containers::v1::Container& c);
// created_at and updated_at are left unset.
void ContainerToProto(const Container& c, containerd::services::containers::v1::Container* out);

}  // namespace berth
