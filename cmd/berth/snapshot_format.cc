#include "berth/snapshot_format.h"

#include <algorithm>
#include <map>
#include <set>

namespace berth::cli {
namespace {

class TreePrinter {
 public:
  explicit TreePrinter(const std::vector<TreeNode>& nodes) {
    for (const auto& n : nodes) nodes_[n.name] = n;
    for (const auto& n : nodes) {
      if (n.parent.empty()) continue;
      if (!nodes_.contains(n.parent)) missing_.insert(n.parent);
      children_[n.parent].push_back(n.name);
    }
    for (auto& [parent, kids] : children_) std::sort(kids.begin(), kids.end());
  }

  std::string Render() {
    // Roots: parentless nodes and missing parents, by name; then whatever a cycle hid.
    std::set<std::string> roots(missing_.begin(), missing_.end());
    for (const auto& [name, node] : nodes_) {
      if (node.parent.empty()) roots.insert(name);
    }
    for (const auto& root : roots) Print(root, "", "");
    for (const auto& [name, node] : nodes_) {
      if (!done_.contains(name)) Print(name, "", "");
    }
    return out_;
  }

 private:
  // `lead` starts the node's own line, `indent` the lines of its children.
  void Print(const std::string& name, const std::string& lead, const std::string& indent) {
    if (!done_.insert(name).second) return;
    out_ += lead + name;
    std::string note = missing_.contains(name) ? "missing" : nodes_[name].note;
    if (!note.empty()) out_ += " (" + note + ")";
    out_ += '\n';
    auto it = children_.find(name);
    if (it == children_.end()) return;
    const auto& kids = it->second;
    for (size_t i = 0; i < kids.size(); ++i) {
      const bool last = i + 1 == kids.size();
      Print(kids[i], indent + (last ? "└── " : "├── "), indent + (last ? "    " : "│   "));
    }
  }

  std::map<std::string, TreeNode> nodes_;
  std::set<std::string> missing_;
  std::map<std::string, std::vector<std::string>> children_;
  std::set<std::string> done_;
  std::string out_;
};

}  // namespace

std::string RenderSnapshotTree(const std::vector<TreeNode>& nodes) {
  return TreePrinter(nodes).Render();
}

std::string MountCommand(const mount::Mount& m, const std::string& target) {
  std::string out = "mount -t " + m.type + " " + m.source + " " + target;
  if (!m.options.empty()) {
    out += " -o ";
    for (size_t i = 0; i < m.options.size(); ++i) out += (i == 0 ? "" : ",") + m.options[i];
  }
  return out;
}

}  // namespace berth::cli
