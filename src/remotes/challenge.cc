#include "remotes/challenge.h"

#include <cctype>

namespace berth::remotes {
namespace {

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  void SkipSpace() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void SkipSeparators() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view Token() {
    size_t start = i_;
    while (!done() && IsTokenChar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // After the opening quote: up to the closing one, unescaping \x.
  std::string Quoted() {
    std::string out;
    while (!done() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out += s_[i_++];
    }
    if (!done()) ++i_;  // closing quote
    return out;
  }
  size_t pos() const { return i_; }
  void set_pos(size_t p) { i_ = p; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Challenge> ParseWWWAuthenticate(std::string_view header) {
  std::vector<Challenge> out;
  Scanner in(header);
  in.SkipSeparators();
  while (!in.done()) {
    std::string_view scheme = in.Token();
    if (scheme.empty()) break;
    Challenge ch{.scheme = Lower(scheme), .params = {}};
    // auth-params: name = (token | quoted-string), separated by commas. A token not followed by
    // '=' starts the next challenge.
    while (true) {
      in.SkipSeparators();
      size_t mark = in.pos();
      std::string_view name = in.Token();
      if (name.empty()) break;
      in.SkipSpace();
      if (!in.Eat('=')) {
        in.set_pos(mark);
        break;
      }
      in.SkipSpace();
      std::string value;
      if (in.Eat('"')) {
        value = in.Quoted();
      } else {
        // token68 values (and sloppy servers' unquoted URLs) run to the next comma or space.
        while (!in.done() && in.peek() != ',' && in.peek() != ' ' && in.peek() != '\t') {
          value += in.peek();
          in.set_pos(in.pos() + 1);
        }
      }
      ch.params[Lower(name)] = std::move(value);
    }
    out.push_back(std::move(ch));
    in.SkipSeparators();
    if (!in.done() && !IsTokenChar(in.peek())) break;
  }
  return out;
}

}  // namespace berth::remotes
