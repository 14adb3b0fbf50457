#include "services/namespaces_service.h"

#include "common/logging.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "metadata/namespaces.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {
namespace {

labels::Labels ToLabels(const google::protobuf::Map<std::string, std::string>& m) {
  return labels::Labels(m.begin(), m.end());
}

void FillLabels(const labels::Labels& in, google::protobuf::Map<std::string, std::string>* out) {
  out->clear();
  for (const auto& [k, v] : in) (*out)[k] = v;
}

}  // namespace

void NamespacesService::PublishEvent(const grpc::ServerContext& ctx, const std::string& ns,
                                     std::string_view topic, const google::protobuf::Message& event) {
  std::string event_ns = NamespaceOf(ctx).value_or(ns);
  if (event_ns.empty()) event_ns = ns;
  Status st = publisher_.Publish(event_ns, topic, event);
  if (!st.ok()) {
    log::Warn("publish namespace event", {{"namespace", ns}, {"topic", topic}, {"error", st.ToString()}});
  }
}

grpc::Status NamespacesService::Get(grpc::ServerContext* /*ctx*/,
                                    const nsapi::GetNamespaceRequest* req,
                                    nsapi::GetNamespaceResponse* resp) {
  return Serve([&]() -> Reply {
    return db_.View([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto lbls, metadata::namespaces::Labels(tx, req->name()));
      resp->mutable_namespace_()->set_name(req->name());
      FillLabels(lbls, resp->mutable_namespace_()->mutable_labels());
      return Status::Ok();
    });
  });
}

grpc::Status NamespacesService::List(grpc::ServerContext* /*ctx*/,
                                     const nsapi::ListNamespacesRequest* /*req*/,
                                     nsapi::ListNamespacesResponse* resp) {
  return Serve([&]() -> Reply {
    return db_.View([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto all, metadata::namespaces::List(tx));
      for (const auto& ns : all) {
        auto* out = resp->add_namespaces();
        out->set_name(ns.name);
        FillLabels(ns.labels, out->mutable_labels());
      }
      return Status::Ok();
    });
  });
}

grpc::Status NamespacesService::Create(grpc::ServerContext* ctx,
                                       const nsapi::CreateNamespaceRequest* req,
                                       nsapi::CreateNamespaceResponse* resp) {
  return Serve([&]() -> Reply {
    const auto& ns = req->namespace_();
    labels::Labels lbls = ToLabels(ns.labels());
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) {
      return metadata::namespaces::Create(tx, ns.name(), lbls);
    }));
    *resp->mutable_namespace_() = ns;
    log::Info("namespace created", {{"namespace", ns.name()}});

    containerd::events::NamespaceCreate event;
    event.set_name(ns.name());
    *event.mutable_labels() = ns.labels();
    PublishEvent(*ctx, ns.name(), "/namespaces/create", event);
    return {};
  });
}

grpc::Status NamespacesService::Update(grpc::ServerContext* ctx,
                                       const nsapi::UpdateNamespaceRequest* req,
                                       nsapi::UpdateNamespaceResponse* resp) {
  return Serve([&]() -> Reply {
    const auto& ns = req->namespace_();
    labels::Labels requested = ToLabels(ns.labels());
    labels::Labels result;
    Status st = db_.Update([&](metadata::Tx& tx) -> Status {
      namespace mns = metadata::namespaces;
      if (req->has_update_mask() && req->update_mask().paths_size() > 0) {
        for (const auto& path : req->update_mask().paths()) {
          if (!path.starts_with("labels.")) return InvalidArgument("cannot update {:?} field", path);
          std::string key = path.substr(7);
          auto it = requested.find(key);
          BERTH_RETURN_IF_ERROR(
              mns::SetLabel(tx, ns.name(), key, it == requested.end() ? "" : it->second));
        }
      } else {
        // No mask: the request's labels replace all of them.
        BERTH_ASSIGN_OR_RETURN(auto current, mns::Labels(tx, ns.name()));
        for (const auto& [k, v] : current) BERTH_RETURN_IF_ERROR(mns::SetLabel(tx, ns.name(), k, ""));
        for (const auto& [k, v] : requested) BERTH_RETURN_IF_ERROR(mns::SetLabel(tx, ns.name(), k, v));
      }
      BERTH_ASSIGN_OR_RETURN(result, mns::Labels(tx, ns.name()));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    resp->mutable_namespace_()->set_name(ns.name());
    FillLabels(result, resp->mutable_namespace_()->mutable_labels());
    log::Info("namespace updated", {{"namespace", ns.name()}});

    containerd::events::NamespaceUpdate event;
    event.set_name(ns.name());
    *event.mutable_labels() = ns.labels();
    PublishEvent(*ctx, ns.name(), "/namespaces/update", event);
    return {};
  });
}

grpc::Status NamespacesService::Delete(grpc::ServerContext* /*ctx*/,
                                       const nsapi::DeleteNamespaceRequest* req,
                                       google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) { return metadata::namespaces::Delete(tx, req->name()); }));
    log::Info("namespace deleted", {{"namespace", req->name()}});

    containerd::events::NamespaceDelete event;
    event.set_name(req->name());
    // containerd publishes the delete event in the deleted namespace itself.
    Status pst = publisher_.Publish(req->name(), "/namespaces/delete", event);
    if (!pst.ok()) log::Warn("publish namespace event", {{"namespace", req->name()}, {"error", pst.ToString()}});
    return {};
  });
}

}  // namespace berth::services
