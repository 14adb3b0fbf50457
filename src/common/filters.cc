#include "common/filters.h"

#include <cstdint>
#include <utility>

#include <re2/re2.h>

namespace berth::filters {
namespace {

// ---------------------------------------------------------------------------------------
// Characters. The scanner works on Unicode code points like containerd's (Go) scanner;
// negative values are the end of input and an undecodable character.

using Rune = int32_t;
constexpr Rune kEofRune = -1;
constexpr Rune kIllegalRune = -2;
constexpr Rune kReplacementChar = 0xFFFD;
constexpr Rune kMaxRune = 0x10FFFF;

struct Decoded {
  Rune rune;
  size_t width;
};

// Go's utf8.DecodeRuneInString: an invalid sequence decodes as U+FFFD of width 1.
Decoded DecodeRune(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  auto continuation = [&](size_t i, uint8_t lo, uint8_t hi) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  uint8_t b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  constexpr Decoded kInvalid{kReplacementChar, 1};
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!continuation(1, 0x80, 0xBF)) return kInvalid;
    return {((b0 & 0x1F) << 6) | (byte(1) & 0x3F), 2};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    // E0 must not be overlong, ED must not encode a surrogate.
    uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
    uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;
    if (!continuation(1, lo, hi) || !continuation(2, 0x80, 0xBF)) return kInvalid;
    return {((b0 & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F), 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;
    uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!continuation(1, lo, hi) || !continuation(2, 0x80, 0xBF) ||
        !continuation(3, 0x80, 0xBF)) {
      return kInvalid;
    }
    return {((b0 & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
                (byte(3) & 0x3F),
            4};
  }
  return kInvalid;
}

// Go's utf8.EncodeRune: surrogates and out-of-range values become U+FFFD.
void AppendRune(std::string& out, Rune r) {
  if (r < 0 || r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) r = kReplacementChar;
  auto put = [&](Rune bits) { out.push_back(static_cast<char>(bits)); };
  if (r < 0x80) {
    put(r);
  } else if (r < 0x800) {
    put(0xC0 | (r >> 6));
    put(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    put(0xE0 | (r >> 12));
    put(0x80 | ((r >> 6) & 0x3F));
    put(0x80 | (r & 0x3F));
  } else {
    put(0xF0 | (r >> 18));
    put(0x80 | ((r >> 12) & 0x3F));
    put(0x80 | ((r >> 6) & 0x3F));
    put(0x80 | (r & 0x3F));
  }
}

// Go's unicode.IsSpace.
bool IsSpace(Rune r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Approximates Go's unicode.IsGraphic, which also rejects unassigned and format (Cf) code
// points; telling those apart needs Unicode tables this parser does not carry.
bool IsGraphic(Rune r) { return r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0); }

bool IsAlpha(Rune r) { return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z'); }
bool IsDigit(Rune r) { return r >= '0' && r <= '9'; }
bool IsFieldRune(Rune r) { return r == '_' || IsAlpha(r) || IsDigit(r); }
bool IsQuoteRune(Rune r) { return r == '"' || r == '/' || r == '|'; }
bool IsSeparatorRune(Rune r) { return r == ',' || r == '.'; }
bool IsOperatorRune(Rune r) { return r == '=' || r == '!' || r == '~'; }

int DigitValue(Rune r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;  // larger than any digit of any base used here
}

// ---------------------------------------------------------------------------------------
// Scanner: splits the input into tokens the way containerd's scanner.go does, including
// its quirks (a value is whatever follows an operator up to ',' or a space; `/` and `|`
// open quoted strings wherever they appear), so that errors happen on the same inputs.

enum class Token { kEof, kIllegal, kQuoted, kValue, kField, kSeparator, kOperator, kOther };

struct Lexeme {
  size_t pos;             // byte offset of the token's start
  Token token;
  std::string_view text;  // the token's bytes (quotes included for kQuoted)
};

class Scanner {
 public:
  explicit Scanner(std::string_view input) : input_(input) {}

  // The next character without consuming it.
  Rune Peek() {
    size_t pos = pos_;
    size_t ppos = ppos_;
    Rune r = Next();
    pos_ = pos;
    ppos_ = ppos;
    return r;
  }

  Lexeme Scan() {
    Rune ch = Next();
    size_t start = pos_;
    for (;;) {
      if (ch == kEofRune) return {pos_, Token::kEof, {}};
      if (ch == kIllegalRune) return {pos_, Token::kIllegal, {}};
      if (IsQuoteRune(ch)) {
        bool ok = ScanQuoted(ch);
        return {start, ok ? Token::kQuoted : Token::kIllegal, Text(start)};
      }
      if (IsSeparatorRune(ch)) {
        in_value_ = false;
        return {start, Token::kSeparator, Text(start)};
      }
      if (IsOperatorRune(ch)) {
        while (IsOperatorRune(Peek())) Next();
        in_value_ = true;
        return {start, Token::kOperator, Text(start)};
      }
      if (IsSpace(ch)) {
        ch = Next();
        start = pos_;
        continue;
      }
      if (in_value_) {
        while (IsValueRune(Peek())) Next();
        in_value_ = false;
        return {start, Token::kValue, Text(start)};
      }
      if (IsFieldRune(ch)) {
        while (IsFieldRune(Peek())) Next();
        return {start, Token::kField, Text(start)};
      }
      return {start, Token::kOther, Text(start)};
    }
  }

  // Consumes the `|` between alternatives (berth's OR); what follows is a field again.
  void ScanAlternative() {
    Next();
    in_value_ = false;
  }

  // Whether an unquoted value ends at `|`: yes for ==/!=, no for ~= where it is regexp
  // alternation (containerd never ends a value there).
  void set_pipe_ends_value(bool ends) { pipe_ends_value_ = ends; }

  // Byte offset just past the last consumed character.
  size_t offset() const { return ppos_; }
  // The first problem met, for kIllegal tokens.
  const std::string& error() const { return error_; }

 private:
  Rune Next() {
    if (ppos_ >= input_.size()) {
      pos_ = input_.size();
      return kEofRune;
    }
    pos_ = ppos_;
    Decoded d = DecodeRune(input_.substr(ppos_));
    ppos_ += d.width;
    // Like Go's scanner this rejects a literal U+FFFD too: it cannot tell it apart from a
    // decoding error.
    if (d.rune == kReplacementChar) {
      SetError("rune error");
      return kIllegalRune;
    }
    if (d.rune == 0) {
      SetError("unexpected null");
      return kIllegalRune;
    }
    return d.rune;
  }

  bool IsValueRune(Rune r) const {
    if (r < 0 || r == ',' || IsSpace(r)) return false;
    if (r == '|' && pipe_ends_value_) return false;
    return IsGraphic(r);
  }

  // Called after the opening quote; true when the literal is terminated and well formed.
  bool ScanQuoted(Rune quote) {
    bool legal = true;
    Rune ch = Next();
    while (ch != quote) {
      if (ch == '\n' || ch < 0) {
        SetError("quoted literal not terminated");
        return false;
      }
      if (ch == '\\') {
        ch = ScanEscape(quote, &legal);
      } else {
        ch = Next();
      }
    }
    return legal;
  }

  // Called after a backslash; returns the first character after the escape.
  Rune ScanEscape(Rune quote, bool* legal) {
    Rune ch = Next();
    switch (ch) {
      case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
        return Next();
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        return ScanDigits(ch, 8, 3, legal);
      case 'x':
        return ScanDigits(Next(), 16, 2, legal);
      case 'u':
        return ScanDigits(Next(), 16, 4, legal);
      case 'U':
        return ScanDigits(Next(), 16, 8, legal);
      default:
        if (ch == quote) return Next();
        SetError("illegal escape sequence");
        *legal = false;
        return ch;
    }
  }

  Rune ScanDigits(Rune ch, int base, int count, bool* legal) {
    while (count > 0 && DigitValue(ch) < base) {
      ch = Next();
      --count;
    }
    if (count > 0) {
      SetError("illegal numeric escape sequence");
      *legal = false;
    }
    return ch;
  }

  void SetError(std::string_view message) {
    if (error_.empty()) error_ = message;
  }

  std::string_view Text(size_t start) const { return input_.substr(start, ppos_ - start); }

  std::string_view input_;
  size_t pos_ = 0;   // start of the last character read
  size_t ppos_ = 0;  // end of the last character read
  bool in_value_ = false;
  bool pipe_ends_value_ = true;
  std::string error_;
};

// Go string-literal unquoting as containerd's quote.go does it, where `/` and `|` delimit
// like `"`. The scanner only produces these three quotes, so Go's single-quoted and
// backquoted forms cannot reach here and are not handled.
std::optional<std::string> Unquote(std::string_view quoted) {
  if (quoted.size() < 2 || quoted.front() != quoted.back()) return std::nullopt;
  char quote = quoted.front();
  if (!IsQuoteRune(quote)) return std::nullopt;
  std::string_view s = quoted.substr(1, quoted.size() - 2);

  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    char c = s[0];
    if (c == quote || c == '\n') return std::nullopt;
    if (c != '\\') {
      out.push_back(c);  // multi-byte characters are copied byte by byte, already valid
      s.remove_prefix(1);
      continue;
    }
    if (s.size() < 2) return std::nullopt;
    char escape = s[1];
    s.remove_prefix(2);
    switch (escape) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case 'x':
      case 'u':
      case 'U': {
        size_t digits = escape == 'x' ? 2 : escape == 'u' ? 4 : 8;
        if (s.size() < digits) return std::nullopt;
        // Accumulates in a signed 32-bit value like Go's rune: \U above 7FFFFFFF wraps
        // negative and then encodes as U+FFFD instead of failing, as in containerd.
        uint32_t bits = 0;
        for (size_t i = 0; i < digits; ++i) {
          int d = DigitValue(static_cast<unsigned char>(s[i]));
          if (d >= 16) return std::nullopt;
          bits = (bits << 4) | static_cast<uint32_t>(d);
        }
        auto value = static_cast<Rune>(bits);
        s.remove_prefix(digits);
        if (escape == 'x') {
          out.push_back(static_cast<char>(value));  // a raw byte, as in Go
        } else {
          if (value > kMaxRune) return std::nullopt;
          AppendRune(out, value);
        }
        break;
      }
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        if (s.size() < 2) return std::nullopt;
        Rune value = escape - '0';
        for (size_t i = 0; i < 2; ++i) {
          if (s[i] < '0' || s[i] > '7') return std::nullopt;
          value = (value << 3) | (s[i] - '0');
        }
        s.remove_prefix(2);
        if (value > 255) return std::nullopt;
        out.push_back(static_cast<char>(value));
        break;
      }
      case '"':
      case '/':
      case '|':
      case '\'':
        if (escape != quote) return std::nullopt;
        out.push_back(escape);
        break;
      default:
        return std::nullopt;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Filters.

class AlwaysFilter final : public Filter {
 public:
  bool Match(const Adaptor&) const override { return true; }
};

class AnyFilter final : public Filter {
 public:
  explicit AnyFilter(std::vector<FilterPtr> filters) : filters_(std::move(filters)) {}
  bool Match(const Adaptor& adaptor) const override {
    for (const auto& f : filters_) {
      if (f->Match(adaptor)) return true;
    }
    return false;
  }

 private:
  std::vector<FilterPtr> filters_;
};

class AllFilter final : public Filter {
 public:
  explicit AllFilter(std::vector<FilterPtr> filters) : filters_(std::move(filters)) {}
  bool Match(const Adaptor& adaptor) const override {
    for (const auto& f : filters_) {
      if (!f->Match(adaptor)) return false;
    }
    return true;
  }

 private:
  std::vector<FilterPtr> filters_;
};

enum class Op { kPresent, kEqual, kNotEqual, kMatches };

// One `<fieldpath>[<op><value>]`. An absent field compares as "" for != and ~=, as in
// containerd: `name!=foo` matches objects without a name.
class Selector final : public Filter {
 public:
  Selector(std::vector<std::string> fieldpath, Op op, std::string value,
           std::shared_ptr<const RE2> re)
      : fieldpath_(std::move(fieldpath)), op_(op), value_(std::move(value)), re_(std::move(re)) {}

  bool Match(const Adaptor& adaptor) const override {
    std::optional<std::string> field = adaptor.Field(fieldpath_);
    switch (op_) {
      case Op::kPresent:
        return field.has_value();
      case Op::kEqual:
        return field.has_value() && *field == value_;
      case Op::kNotEqual:
        return field.value_or("") != value_;
      case Op::kMatches:
        // Go's MatchString: a match anywhere in the value.
        return RE2::PartialMatch(field.value_or(""), *re_);
    }
    return false;
  }

 private:
  std::vector<std::string> fieldpath_;
  Op op_;
  std::string value_;
  // For kMatches only. RE2 objects are immutable after construction and safe to match
  // from many threads at once, so filters can be shared freely.
  std::shared_ptr<const RE2> re_;
};

// containerd's regexps are Go's, whose syntax is RE2's: `(?P<name>...)`, `\pL`, `\A`/`\z`,
// inline flags such as `(?i)`, and no backreferences or lookaround. RE2 matches in time
// linear in the input, so a client-supplied pattern cannot make matching blow up. The
// defaults are Go's: UTF-8, leftmost-first (Perl) semantics, `.` not matching `\n`.
// Differences left are at the edges (this RE2 rejects Go 1.22's `(?<name>...)` and accepts
// `\C`), and RE2's memory budget can refuse an enormous pattern Go would compile.
// The result may be !ok(); its error() then says why.
std::shared_ptr<const RE2> CompileRegexp(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_shared<const RE2>(pattern, options);
}

// ---------------------------------------------------------------------------------------
// Parser: the recursive descent of containerd's parser.go, plus `|` alternatives.

class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input), scanner_(input) {}

  // alternatives := selectors ("|" selectors)*
  Result<FilterPtr> Parse() {
    std::vector<FilterPtr> alternatives;
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(FilterPtr all, Selectors());
      alternatives.push_back(std::move(all));
      if (scanner_.Peek() != '|') break;
      scanner_.ScanAlternative();
    }
    if (alternatives.size() == 1) return alternatives.front();
    return AnyOf(std::move(alternatives));
  }

 private:
  struct Value {
    size_t pos;
    std::string text;
  };

  // selectors := selector ("," selector)*
  Result<FilterPtr> Selectors() {
    std::vector<FilterPtr> selectors;
    BERTH_ASSIGN_OR_RETURN(FilterPtr first, ParseSelector());
    selectors.push_back(std::move(first));
    for (;;) {
      Rune next = scanner_.Peek();
      if (next == kEofRune || next == '|') break;
      if (next != ',') {
        std::string text;
        AppendRune(text, next);
        return Error(scanner_.offset(), fmt::format("unexpected input: {}", text));
      }
      scanner_.Scan();  // the ','
      BERTH_ASSIGN_OR_RETURN(FilterPtr selector, ParseSelector());
      selectors.push_back(std::move(selector));
    }
    return FilterPtr(std::make_shared<AllFilter>(std::move(selectors)));
  }

  // selector := fieldpath [operator value]
  Result<FilterPtr> ParseSelector() {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> fieldpath, FieldPath());
    Rune next = scanner_.Peek();
    if (next == ',' || next == '|' || next == kEofRune) {
      return FilterPtr(
          std::make_shared<Selector>(std::move(fieldpath), Op::kPresent, "", nullptr));
    }
    BERTH_ASSIGN_OR_RETURN(Op op, Operator());
    bool regexp = op == Op::kMatches;
    BERTH_ASSIGN_OR_RETURN(Value value, ParseValue(/*allow_alt_quotes=*/regexp));
    std::shared_ptr<const RE2> re;
    if (regexp) {
      re = CompileRegexp(value.text);
      if (!re->ok()) {
        return Error(value.pos, fmt::format("invalid regexp \"{}\": {}", value.text, re->error()));
      }
    }
    return FilterPtr(
        std::make_shared<Selector>(std::move(fieldpath), op, std::move(value.text), std::move(re)));
  }

  // fieldpath := field ("." field)*
  Result<std::vector<std::string>> FieldPath() {
    std::vector<std::string> fields;
    BERTH_ASSIGN_OR_RETURN(std::string first, ParseField());
    fields.push_back(std::move(first));
    while (scanner_.Peek() == '.') {
      scanner_.Scan();  // the '.'
      BERTH_ASSIGN_OR_RETURN(std::string field, ParseField());
      fields.push_back(std::move(field));
    }
    return fields;
  }

  Result<std::string> ParseField() {
    Lexeme lx = scanner_.Scan();
    switch (lx.token) {
      case Token::kField:
        return std::string(lx.text);
      case Token::kQuoted:
        return UnquoteAt(lx, /*allow_alt_quotes=*/false);
      case Token::kIllegal:
        return Error(lx.pos, scanner_.error());
      default:
        return Error(lx.pos, "expected field or quoted");
    }
  }

  Result<Op> Operator() {
    Lexeme lx = scanner_.Scan();
    switch (lx.token) {
      case Token::kOperator:
        if (lx.text == "==") return Op::kEqual;
        if (lx.text == "!=") return Op::kNotEqual;
        if (lx.text == "~=") return Op::kMatches;
        return Error(lx.pos, fmt::format("unsupported operator \"{}\"", lx.text));
      case Token::kIllegal:
        return Error(lx.pos, scanner_.error());
      default:
        return Error(lx.pos, R"(expected an operator ("=="|"!="|"~="))");
    }
  }

  Result<Value> ParseValue(bool allow_alt_quotes) {
    scanner_.set_pipe_ends_value(!allow_alt_quotes);
    Lexeme lx = scanner_.Scan();
    switch (lx.token) {
      case Token::kValue:
      case Token::kField:
        return Value{lx.pos, std::string(lx.text)};
      case Token::kQuoted: {
        BERTH_ASSIGN_OR_RETURN(std::string text, UnquoteAt(lx, allow_alt_quotes));
        return Value{lx.pos, std::move(text)};
      }
      case Token::kIllegal:
        return Error(lx.pos, scanner_.error());
      default:
        return Error(lx.pos, "expected value or quoted");
    }
  }

  // `/` and `|` quoting is only for regexp values.
  Result<std::string> UnquoteAt(const Lexeme& lx, bool allow_alt_quotes) {
    if (!allow_alt_quotes && lx.text.front() != '"') {
      return Error(lx.pos, "invalid quote encountered");
    }
    std::optional<std::string> text = Unquote(lx.text);
    if (!text) return Error(lx.pos, "unquoting failed: quote syntax error");
    return std::move(*text);
  }

  // containerd's parseError text: the input with the offending byte marked.
  Status Error(size_t pos, std::string_view message) const {
    if (pos < input_.size()) {
      return InvalidArgument("filters: parse error: [{} >|{}|< {}]: {}", input_.substr(0, pos),
                             input_.substr(pos, 1), input_.substr(pos + 1), message);
    }
    return InvalidArgument("filters: parse error: [{}]: {}", input_, message);
  }

  std::string_view input_;
  Scanner scanner_;
};

}  // namespace

FilterPtr Always() {
  static const FilterPtr kAlways = std::make_shared<AlwaysFilter>();
  return kAlways;
}

FilterPtr AnyOf(std::vector<FilterPtr> filters) {
  return std::make_shared<AnyFilter>(std::move(filters));
}

FilterPtr AllOf(std::vector<FilterPtr> filters) {
  return std::make_shared<AllFilter>(std::move(filters));
}

Result<FilterPtr> Parse(std::string_view input) {
  if (input.empty()) return Always();
  return Parser(input).Parse();
}

Result<FilterPtr> ParseAll(const std::vector<std::string>& filters) {
  if (filters.empty()) return Always();
  std::vector<FilterPtr> parsed;
  parsed.reserve(filters.size());
  for (const std::string& f : filters) {
    BERTH_ASSIGN_OR_RETURN(FilterPtr filter, Parse(f));
    parsed.push_back(std::move(filter));
  }
  if (parsed.size() == 1) return parsed.front();
  return AnyOf(std::move(parsed));
}

std::string JoinPath(std::span<const std::string> rest) {
  std::string joined;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (i > 0) joined.push_back('.');
    joined += rest[i];
  }
  return joined;
}

std::optional<std::string> LabelField(const std::map<std::string, std::string>& labels,
                                      const std::vector<std::string>& rest) {
  if (labels.empty()) return std::nullopt;
  auto it = labels.find(JoinPath(rest));
  if (it == labels.end()) return std::nullopt;
  return it->second;
}

}  // namespace berth::filters
