#include "metadata/leases.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/digest.h"
#include "metadata/label_rows.h"
#include "metadata/namespaces.h"

namespace berth::metadata::leases {
namespace {

Result<bool> Exists(Tx& tx, std::string_view ns, std::string_view id) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT 1 FROM leases WHERE namespace=?1 AND id=?2"));
  st.Bind(1, ns).Bind(2, id);
  return st.Step();
}

Status RequireLease(Tx& tx, std::string_view ns, std::string_view id) {
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(tx, ns, id));
  if (!exists) return NotFound("lease {:?}", id);
  return Status::Ok();
}

}  // namespace

std::string RandomId() {
  static constexpr char kBase64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, 3> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // Not fatal: uniqueness comes mostly from the clock; Create reports a collision.
    auto t = ToUnixNanos(Clock::now());
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<unsigned char>(t >> (8 * i));
  }
  uint32_t v = (uint32_t{b[0]} << 16) | (uint32_t{b[1]} << 8) | uint32_t{b[2]};
  std::string enc;
  for (int shift = 18; shift >= 0; shift -= 6) enc.push_back(kBase64Url[(v >> shift) & 0x3f]);
  // Like Go's time.Nanosecond(): the nanoseconds within the current second.
  int64_t nanos = ToUnixNanos(Clock::now()) % 1'000'000'000;
  return fmt::format("{}-{}", nanos, enc);
}

filters::FuncAdaptor Adapt(const Lease& lease) {
  return filters::FuncAdaptor([&lease](const std::vector<std::string>& path)
                                  -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    if (path[0] == "id") return filters::StringField(lease.id);
    if (path[0] == "labels") return filters::LabelField(lease.labels, filters::Rest(path));
    return std::nullopt;
  });
}

Result<Lease> Create(Tx& tx, std::string_view ns, Lease lease) {
  if (lease.id.empty()) return InvalidArgument("lease id must be provided");
  for (const auto& [k, v] : lease.labels) {
    BERTH_RETURN_IF_ERROR(labels::Validate(k, v).Wrap("lease.Labels"));
  }
  BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, ns));
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(tx, ns, lease.id));
  if (exists) return AlreadyExists("lease {:?}", lease.id);
  lease.created_at = Clock::now();
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "INSERT INTO leases(namespace, id, created_at) VALUES(?1, ?2, ?3)"));
    BERTH_RETURN_IF_ERROR(st.Bind(1, ns).Bind(2, lease.id).Bind(3, ToUnixNanos(lease.created_at)).Run());
  }
  label_rows::DropEmpty(lease.labels);
  BERTH_RETURN_IF_ERROR(label_rows::Write(tx, label_rows::kLeases, ns, lease.id, lease.labels));
  return lease;
}

Status Delete(Tx& tx, std::string_view ns, std::string_view id) {
  // Labels and resources go with the row (ON DELETE CASCADE).
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("DELETE FROM leases WHERE namespace=?1 AND id=?2"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, ns).Bind(2, id).Run());
  if (tx.Changes() == 0) return NotFound("lease {:?}", id);
  return Status::Ok();
}

Result<std::vector<Lease>> List(Tx& tx, std::string_view ns,
                                const std::vector<std::string>& filter_strings) {
  BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(filter_strings));
  std::vector<Lease> all;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "SELECT id, created_at FROM leases WHERE namespace=?1 ORDER BY id"));
    st.Bind(1, ns);
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      all.push_back(Lease{st.ColumnText(0), {}, FromUnixNanos(st.ColumnInt(1))});
    }
  }
  std::vector<Lease> out;
  for (auto& lease : all) {
    BERTH_ASSIGN_OR_RETURN(lease.labels, label_rows::Read(tx, label_rows::kLeases, ns, lease.id));
    if (filter->Match(Adapt(lease))) out.push_back(std::move(lease));
  }
  return out;
}

Result<lease_resources::Resource> ParseResource(const lease_resources::Resource& r) {
  std::string_view type = r.type;
  std::string_view first = type.substr(0, type.find('/'));
  size_t parts = 1 + static_cast<size_t>(std::count(type.begin(), type.end(), '/'));
  if (first == lease_resources::kContent || first == lease_resources::kIngests) {
    if (parts != 1) return InvalidArgument("invalid resource type {}", r.type);
    if (first == lease_resources::kContent) {
      auto digest = ParseDigest(r.id);
      if (!digest.ok()) {
        // ParseDigest says `invalid digest "x": reason`; containerd names only the reason.
        const std::string& msg = digest.status().message();
        auto colon = msg.rfind(": ");
        return InvalidArgument("invalid content resource id {}: {}", r.id,
                               colon == std::string::npos ? msg : msg.substr(colon + 2));
      }
      return lease_resources::Resource{r.type, digest->String()};
    }
    return r;
  }
  if (first == "snapshots") {
    if (parts != 2) return InvalidArgument("invalid snapshot resource type {}", r.type);
    return r;
  }
  return Status(Errc::kNotImplemented, fmt::format("resource type {} not supported yet", r.type));
}

Status AddResource(Tx& tx, std::string_view ns, std::string_view id,
                   const lease_resources::Resource& resource) {
  BERTH_RETURN_IF_ERROR(RequireLease(tx, ns, id));
  BERTH_ASSIGN_OR_RETURN(auto r, ParseResource(resource));
  return lease_resources::Add(tx, ns, id, r.type, r.id);
}

Status DeleteResource(Tx& tx, std::string_view ns, std::string_view id,
                      const lease_resources::Resource& resource) {
  BERTH_RETURN_IF_ERROR(RequireLease(tx, ns, id));
  BERTH_ASSIGN_OR_RETURN(auto r, ParseResource(resource));
  return lease_resources::Remove(tx, ns, id, r.type, r.id);
}

Result<std::vector<lease_resources::Resource>> ListResources(Tx& tx, std::string_view ns,
                                                             std::string_view id) {
  BERTH_RETURN_IF_ERROR(RequireLease(tx, ns, id));
  return lease_resources::List(tx, ns, id);
}

}  // namespace berth::metadata::leases
