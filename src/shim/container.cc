#include "shim/container.h"

namespace berth::shim {

Result<Process*> Container::Find(const std::string& exec_id) {
  if (exec_id.empty()) return &init;
  auto it = execs.find(exec_id);
  if (it == execs.end()) return NotFound("process does not exist {}", exec_id);
  return it->second.get();
}

Process* Container::ByPid(int pid) {
  if (pid <= 0) return nullptr;
  if (init.pid == pid) return &init;
  for (auto& [_, p] : execs) {
    if (p->pid == pid) return p.get();
  }
  return nullptr;
}

}  // namespace berth::shim
