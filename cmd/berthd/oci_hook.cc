#include "oci_hook.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>

#include "oci/hook_template.h"

extern char** environ;

namespace berthd {

int RunOciHook(std::vector<std::string> args) {
  if (!args.empty() && args.front() == "--") args.erase(args.begin());
  if (args.empty()) {
    std::fprintf(stderr, "berthd oci-hook: usage: berthd oci-hook -- COMMAND [ARG...]\n");
    return 2;
  }
  std::string state((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto ctx = berth::oci::LoadHookContext(state);
  if (!ctx.ok()) {
    std::fprintf(stderr, "berthd oci-hook: %s\n", ctx.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  for (auto* list : {&args, &env}) {
    if (auto st = berth::oci::RenderHookTemplates(*list, *ctx); !st.ok()) {
      std::fprintf(stderr, "berthd oci-hook: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ::execve(argv[0], argv.data(), envp.data());
  std::fprintf(stderr, "berthd oci-hook: exec %s: %s\n", argv[0], std::strerror(errno));
  return 1;
}

}  // namespace berthd
