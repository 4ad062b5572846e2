#include "symp/io/toml_check.h"

#include <fmt/format.h>

#include <cctype>
#include <set>

#include "symp/core/error.h"
#include "symp/core/fs.h"

namespace symp::io {

namespace {

bool is_bare(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// A recursive-descent reader over the whole text; positions are byte offsets, lines counted for messages.
class Checker {
 public:
  Checker(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  void run() {
    std::string table;  // current [table] path, "" at the top
    while (true) {
      skip_blank_lines();
      if (at_end()) return;
      if (s_[pos_] == '[') {
        if (peek(1) == '[') fail("arrays of tables ([[...]]) are not used by symp configs");
        ++pos_;
        skip_spaces();
        table = key_path();
        skip_spaces();
        expect(']', "']' to close the table header");
        if (!tables_.insert(table).second) fail("table [" + table + "] defined twice");
        end_of_line();
        continue;
      }
      const std::string key = key_path();
      skip_spaces();
      expect('=', "'=' after the key '" + key + "'");
      skip_spaces();
      if (at_end() || s_[pos_] == '\n' || s_[pos_] == '#') fail("the key '" + key + "' has no value");
      value();
      const std::string full = table.empty() ? key : table + "." + key;
      if (!keys_.insert(full).second) fail("the key '" + full + "' is set twice");
      end_of_line();
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    size_t line = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) line += s_[i] == '\n';
    throw UsageError(fmt::format("{}:{}: not valid TOML: {}", name_, line, what));
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek(size_t k) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }
  void skip_spaces() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void skip_comment() {
    if (!at_end() && s_[pos_] == '#')
      while (!at_end() && s_[pos_] != '\n') ++pos_;
  }
  void skip_blank_lines() {
    while (true) {
      skip_spaces();
      skip_comment();
      if (!at_end() && (s_[pos_] == '\n' || s_[pos_] == '\r')) {
        ++pos_;
        continue;
      }
      return;
    }
  }
  void expect(char c, const std::string& what) {
    if (at_end() || s_[pos_] != c) fail("expected " + what);
    ++pos_;
  }
  void end_of_line() {
    skip_spaces();
    skip_comment();
    if (!at_end() && s_[pos_] == '\r') ++pos_;
    if (!at_end() && s_[pos_] != '\n') fail(fmt::format("unexpected '{}' after the value", s_[pos_]));
  }

  std::string simple_key() {
    if (at_end()) fail("expected a key");
    if (s_[pos_] == '"' || s_[pos_] == '\'') return string_value();
    const size_t start = pos_;
    while (!at_end() && is_bare(s_[pos_])) ++pos_;
    if (pos_ == start)
      fail(fmt::format("expected a key, found '{}'",
                       s_[pos_] == '\n' ? std::string("end of line") : std::string(1, s_[pos_])));
    return s_.substr(start, pos_ - start);
  }
  std::string key_path() {
    std::string key = simple_key();
    while (true) {
      skip_spaces();
      if (at_end() || s_[pos_] != '.') return key;
      ++pos_;
      skip_spaces();
      key += "." + simple_key();
    }
  }

  std::string string_value() {
    const char quote = s_[pos_++];
    std::string out;
    while (true) {
      if (at_end() || s_[pos_] == '\n') fail("a string is not closed on its line");
      const char c = s_[pos_++];
      if (c == quote) return out;
      if (c == '\\' && quote == '"') {
        if (at_end()) fail("a string ends in a backslash");
        const char e = s_[pos_++];
        if (e == 'u' || e == 'U') {
          const size_t n = e == 'u' ? 4 : 8;
          for (size_t k = 0; k < n; ++k)
            if (at_end() || !std::isxdigit(static_cast<unsigned char>(s_[pos_++]))) fail("a bad \\u escape");
        } else if (std::string("btnfr\"\\").find(e) == std::string::npos) {
          fail(fmt::format("unknown escape '\\{}' in a string", e));
        }
      }
      out += c;
    }
  }

  void number_or_bool() {
    const size_t start = pos_;
    while (!at_end() && (is_bare(s_[pos_]) || s_[pos_] == '.' || s_[pos_] == '+' || s_[pos_] == ':')) ++pos_;
    std::string word = s_.substr(start, pos_ - start);
    if (word == "true" || word == "false") return;
    std::string digits;
    for (size_t i = 0; i < word.size(); ++i) {
      if (word[i] == '_') {  // TOML: an underscore only between digits
        if (i == 0 || i + 1 == word.size() || !std::isdigit(static_cast<unsigned char>(word[i - 1])) ||
            !std::isdigit(static_cast<unsigned char>(word[i + 1])))
          fail("a bad number '" + word + "'");
        continue;
      }
      digits += word[i];
    }
    std::string body = digits;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) body = body.substr(1);
    if (body == "inf" || body == "nan") return;
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o' || body[1] == 'b')) return;
    char* end = nullptr;
    std::strtod(digits.c_str(), &end);
    if (digits.empty() || !end || *end != '\0')
      fail(word.empty() ? "expected a value" : "'" + word + "' is not a TOML value (a string needs quotes)");
  }

  // Comma-separated items up to `close` (a trailing comma allowed); arrays may span lines and hold
  // comments, inline tables stay on one line.
  template <typename Item>
  void items(char close, const std::string& what, bool multiline, Item item) {
    auto gap = [&] { multiline ? skip_blank_lines() : skip_spaces(); };
    gap();
    while (!at_end() && s_[pos_] != close) {
      item();
      gap();
      if (!at_end() && s_[pos_] == ',') {
        ++pos_;
        gap();
      } else if (at_end() || s_[pos_] != close) {
        fail(fmt::format("expected ',' or '{}' in {}", close, what));
      }
    }
    expect(close, fmt::format("'{}' to close {}", close, what));
  }

  void value() {
    if (at_end()) fail("expected a value");
    // Arrays and inline tables recurse: nesting deeper than any config needs is refused before it can
    // exhaust the stack.
    constexpr int kMaxDepth = 128;
    if (depth_ >= kMaxDepth) fail("arrays or inline tables nested deeper than " + std::to_string(kMaxDepth));
    ++depth_;
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    const char c = s_[pos_];
    if (c == '"' || c == '\'') {
      if (peek(1) == c && peek(2) == c) fail("multi-line strings are not used by symp configs");
      string_value();
    } else if (c == '[') {
      ++pos_;
      items(']', "an array", /*multiline=*/true, [&] { value(); });
    } else if (c == '{') {
      ++pos_;
      items('}', "an inline table", /*multiline=*/false, [&] {
        key_path();
        skip_spaces();
        expect('=', "'=' in an inline table");
        skip_spaces();
        value();
      });
    } else {
      number_or_bool();
    }
  }

  const std::string& s_;
  const std::string& name_;
  int depth_ = 0;
  size_t pos_ = 0;
  std::set<std::string> tables_, keys_;
};

}  // namespace

void check_toml_text(const std::string& text, const std::string& name) {
  Checker(text, name).run();
}

void check_toml_file(const std::string& path) {
  if (!fs::is_regular_file(path)) throw InputError(path + ": no such file");
  check_toml_text(read_text_file(path), path);
}

}  // namespace symp::io
