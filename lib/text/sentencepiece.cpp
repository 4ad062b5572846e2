// SentencePiece text tokenizer with chat special tokens and the audio id range.
#include "symp/text/sentencepiece.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/jsonl.h"

#include "symp/text/spm_backend.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace symp::text {

namespace {

constexpr const char* kFormat = "symp-spm-tokenizer";

// Splits `text` into plain runs and single tokens (special tokens or audio tags), calling
// on_plain(run) and on_token(token, audio_code or -1) in order.
template <class Plain, class Token>
void split_specials(const std::string& text, const std::vector<std::string>& specials, Plain on_plain,
                    Token on_token) {
  size_t plain_start = 0, i = 0;
  auto flush = [&](size_t end) {
    if (end > plain_start) on_plain(text.substr(plain_start, end - plain_start));
  };
  while (i < text.size()) {
    const char ch = text[i];
    if (ch != '<' && ch != '[' && ch != '\n') {
      ++i;
      continue;
    }
    if (text.compare(i, 8, "<|audio_") == 0) {
      size_t j = i + 8;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
      if (j > i + 8 && j - (i + 8) <= 9 && text.compare(j, 2, "|>") == 0) {
        flush(i);
        on_token(text.substr(i, j + 2 - i), std::stoll(text.substr(i + 8, j - i - 8)));
        i = plain_start = j + 2;
        continue;
      }
    }
    bool matched = false;
    for (const auto& s : specials) {  // longest first
      if (text.compare(i, s.size(), s) == 0) {
        flush(i);
        on_token(s, -1);
        i = plain_start = i + s.size();
        matched = true;
        break;
      }
    }
    if (!matched) ++i;
  }
  flush(text.size());
}

}  // namespace

const std::vector<std::string>& chat_special_tokens() {
  static const std::vector<std::string> tokens = {"[gMASK]",
                                                  "<sop>",
                                                  "<|system|>",
                                                  "<|user|>",
                                                  "<|assistant|>",
                                                  "<|observation|>",
                                                  "<|begin_of_audio|>",
                                                  "<|end_of_audio|>",
                                                  "\n"};
  return tokens;
}

const std::vector<std::string>& condition_value_pieces() {
  static const std::vector<std::string> pieces = [] {
    // Written as affect::system_prompt writes a value ({:.2f}); -0.00 is what a tiny negative value gives.
    std::vector<std::string> out{"-0.00"};
    for (int k = -100; k <= 100; ++k) out.push_back(fmt::format("{:.2f}", k / 100.0));
    return out;
  }();
  return pieces;
}

void SpmTrainOptions::validate() const {
  if (vocab_size < 300)
    throw UsageError(fmt::format("tokenizer: vocab_size must be >= 300, got {}", vocab_size));
  if (model_type != "unigram" && model_type != "bpe")
    throw UsageError("tokenizer: model_type must be \"unigram\" or \"bpe\", got \"" + model_type + "\"");
  if (!(character_coverage > 0.9 && character_coverage <= 1.0))
    throw UsageError(
        fmt::format("tokenizer: character_coverage must be in (0.9, 1], got {}", character_coverage));
  if (max_sentences < 1)
    throw UsageError(fmt::format("tokenizer: max_sentences must be >= 1, got {}", max_sentences));
  if (threads < 1) throw UsageError(fmt::format("tokenizer: threads must be >= 1, got {}", threads));
}

struct SpmTokenizer::Impl {
  std::unique_ptr<SpmBackend> processor = new_spm_backend();
  std::vector<std::string> specials;                     // longest first, for splitting
  std::unordered_map<std::string, int64_t> special_ids;  // token -> id
  std::unordered_map<int64_t, std::string> special_tokens;
};

SpmTokenizer::SpmTokenizer() : impl_(std::make_unique<Impl>()) {}
SpmTokenizer::SpmTokenizer(SpmTokenizer&&) noexcept = default;
SpmTokenizer& SpmTokenizer::operator=(SpmTokenizer&&) noexcept = default;
SpmTokenizer::~SpmTokenizer() = default;

void SpmTokenizer::train(const std::vector<std::string>& texts, int64_t audio_codes,
                         const SpmTrainOptions& options, const std::string& dir) {
  options.validate();
  if (audio_codes < 1)
    throw UsageError(fmt::format("tokenizer: audio_codes must be >= 1, got {}", audio_codes));
  if (texts.empty()) throw InputError("tokenizer: no text to train on");
  ensure_dir(dir);
  std::string user_defined;
  for (const auto& s : chat_special_tokens()) user_defined += (user_defined.empty() ? "" : ",") + s;
  if (options.condition_pieces)
    for (const auto& s : condition_value_pieces()) user_defined += "," + s;
  const std::vector<std::pair<std::string, std::string>> args = {
      {"model_type", options.model_type},
      // The condition's value pieces come on top of the requested size.
      {"vocab_size", std::to_string(options.vocab_size +
                                    (options.condition_pieces ? int(condition_value_pieces().size()) : 0))},
      {"hard_vocab_limit", "false"},  // small corpora get a smaller vocabulary instead of an error
      {"character_coverage", std::to_string(options.character_coverage)},
      {"input_sentence_size", std::to_string(options.max_sentences)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(options.threads)},
      {"user_defined_symbols", user_defined},
      {"byte_fallback", "true"},
      // Text maps to pieces and back unchanged: no normalisation, no dummy prefix, spaces kept.
      {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "false"},
      {"remove_extra_whitespaces", "false"},
      {"split_digits", "true"},
      {"pad_id", "-1"},
      {"minloglevel", "2"},
  };
  std::string proto;
  const auto error = spm_train(args, texts, static_cast<unsigned>(options.seed), &proto);
  if (!error.empty()) throw RuntimeError("tokenizer: SentencePiece training failed: " + error);
  const fs::path model_path = fs::path(dir) / kModelFile;
  write_file_atomic(model_path, proto);

  auto processor = new_spm_backend();
  if (!processor->load(proto).empty()) throw RuntimeError("tokenizer: cannot read the trained model");
  io::Json config = {{"format", kFormat},
                     {"version", kVersion},
                     {"text_model", kModelFile},
                     {"text_vocab_size", processor->piece_size()},
                     {"audio_offset", processor->piece_size()},
                     {"audio_codes", audio_codes},
                     {"condition_pieces", options.condition_pieces},
                     {"special_tokens", io::Json::object()}};
  for (const auto& s : chat_special_tokens()) config["special_tokens"][s] = processor->piece_to_id(s);
  io::write_json_atomic((fs::path(dir) / kConfigFile).string(), config);
  log_info("tokenize", "text tokenizer: {} text pieces + {} audio codes = {} ids", processor->piece_size(),
           audio_codes, processor->piece_size() + audio_codes);
}

SpmTokenizer SpmTokenizer::load(const std::string& dir) {
  const std::string config_path = (fs::path(dir) / kConfigFile).string();
  return with_context("tokenizer " + config_path, [&] {
    const io::Json config = io::read_json(config_path);
    if (config.value("format", std::string()) != kFormat)
      throw InputError(
          fmt::format("not a symp SentencePiece tokenizer (field 'format' is not \"{}\")", kFormat));
    if (config.value("version", -1) != kVersion)
      throw InputError(fmt::format("tokenizer version {} but this symp reads version {}; refit it",
                                   config.value("version", -1), kVersion));
    SpmTokenizer tok;
    const std::string model_path =
        (fs::path(dir) / io::require_string(config, "text_model", config_path)).string();
    const std::string proto = read_text_file(model_path);
    if (!tok.impl_->processor->load(proto).empty())
      throw InputError("cannot read SentencePiece model " + model_path);
    tok.text_vocab_size_ = tok.impl_->processor->piece_size();
    tok.audio_codes_ = config.at("audio_codes").get<int64_t>();
    if (config.at("audio_offset").get<int64_t>() != tok.text_vocab_size_)
      throw InputError(fmt::format("field 'audio_offset' {} differs from the model's {} pieces",
                                   config.at("audio_offset").get<int64_t>(), tok.text_vocab_size_));
    for (const auto& s : chat_special_tokens()) {
      const int id = tok.impl_->processor->piece_to_id(s);
      if (id == tok.impl_->processor->unk_id())
        throw InputError("special token " + io::Json(s).dump() + " is not a piece of " + model_path);
      tok.impl_->special_ids[s] = id;
      tok.impl_->special_tokens[id] = s;
      tok.impl_->specials.push_back(s);
    }
    std::sort(tok.impl_->specials.begin(), tok.impl_->specials.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return tok;
  });
}

int64_t SpmTokenizer::special_id(const std::string& token) const {
  const auto it = impl_->special_ids.find(token);
  if (it == impl_->special_ids.end())
    throw InputError("tokenizer: unknown special token " + io::Json(token).dump());
  return it->second;
}

int64_t SpmTokenizer::audio_id(int64_t code) const {
  if (code < 0 || code >= audio_codes_)
    throw InputError(fmt::format("tokenizer: audio code {} outside [0, {})", code, audio_codes_));
  return audio_offset() + code;
}

std::vector<int64_t> SpmTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  split_specials(
      text, impl_->specials,
      [&](const std::string& plain) {
        for (int id : impl_->processor->encode(plain)) ids.push_back(id);
      },
      [&](const std::string& token, int64_t code) {
        ids.push_back(code >= 0 ? audio_id(code) : impl_->special_ids.at(token));
      });
  return ids;
}

std::string SpmTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  std::vector<int> run;
  auto flush = [&] {
    if (!run.empty()) out += impl_->processor->decode(run);
    run.clear();
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= vocab_size())
      throw InputError(fmt::format("tokenizer: id {} at position {} outside [0, {})", id, i, vocab_size()));
    if (id >= audio_offset()) {
      flush();
      out += "<|audio_" + std::to_string(id - audio_offset()) + "|>";
    } else if (const auto it = impl_->special_tokens.find(id); it != impl_->special_tokens.end()) {
      flush();
      out += it->second;
    } else {
      run.push_back(static_cast<int>(id));
    }
  }
  flush();
  return out;
}

}  // namespace symp::text
