// The hyperpyyaml subset reader (see symp/speech/yaml.h).
#include "symp/speech/yaml.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "symp/core/error.h"
#include "symp/text/utf8.h"

namespace symp::speech {
namespace {

using json = nlohmann::json;

struct Line {
  int number;  // 1-based, for messages
  int indent;
  std::string text;  // without indentation and comment
};

// Cuts a comment: a '#' at the start or after whitespace, outside quotes.
std::string strip_comment(const std::string& s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1])))) {
      return s.substr(0, i);
    }
  }
  return s;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

class Parser {
 public:
  Parser(const std::string& text, std::string source) : source_(std::move(source)) {
    std::istringstream in(text);
    std::string raw;
    int number = 0;
    while (std::getline(in, raw)) {
      ++number;
      if (!raw.empty() && raw.back() == '\r') raw.pop_back();
      const size_t first = raw.find_first_not_of(" \t");
      if (first != std::string::npos && raw.substr(0, first).find('\t') != std::string::npos)
        fail(number, "tab in indentation");
      std::string body = strip_comment(raw);
      if (trim(body).empty()) continue;
      int indent = int(body.find_first_not_of(' '));
      lines_.push_back({number, indent, trim(body)});
    }
  }

  json run() {
    if (lines_.empty()) return json::object();
    json root = block(lines_[0].indent);
    if (pos_ < lines_.size()) fail(lines_[pos_].number, "unexpected indentation");
    root_ = &root;
    resolve(root);
    return root;
  }

 private:
  [[noreturn]] void fail(int line, const std::string& what) const {
    throw InputError(source_ + ":" + std::to_string(line) + ": " + what);
  }

  // Nesting deeper than any config needs is refused before it can exhaust the stack (blocks and flow
  // values recurse). One Nest lives per level.
  static constexpr int kMaxDepth = 128;
  struct Nest {
    Nest(Parser& p, int line) : p_(p) {
      if (++p_.depth_ > kMaxDepth)
        p_.fail(line, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ~Nest() { --p_.depth_; }
    Parser& p_;
  };

  // A block mapping or sequence whose entries sit at `indent`.
  json block(int indent) {
    const Nest nest(*this, lines_[pos_].number);
    if (lines_[pos_].text.rfind("- ", 0) == 0 || lines_[pos_].text == "-") return sequence(indent);
    json map = json::object();
    while (pos_ < lines_.size() && lines_[pos_].indent == indent) {
      const Line& line = lines_[pos_];
      size_t colon = key_end(line.text);
      if (colon == std::string::npos) fail(line.number, "expected 'key: value'");
      std::string key = unquote(trim(line.text.substr(0, colon)));
      std::string rest = trim(line.text.substr(colon + 1));
      ++pos_;
      if (map.contains(key)) fail(line.number, "duplicate key '" + key + "'");
      map[key] = value(rest, indent, line.number);
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent)
      fail(lines_[pos_].number, "unexpected indentation");
    return map;
  }

  json sequence(int indent) {
    json seq = json::array();
    while (pos_ < lines_.size() && lines_[pos_].indent == indent &&
           (lines_[pos_].text.rfind("- ", 0) == 0 || lines_[pos_].text == "-")) {
      const Line& line = lines_[pos_];
      std::string rest = trim(line.text.substr(1));
      ++pos_;
      seq.push_back(value(rest, indent, line.number));
    }
    return seq;
  }

  // The value after "key:" or "-": inline, or the indented block that follows.
  json value(std::string rest, int indent, int number) {
    std::string tag;
    if (!rest.empty() && rest[0] == '!') {
      size_t end = rest.find_first_of(" \t");
      tag = rest.substr(0, end);
      rest = end == std::string::npos ? "" : trim(rest.substr(end));
    }
    json v;
    if (rest.empty()) {
      if (pos_ < lines_.size() && lines_[pos_].indent > indent) v = block(lines_[pos_].indent);
      // `key:` with nothing below is null
    } else {
      size_t i = 0;
      v = flow(rest, i, number);
      while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
      if (i != rest.size()) fail(number, "unexpected text after the value: '" + rest.substr(i) + "'");
    }
    if (tag.rfind("!ref", 0) == 0) {
      if (!v.is_string() || v.get<std::string>().size() < 3 || v.get<std::string>().front() != '<')
        fail(number, "!ref needs <name>");
      std::string name = v.get<std::string>();
      return json{{"$ref", name.substr(1, name.size() - 2)}, {"$line", number}};
    }
    if (tag.rfind("!apply", 0) == 0) return nullptr;
    return v;
  }

  // A flow value starting at s[i]: [..], {..}, a quoted string or a plain scalar.
  json flow(const std::string& s, size_t& i, int number) {
    const Nest nest(*this, number);
    auto skip = [&] {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    };
    skip();
    if (i >= s.size()) fail(number, "missing value");
    if (s[i] == '[' || s[i] == '{') {
      const bool is_list = s[i] == '[';
      const char close = is_list ? ']' : '}';
      json out = is_list ? json::array() : json::object();
      ++i;
      skip();
      if (i < s.size() && s[i] == close) {
        ++i;
        return out;
      }
      for (;;) {
        if (is_list) {
          out.push_back(flow(s, i, number));
        } else {
          size_t start = i;
          while (i < s.size() && s[i] != ':') ++i;
          if (i >= s.size()) fail(number, "expected ':' in a flow mapping");
          std::string key = unquote(trim(s.substr(start, i - start)));
          ++i;
          out[key] = flow(s, i, number);
        }
        skip();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == close) {
          ++i;
          return out;
        }
        fail(number, std::string("expected ',' or '") + close + "'");
      }
    }
    if (s[i] == '\'' || s[i] == '"') {
      const char q = s[i++];
      std::string out;
      for (;;) {
        if (i >= s.size()) fail(number, "unterminated string");
        if (s[i] == q) {
          if (q == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {  // '' is an escaped quote
            out += '\'';
            i += 2;
            continue;
          }
          ++i;
          return out;
        }
        if (q == '"' && s[i] == '\\' && i + 1 < s.size()) {
          char e = s[i + 1];
          out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
          i += 2;
          continue;
        }
        out += s[i++];
      }
    }
    size_t start = i;
    // Inside a flow collection a plain scalar ends at ',', ']' or '}'.
    while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}') ++i;
    return scalar(trim(s.substr(start, i - start)));
  }

  static json scalar(const std::string& t) {
    if (t == "~" || t == "null" || t == "Null" || t == "NULL") return nullptr;
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
    if (!t.empty()) {
      char* end = nullptr;
      long long n = std::strtoll(t.c_str(), &end, 10);
      if (*end == '\0') return n;
      double d = std::strtod(t.c_str(), &end);
      if (*end == '\0' &&
          (std::isdigit(static_cast<unsigned char>(t[0])) || t[0] == '-' || t[0] == '+' || t[0] == '.'))
        return d;
    }
    return t;
  }

  static std::string unquote(const std::string& s) {
    if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
      return s.substr(1, s.size() - 2);
    return s;
  }

  // Position of the ':' that ends a mapping key (followed by a space or the end), outside quotes.
  static size_t key_end(const std::string& s) {
    char quote = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (quote) {
        if (s[i] == quote) quote = 0;
      } else if (s[i] == '\'' || s[i] == '"') {
        quote = s[i];
      } else if (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) {
        return i;
      }
    }
    return std::string::npos;
  }

  // Replaces {"$ref": name} by a copy of the top-level value `name` (resolved itself first).
  void resolve(json& v, int depth = 0) {
    if (depth > 64) throw InputError(source_ + ": !ref nesting too deep (a cycle?)");
    // The parser's own marker: exactly a string "$ref" and an integer "$line" (a mapping in the file that
    // happens to use those keys with other values is left as it is).
    if (v.is_object() && v.size() == 2 && v.contains("$ref") && v["$ref"].is_string() &&
        v.contains("$line") && v["$line"].is_number_integer()) {
      std::string name = v["$ref"].get<std::string>();
      int line = v["$line"].get<int>();
      if (!root_->contains(name)) fail(line, "!ref <" + name + ">: no top-level key of that name");
      json target = (*root_)[name];
      resolve(target, depth + 1);
      v = target;
      return;
    }
    if (v.is_object() || v.is_array())
      for (auto& child : v) resolve(child, depth + 1);
  }

  std::string source_;
  std::vector<Line> lines_;
  size_t pos_ = 0;
  int depth_ = 0;
  json* root_ = nullptr;
};

}  // namespace

json parse_hyperpyyaml(const std::string& text, const std::string& source) {
  // YAML is UTF-8 here (the decoder configs are); other bytes would reach error messages and JSON dumps.
  if (const std::string valid = text::to_valid_utf8(text); valid != text) {
    size_t at = 0;
    while (at < text.size() && at < valid.size() && text[at] == valid[at]) ++at;
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    throw InputError(source + ":" + std::to_string(line) + ": not valid UTF-8 (byte " + std::to_string(at) +
                     ")");
  }
  return Parser(text, source).run();
}

json read_hyperpyyaml(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": missing or unreadable");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_hyperpyyaml(ss.str(), path);
}

}  // namespace symp::speech
