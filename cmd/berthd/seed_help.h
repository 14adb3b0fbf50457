// `berthd -h` in the seed's layout (containerd 0.0.x's codegangsta/cli help: NAME, USAGE,
// VERSION, COMMANDS, GLOBAL OPTIONS with each flag's names, default and usage on one line).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace berthd {

class SeedHelpFormatter : public CLI::Formatter {
 public:
  SeedHelpFormatter(std::string summary, std::string version)
      : summary_(std::move(summary)), version_(std::move(version)) {}
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;

 private:
  std::string summary_, version_;
};

}  // namespace berthd
