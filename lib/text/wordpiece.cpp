#include "symp/text/wordpiece.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"

namespace symp::text {
namespace {

// ---- UTF-8 and the few Unicode properties BERT's basic tokenizer asks about ----

std::u32string decode_utf8(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<size_t>(len) > s.size()) {  // invalid byte: U+FFFD, dropped later
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc >> 6) != 0x2) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(const std::u32string& s, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) append_utf8(out, s[i]);
  return out;
}

bool in(char32_t c, char32_t lo, char32_t hi) {
  return c >= lo && c <= hi;
}

// Unicode category Zs, plus the ASCII whitespace BERT treats as such.
bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680 ||
         in(c, 0x2000, 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Categories Cc and Cf (tab, newline and carriage return count as whitespace instead).
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return c < 0x20 || in(c, 0x7F, 0x9F) || c == 0xAD || in(c, 0x600, 0x605) || c == 0x61C || c == 0x6DD ||
         c == 0x70F || c == 0x180E || in(c, 0x200B, 0x200F) || in(c, 0x202A, 0x202E) ||
         in(c, 0x2060, 0x2064) || in(c, 0x2066, 0x206F) || c == 0xFEFF || in(c, 0xFFF9, 0xFFFB) ||
         in(c, 0xE000, 0xF8FF);
}

// Every non-alphanumeric ASCII symbol (BERT counts "$", "^", "`" as punctuation too) and Unicode P*.
bool is_punctuation(char32_t c) {
  if (in(c, 33, 47) || in(c, 58, 64) || in(c, 91, 96) || in(c, 123, 126)) return true;
  return c == 0xA1 || c == 0xA7 || c == 0xAB || c == 0xB6 || c == 0xB7 || c == 0xBB || c == 0xBF ||
         c == 0x37E || c == 0x387 || in(c, 0x55A, 0x55F) || c == 0x589 || c == 0x58A || c == 0x5BE ||
         c == 0x5C0 || c == 0x5C3 || c == 0x5C6 || c == 0x5F3 || c == 0x5F4 || c == 0x609 || c == 0x60A ||
         c == 0x60C || c == 0x60D || c == 0x61B || in(c, 0x61D, 0x61F) || in(c, 0x66A, 0x66D) || c == 0x6D4 ||
         in(c, 0x964, 0x965) || c == 0x970 || in(c, 0xE4F, 0xE4F) || in(c, 0xE5A, 0xE5B) ||
         in(c, 0x2010, 0x2027) || in(c, 0x2030, 0x2043) || in(c, 0x2045, 0x2051) || in(c, 0x2053, 0x205E) ||
         c == 0x207D || c == 0x207E || c == 0x208D || c == 0x208E || in(c, 0x2308, 0x230B) || c == 0x2329 ||
         c == 0x232A || in(c, 0x2768, 0x2775) || in(c, 0x27C5, 0x27C6) || in(c, 0x27E6, 0x27EF) ||
         in(c, 0x2983, 0x2998) || in(c, 0x29D8, 0x29DB) || c == 0x29FC || c == 0x29FD ||
         in(c, 0x2E00, 0x2E2E) || in(c, 0x2E30, 0x2E4F) || in(c, 0x3001, 0x3003) || in(c, 0x3008, 0x3011) ||
         in(c, 0x3014, 0x301F) || c == 0x3030 || c == 0x303D || c == 0x30A0 || c == 0x30FB ||
         in(c, 0xFE10, 0xFE19) || in(c, 0xFE30, 0xFE52) || in(c, 0xFE54, 0xFE61) || c == 0xFE63 ||
         c == 0xFE68 || c == 0xFE6A || c == 0xFE6B || in(c, 0xFF01, 0xFF03) || in(c, 0xFF05, 0xFF0A) ||
         in(c, 0xFF0C, 0xFF0F) || c == 0xFF1A || c == 0xFF1B || c == 0xFF1F || c == 0xFF20 ||
         in(c, 0xFF3B, 0xFF3D) || c == 0xFF3F || c == 0xFF5B || c == 0xFF5D || in(c, 0xFF5F, 0xFF65);
}

// The CJK ideograph blocks BERT splits character by character.
bool is_cjk(char32_t c) {
  return in(c, 0x4E00, 0x9FFF) || in(c, 0x3400, 0x4DBF) || in(c, 0x20000, 0x2A6DF) ||
         in(c, 0x2A700, 0x2B73F) || in(c, 0x2B740, 0x2B81F) || in(c, 0x2B820, 0x2CEAF) ||
         in(c, 0xF900, 0xFAFF) || in(c, 0x2F800, 0x2FA1F);
}

// Base letters of Latin-1 (from U+00C0) and Latin Extended-A (to U+017F) after NFD; '.' = no decomposition.
constexpr const char* kLatinBase =
    "AAAAAA.CEEEEIIII.NOOOOO..UUUUY.."   // C0-DF
    "aaaaaa.ceeeeiiii.nooooo..uuuuy.y"   // E0-FF
    "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGg"   // 100-11F
    "GgGgHh..IiIiIiIiI...JjKk.LlLlLl."   // 120-13F
    "...NnNnNn...OoOoOo..RrRrRrSsSsSs"   // 140-15F
    "SsTtTt..UuUuUuUuUuUuWwYyYZzZzZz.";  // 160-17F
static_assert(sizeof("") == 1 && std::char_traits<char>::length(kLatinBase) == 0x180 - 0xC0,
              "one base letter per code point");

// Appends the lower-case form of c (Python's str.lower for the covered blocks).
void append_lower(std::u32string& out, char32_t c) {
  if (in(c, 'A', 'Z')) {
    out.push_back(c + 32);
  } else if (in(c, 0xC0, 0xDE) && c != 0xD7) {
    out.push_back(c + 32);
  } else if (c == 0x130) {  // capital I with dot: "i" + combining dot above
    out.push_back('i');
    out.push_back(0x307);
  } else if (c == 0x178) {
    out.push_back(0xFF);
  } else if ((in(c, 0x100, 0x137) || in(c, 0x14A, 0x177)) && c % 2 == 0) {
    out.push_back(c + 1);
  } else if ((in(c, 0x139, 0x148) || in(c, 0x179, 0x17E)) && c % 2 == 1) {
    out.push_back(c + 1);
  } else if (in(c, 0x391, 0x3AB) && c != 0x3A2) {
    out.push_back(c + 32);
  } else if (in(c, 0x410, 0x42F)) {
    out.push_back(c + 32);
  } else if (in(c, 0x400, 0x40F)) {
    out.push_back(c + 80);
  } else {
    out.push_back(c);
  }
}

// NFD followed by dropping combining marks (category Mn), for the covered blocks.
void append_unaccented(std::u32string& out, char32_t c) {
  if (in(c, 0x300, 0x36F)) return;  // combining diacritical marks
  if (in(c, 0xC0, 0x17F)) {
    char base = kLatinBase[c - 0xC0];
    out.push_back(base == '.' ? c : static_cast<char32_t>(base));
    return;
  }
  out.push_back(c);
}

}  // namespace

void WordPieceOptions::validate() const {
  if (max_chars_per_word == 0) throw UsageError("wordpiece: max_chars_per_word must be > 0");
  if (max_length < 2)
    throw UsageError("wordpiece: max_length must be >= 2 (room for [CLS] and [SEP]), got " +
                     std::to_string(max_length));
}

WordPieceTokenizer WordPieceTokenizer::load(const std::string& vocab_path, const WordPieceOptions& options) {
  options.validate();
  std::ifstream in_file(vocab_path);
  if (!in_file) throw InputError(vocab_path + ": cannot open the WordPiece vocabulary");
  WordPieceTokenizer tok;
  tok.path_ = vocab_path;
  tok.options_ = options;
  std::string line;
  int64_t index = 0;
  while (std::getline(in_file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tok.vocab_[line] = index++;  // a repeated token keeps its last index, as transformers' load_vocab
  }
  tok.vocab_size_ = static_cast<size_t>(index);
  tok.cls_id_ = tok.token_id("[CLS]");
  tok.sep_id_ = tok.token_id("[SEP]");
  tok.pad_id_ = tok.token_id("[PAD]");
  tok.unk_id_ = tok.token_id("[UNK]");
  return tok;
}

WordPieceTokenizer WordPieceTokenizer::from_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  WordPieceOptions options;
  fs::path config = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(config)) {
    io::Json j = io::read_json(config.string());
    if (j.contains("do_lower_case") && j["do_lower_case"].is_boolean())
      options.lower_case = j["do_lower_case"];
    // transformers writes a huge sentinel when the length is unknown; keep 512 then.
    if (j.contains("model_max_length") && j["model_max_length"].is_number()) {
      double m = j["model_max_length"].get<double>();
      if (m >= 2 && m <= 1e6) options.max_length = static_cast<size_t>(m);
    }
  }
  fs::path st = fs::path(dir) / "sentence_bert_config.json";
  if (fs::exists(st)) {
    io::Json j = io::read_json(st.string());
    if (j.contains("max_seq_length") && j["max_seq_length"].is_number_integer()) {
      options.max_length = j["max_seq_length"].get<size_t>();
    }
    if (j.contains("do_lower_case") && j["do_lower_case"].is_boolean() && j["do_lower_case"].get<bool>()) {
      options.lower_case = true;
    }
  }
  return load((fs::path(dir) / "vocab.txt").string(), options);
}

int64_t WordPieceTokenizer::token_id(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) throw InputError(path_ + ": token '" + token + "' is not in the vocabulary");
  return it->second;
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(const std::string& text) const {
  // Clean: drop NUL, U+FFFD and control characters; whitespace becomes a space; space out CJK ideographs.
  std::u32string cleaned;
  for (char32_t c : decode_utf8(text)) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned.push_back(' ');
    } else if (is_cjk(c)) {
      cleaned.push_back(' ');
      cleaned.push_back(c);
      cleaned.push_back(' ');
    } else {
      cleaned.push_back(c);
    }
  }
  std::vector<std::string> words;
  size_t i = 0;
  while (i < cleaned.size()) {
    while (i < cleaned.size() && cleaned[i] == ' ') ++i;
    size_t j = i;
    while (j < cleaned.size() && cleaned[j] != ' ') ++j;
    if (j == i) break;
    std::u32string token(cleaned.begin() + static_cast<std::ptrdiff_t>(i),
                         cleaned.begin() + static_cast<std::ptrdiff_t>(j));
    if (options_.lower_case) {
      std::u32string lowered, stripped;
      for (char32_t c : token) append_lower(lowered, c);
      for (char32_t c : lowered) append_unaccented(stripped, c);
      token = std::move(stripped);
    }
    // Each punctuation character becomes a word of its own.
    size_t start = 0;
    for (size_t k = 0; k < token.size(); ++k) {
      if (is_punctuation(token[k])) {
        if (k > start) words.push_back(encode_utf8(token, start, k));
        words.push_back(encode_utf8(token, k, k + 1));
        start = k + 1;
      }
    }
    if (start < token.size()) words.push_back(encode_utf8(token, start, token.size()));
    i = j;
  }
  return words;
}

std::vector<std::string> WordPieceTokenizer::tokenize(const std::string& text) const {
  std::vector<std::string> pieces;
  for (const auto& word : basic_tokenize(text)) {
    std::u32string chars = decode_utf8(word);
    if (chars.size() > options_.max_chars_per_word) {
      pieces.push_back("[UNK]");
      continue;
    }
    // Greedy longest match first; one unmatched remainder turns the whole word into [UNK].
    std::vector<std::string> word_pieces;
    size_t start = 0;
    bool bad = false;
    while (start < chars.size()) {
      size_t end = chars.size();
      std::string found;
      while (start < end) {
        std::string candidate = (start > 0 ? "##" : "") + encode_utf8(chars, start, end);
        if (vocab_.count(candidate)) {
          found = std::move(candidate);
          break;
        }
        --end;
      }
      if (found.empty()) {
        bad = true;
        break;
      }
      word_pieces.push_back(std::move(found));
      start = end;
    }
    if (bad) {
      pieces.push_back("[UNK]");
    } else {
      pieces.insert(pieces.end(), word_pieces.begin(), word_pieces.end());
    }
  }
  return pieces;
}

std::vector<int64_t> WordPieceTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids{cls_id_};
  for (const auto& piece : tokenize(text)) {
    if (ids.size() + 1 >= options_.max_length) break;  // keep room for [SEP]
    auto it = vocab_.find(piece);
    ids.push_back(it == vocab_.end() ? unk_id_ : it->second);
  }
  ids.push_back(sep_id_);
  return ids;
}

}  // namespace symp::text
