// Embedding berth's client library: pull an image from a registry, run a container from it with
// its output on ours, and clean up. Built with the project (examples/); the README shows it.
//
//   pull_and_run SOCKET IMAGE_REF [COMMAND...]
//   pull_and_run /run/berth/berth.sock 127.0.0.1:5000/busybox:1 echo hello
#include <iostream>

#include "client/client.h"
#include "client/container_new.h"
#include "client/pull.h"
#include "client/task_run.h"

using namespace berth;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: pull_and_run SOCKET IMAGE_REF [COMMAND...]\n";
    return 2;
  }
  auto client = client::Client::Connect(argv[1], "example");
  if (!client.ok()) {
    std::cerr << client.status().ToString() << "\n";
    return 1;
  }

  client::PullOptions pull;
  pull.registry.plain_http = true;  // a registry on loopback without TLS
  auto pulled = client::Pull(**client, argv[2], pull);
  if (!pulled.ok()) {
    std::cerr << "pull: " << pulled.status().ToString() << "\n";
    return 1;
  }

  client::NewContainerOptions container;
  container.id = "example-" + std::to_string(::getpid());
  container.image = pulled->image.name;
  container.spec.args.assign(argv + 3, argv + argc);  // empty: the image's entrypoint + cmd
  auto created = client::NewContainer(**client, container);
  if (!created.ok()) {
    std::cerr << "create: " << created.status().ToString() << "\n";
    return 1;
  }

  auto code = client::RunTaskToExit(**client, *created);
  (void)client::DeleteContainerAndSnapshot(**client, *created);
  if (!code.ok()) {
    std::cerr << "run: " << code.status().ToString() << "\n";
    return 1;
  }
  std::cerr << "exit code " << *code << "\n";
  return static_cast<int>(*code);
}
