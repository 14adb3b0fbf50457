#include "metadata/images.h"

#include <utility>

#include "common/descriptor_proto.h"
#include "common/digest.h"
#include "metadata/label_rows.h"
#include "metadata/namespaces.h"

namespace berth::metadata::images {
namespace {

std::string EncodeTarget(const Descriptor& d) {
  containerd::types::Descriptor pb;
  DescriptorToProto(d, &pb);
  return pb.SerializeAsString();
}

Result<Descriptor> DecodeTarget(const std::string& bytes, std::string_view name) {
  containerd::types::Descriptor pb;
  if (!pb.ParseFromString(bytes)) return Internal("image {:?}: unreadable target", name);
  return DescriptorFromProto(pb);
}

Status ValidateTarget(const Descriptor& target) {
  auto digest = ParseDigest(target.digest);
  if (!digest.ok()) {
    // ParseDigest says `invalid digest "x": reason`; containerd says `Target.Digest "x" invalid: reason`.
    const std::string& msg = digest.status().message();
    auto colon = msg.rfind(": ");
    std::string reason = colon == std::string::npos ? msg : msg.substr(colon + 2);
    return InvalidArgument("Target.Digest {:?} invalid: {}", target.digest, reason);
  }
  if (target.size <= 0) return InvalidArgument("Target.Size must be greater than zero");
  if (target.media_type.empty()) return InvalidArgument("Target.MediaType must be set");
  return Status::Ok();
}

int64_t Now() { return ToUnixNanos(Clock::now()); }

// Reads the row the statement is on: name, target, created_at, updated_at.
Result<Image> ReadRow(Tx& tx, std::string_view ns, const Stmt& st) {
  Image image;
  image.name = st.ColumnText(0);
  BERTH_ASSIGN_OR_RETURN(image.target, DecodeTarget(st.ColumnText(1), image.name));
  image.created_at = FromUnixNanos(st.ColumnInt(2));
  image.updated_at = FromUnixNanos(st.ColumnInt(3));
  BERTH_ASSIGN_OR_RETURN(image.labels, label_rows::Read(tx, label_rows::kImages, ns, image.name));
  return image;
}

Status Write(Tx& tx, std::string_view ns, const Image& image, bool insert) {
  if (insert) {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "INSERT INTO images(namespace, name, target, target_digest, created_at, updated_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    st.Bind(1, ns).Bind(2, image.name).BindBlob(3, EncodeTarget(image.target));
    st.Bind(4, image.target.digest).Bind(5, ToUnixNanos(image.created_at));
    BERTH_RETURN_IF_ERROR(st.Bind(6, ToUnixNanos(image.updated_at)).Run());
  } else {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "UPDATE images SET target=?3, target_digest=?4, updated_at=?5 "
        "WHERE namespace=?1 AND name=?2"));
    st.Bind(1, ns).Bind(2, image.name).BindBlob(3, EncodeTarget(image.target));
    BERTH_RETURN_IF_ERROR(st.Bind(4, image.target.digest).Bind(5, ToUnixNanos(image.updated_at)).Run());
  }
  return label_rows::Write(tx, label_rows::kImages, ns, image.name, image.labels);
}

}  // namespace

Status Validate(const Image& image) {
  if (image.name.empty()) return InvalidArgument("image name must not be empty");
  for (const auto& [k, v] : image.labels) {
    BERTH_RETURN_IF_ERROR(labels::Validate(k, v).Wrap("image.Labels"));
  }
  return ValidateTarget(image.target);
}

filters::FuncAdaptor Adapt(const Image& image) {
  return filters::FuncAdaptor([&image](const std::vector<std::string>& path)
                                  -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    const std::string& field = path[0];
    if (field == "name") return filters::StringField(image.name);
    if (field == "target") {
      if (path.size() < 2) return std::nullopt;
      if (path[1] == "digest") return filters::StringField(image.target.digest);
      if (path[1] == "mediatype") return filters::StringField(image.target.media_type);
      return std::nullopt;
    }
    if (field == "labels") return filters::LabelField(image.labels, filters::Rest(path));
    if (field == "annotations") {
      return filters::LabelField(image.target.annotations, filters::Rest(path));
    }
    return std::nullopt;
  });
}

Result<Image> Get(Tx& tx, std::string_view ns, std::string_view name) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "SELECT name, target, created_at, updated_at FROM images WHERE namespace=?1 AND name=?2"));
  st.Bind(1, ns).Bind(2, name);
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("image {:?}", name);
  return ReadRow(tx, ns, st);
}

Result<std::vector<Image>> List(Tx& tx, std::string_view ns,
                                const std::vector<std::string>& filter_strings) {
  BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(filter_strings));
  std::vector<Image> all;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "SELECT name, target, created_at, updated_at FROM images WHERE namespace=?1 ORDER BY name"));
    st.Bind(1, ns);
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      // Labels are read after the scan: one statement at a time per cached SQL.
      Image image;
      image.name = st.ColumnText(0);
      BERTH_ASSIGN_OR_RETURN(image.target, DecodeTarget(st.ColumnText(1), image.name));
      image.created_at = FromUnixNanos(st.ColumnInt(2));
      image.updated_at = FromUnixNanos(st.ColumnInt(3));
      all.push_back(std::move(image));
    }
  }
  std::vector<Image> out;
  for (auto& image : all) {
    BERTH_ASSIGN_OR_RETURN(image.labels, label_rows::Read(tx, label_rows::kImages, ns, image.name));
    if (filter->Match(Adapt(image))) out.push_back(std::move(image));
  }
  return out;
}

Result<Image> Create(Tx& tx, std::string_view ns, Image image) {
  BERTH_RETURN_IF_ERROR(Validate(image));
  BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, ns));
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT 1 FROM images WHERE namespace=?1 AND name=?2"));
    st.Bind(1, ns).Bind(2, image.name);
    BERTH_ASSIGN_OR_RETURN(bool exists, st.Step());
    if (exists) return AlreadyExists("image {:?}", image.name);
  }
  image.created_at = FromUnixNanos(Now());
  image.updated_at = image.created_at;
  label_rows::DropEmpty(image.labels);
  label_rows::DropEmpty(image.target.annotations);
  BERTH_RETURN_IF_ERROR(Write(tx, ns, image, /*insert=*/true));
  return image;
}

Result<Image> Update(Tx& tx, std::string_view ns, const Image& image,
                     const std::vector<std::string>& paths) {
  if (image.name.empty()) return InvalidArgument("image name is required for update");
  BERTH_ASSIGN_OR_RETURN(Image updated, Get(tx, ns, image.name));
  TimePoint created_at = updated.created_at;
  if (paths.empty()) {
    updated = image;
  } else {
    for (const auto& path : paths) {
      if (path.starts_with("labels.")) {
        std::string key = path.substr(7);
        auto it = image.labels.find(key);
        updated.labels[key] = it == image.labels.end() ? "" : it->second;
      } else if (path.starts_with("annotations.")) {
        std::string key = path.substr(12);
        auto it = image.target.annotations.find(key);
        updated.target.annotations[key] = it == image.target.annotations.end() ? "" : it->second;
      } else if (path == "labels") {
        updated.labels = image.labels;
      } else if (path == "target") {
        // Only as a unit: digest, size and media type make sense only together.
        updated.target = image.target;
      } else if (path == "annotations") {
        updated.target.annotations = image.target.annotations;
      } else {
        return InvalidArgument("cannot update {:?} field on image {:?}", path, image.name);
      }
    }
  }
  BERTH_RETURN_IF_ERROR(Validate(updated));
  updated.name = image.name;
  updated.created_at = created_at;
  updated.updated_at = FromUnixNanos(Now());
  label_rows::DropEmpty(updated.labels);
  label_rows::DropEmpty(updated.target.annotations);
  BERTH_RETURN_IF_ERROR(Write(tx, ns, updated, /*insert=*/false));
  return updated;
}

Status Delete(Tx& tx, std::string_view ns, std::string_view name) {
  // Labels go with the image (ON DELETE CASCADE).
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("DELETE FROM images WHERE namespace=?1 AND name=?2"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, ns).Bind(2, name).Run());
  if (tx.Changes() == 0) return NotFound("image {:?}", name);
  return Status::Ok();
}

}  // namespace berth::metadata::images
