// containerd's filter language (containerd/filters): `name==foo,labels."a.b"`.
//
// A filter string is a comma separated list of selectors, all of which must match:
//
//   selectors := selector ("," selector)*
//   selector  := fieldpath [operator value]      (no operator: the field must be present)
//   fieldpath := field ("." field)*
//   field     := quoted | [A-Za-z0-9_]+
//   operator  := "==" | "!=" | "~="              (~= is a regular expression search)
//   value     := quoted | [^\s,]+
//   quoted    := "..." with Go escapes; after ~= also /.../ and |...|
//
// As in containerd, `.` `,` `/` `|` `"` `=` `!` `~` are syntax wherever they come first, so
// a value starting with one of them must be quoted: `topic=="/tasks/exit"` (for ~= also
// `name~=/.*x/`). Spaces are skipped before fields, operators and values only.
//
// berth extension: `|` between selectors is OR and binds weaker than `,`, so
// `a==1,b==2|c==3` is (a==1 AND b==2) OR c==3. containerd lets an unquoted value contain
// `|`; here it ends a `==`/`!=` value (quote it: `a=="x|y"`), while an unquoted `~=` value
// keeps it as regexp alternation like containerd (`name~=foo|bar`).
//
// Objects are seen through an Adaptor, which maps a field path to a value.
#pragma once

#include <concepts>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::filters {

// Maps field paths of one object to values: nullopt when the object has no value there
// (containerd's `(value string, present bool)`).
class Adaptor {
 public:
  virtual ~Adaptor() = default;
  virtual std::optional<std::string> Field(const std::vector<std::string>& fieldpath) const = 0;
};

// Thread-safe: immutable once parsed; Match may run on many threads at once (RE2 is).
class Filter {
 public:
  virtual ~Filter() = default;
  virtual bool Match(const Adaptor& adaptor) const = 0;
};
using FilterPtr = std::shared_ptr<const Filter>;

// Parses one filter string. The empty string matches everything. Errors are
// kInvalidArgument with containerd's text, e.g.
// `filters: parse error: [name==]: expected value or quoted`.
Result<FilterPtr> Parse(std::string_view input);

// Matches when any of `filters` matches; no filters at all match everything. This is what
// the API's `repeated string filters` fields mean.
Result<FilterPtr> ParseAll(const std::vector<std::string>& filters);

// ParseAll over any range of strings, e.g. a protobuf `repeated string` field.
template <typename Range>
  requires std::ranges::input_range<Range> &&
           std::convertible_to<std::ranges::range_reference_t<Range>, std::string_view> &&
           (!std::same_as<std::remove_cvref_t<Range>, std::vector<std::string>>)
Result<FilterPtr> ParseAll(const Range& filters) {
  std::vector<std::string> copy;
  for (const auto& f : filters) copy.emplace_back(std::string_view(f));
  return ParseAll(copy);
}

// Combinators, e.g. for callers that add conditions of their own.
FilterPtr Always();
FilterPtr AnyOf(std::vector<FilterPtr> filters);  // empty: matches nothing
FilterPtr AllOf(std::vector<FilterPtr> filters);  // empty: matches everything

// An Adaptor from a function, the usual way to write one for a store's record:
//
//   filters::FuncAdaptor adaptor([&](const std::vector<std::string>& path)
//                                    -> std::optional<std::string> {
//     if (path.empty()) return std::nullopt;
//     if (path[0] == "name") return filters::StringField(image.name);
//     if (path[0] == "labels") return filters::LabelField(image.labels, filters::Rest(path));
//     return std::nullopt;
//   });
class FuncAdaptor final : public Adaptor {
 public:
  using Func = std::function<std::optional<std::string>(const std::vector<std::string>&)>;
  explicit FuncAdaptor(Func func) : func_(std::move(func)) {}
  std::optional<std::string> Field(const std::vector<std::string>& fieldpath) const override {
    return func_ ? func_(fieldpath) : std::nullopt;
  }

 private:
  Func func_;
};

// A string field as containerd's adaptors report it: present only when non-empty.
inline std::optional<std::string> StringField(std::string_view value) {
  if (value.empty()) return std::nullopt;
  return std::string(value);
}

// The path after its first element (`labels.a.b` -> `a.b`).
inline std::vector<std::string> Rest(const std::vector<std::string>& fieldpath) {
  if (fieldpath.empty()) return {};
  return {fieldpath.begin() + 1, fieldpath.end()};
}

// The label named by `rest` joined with "." (so `labels.a.b` and `labels."a.b"` both name
// label "a.b"); absent when the map is empty or has no such key. An empty value that is
// set counts as present. This is containerd's checkMap / generated labels handling.
std::optional<std::string> LabelField(const std::map<std::string, std::string>& labels,
                                      const std::vector<std::string>& rest);

// `rest` joined with "." — the label key a path names.
std::string JoinPath(std::span<const std::string> rest);

}  // namespace berth::filters
