#include "seed_help.h"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

namespace berthd {

std::string SeedHelpFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub || app->get_parent() != nullptr) {
    return CLI::Formatter::make_help(app, std::move(name), mode);  // subcommands: CLI11's own layout
  }
  std::ostringstream out;
  out << "NAME:\n   " << app->get_name() << " - " << summary_ << "\n\n";
  out << "USAGE:\n   " << app->get_name() << " [global options] command [command options] [arguments...]\n\n";
  out << "VERSION:\n   " << version_ << "\n\n";
  out << "COMMANDS:\n";
  std::vector<std::pair<std::string, std::string>> commands;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    commands.emplace_back(sub->get_name(), sub->get_description());
  }
  commands.emplace_back("help, h", "Shows a list of commands or help for one command");
  size_t width = 0;
  for (const auto& [n, d] : commands) width = std::max(width, n.size());
  for (const auto& [n, d] : commands) out << "   " << n << std::string(width - n.size() + 2, ' ') << d << "\n";
  out << "   \nGLOBAL OPTIONS:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const CLI::Option* opt : app->get_options([](const CLI::Option*) { return true; })) {
    std::string names;
    for (const auto& l : opt->get_lnames()) names += (names.empty() ? "--" : ", --") + l;
    for (const auto& s : opt->get_snames()) names += (names.empty() ? "-" : ", -") + s;
    if (!opt->get_default_str().empty() && opt->get_type_size() != 0) {
      names += " \"" + opt->get_default_str() + "\"";
    }
    rows.emplace_back(names, opt->get_description());
  }
  width = 0;
  for (const auto& [n, d] : rows) width = std::max(width, n.size());
  for (const auto& [n, d] : rows) out << "   " << n << std::string(width - n.size() + 2, ' ') << d << "\n";
  out << "   \n";
  return out.str();
}

}  // namespace berthd
