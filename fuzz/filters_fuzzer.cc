// Fuzz target: containerd's filter language (src/common/filters.h) as berthd receives it in the
// `filters` of List/Subscribe requests (images, containers, content, leases, snapshots, events),
// the input being one filter string. A filter that parses is matched against a small fixed set of
// objects: records through a FuncAdaptor (name, labels, a nested field) as the stores' adaptors do,
// and an event envelope and a container record through ProtoAdaptor (fields by proto name, labels,
// the event inside its Any).
//
// Invariants: a refusal is InvalidArgument and names the filter ("filters: parse error: [");
// parsing is deterministic (a second parse matches the same objects); `x,x` (x AND x) parses
// whenever x does and matches exactly the same objects, as does ParseAll({x, x}) (x OR x); when the
// input holds newlines, its lines as separate filters (ParseAll) parse and match without crashing.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/proto_adaptor.h"
#include "fuzz_check.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/containers/v1/containers.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"

namespace berth::filters {
namespace {

struct Record {
  std::string name;
  std::string other;
  std::map<std::string, std::string> labels;
};

// The objects every filter is matched against (built once).
class Objects {
 public:
  Objects() {
    records_ = {
        {"alpine", "", {{"env", "prod"}, {"a.b", "c"}}},
        {"busybox", "a, b and c", {}},
        {"docker.io/library/redis:7", "x|y", {{"empty", ""}, {"weird \\ and \" key", "yes"}}},
        {"", "牛", {{"containerd.io/gc.ref.content.l.0", "sha256:abc"}}},
    };
    containerd::events::TaskExit task_exit;
    task_exit.set_container_id("c1");
    task_exit.set_id("c1");
    task_exit.set_pid(42);
    task_exit.set_exit_status(137);
    envelope_.mutable_timestamp()->set_seconds(1700000000);
    envelope_.set_namespace_("default");
    envelope_.set_topic("/tasks/exit");
    // Packed as containerd's typeurl does: the bare full name.
    envelope_.mutable_event()->set_type_url(task_exit.GetDescriptor()->full_name());
    (void)task_exit.SerializeToString(envelope_.mutable_event()->mutable_value());

    container_.set_id("redis");
    container_.set_image("docker.io/library/redis:7");
    (*container_.mutable_labels())["env"] = "prod";
    (*container_.mutable_labels())["a.b"] = "";
    container_.mutable_runtime()->set_name("io.containerd.runc.v2");
    container_.set_snapshotter("overlayfs");
  }

  // Which objects `f` matches, one bit each.
  uint32_t Matches(const Filter& f) const {
    uint32_t bits = 0;
    int i = 0;
    for (const Record& r : records_) {
      // A store's adaptor for its records, as filters.h shows it.
      FuncAdaptor adaptor([&r](const std::vector<std::string>& path) -> std::optional<std::string> {
        if (path.empty()) return std::nullopt;
        if (path[0] == "name") return StringField(r.name);
        if (path[0] == "other") return StringField(r.other);
        if (path[0] == "labels") return LabelField(r.labels, Rest(path));
        if (path[0] == "target" && path.size() == 2 && path[1] == "mediatype") return StringField(r.other);
        return std::nullopt;
      });
      bits |= (f.Match(adaptor) ? 1u : 0u) << i++;
    }
    bits |= (f.Match(ProtoAdaptor(envelope_)) ? 1u : 0u) << i++;
    bits |= (f.Match(ProtoAdaptor(container_)) ? 1u : 0u) << i++;
    return bits;
  }

 private:
  std::vector<Record> records_;
  containerd::services::events::v1::Envelope envelope_;
  containerd::services::containers::v1::Container container_;
};

const Objects& TheObjects() {
  static const Objects objects;
  return objects;
}

}  // namespace
}  // namespace berth::filters

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  (void)berth::filters::TheObjects();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth::filters;
  const Objects& objects = TheObjects();
  const std::string input(reinterpret_cast<const char*>(data), size);

  berth::Result<FilterPtr> f = Parse(input);
  if (!f.ok()) {
    FUZZ_CHECK(f.status().code() == berth::Errc::kInvalidArgument);
    FUZZ_CHECK(f.status().message().starts_with("filters: parse error: ["));
  } else {
    FUZZ_CHECK(*f != nullptr);
    const uint32_t matches = objects.Matches(**f);

    berth::Result<FilterPtr> again = Parse(input);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(objects.Matches(**again) == matches);

    if (!input.empty()) {
      berth::Result<FilterPtr> both = Parse(input + "," + input);
      FUZZ_CHECK(both.ok());
      FUZZ_CHECK(objects.Matches(**both) == matches);
    }

    berth::Result<FilterPtr> any = ParseAll(std::vector<std::string>{input, input});
    FUZZ_CHECK(any.ok());
    FUZZ_CHECK(objects.Matches(**any) == matches);
  }

  if (input.find('\n') != std::string::npos) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = input.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(input.substr(start, nl - start));
    }
    lines.push_back(input.substr(start));
    berth::Result<FilterPtr> all = ParseAll(lines);
    if (all.ok()) (void)objects.Matches(**all);
  }
  return 0;
}
