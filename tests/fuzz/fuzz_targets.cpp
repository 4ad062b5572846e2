#include "fuzz_targets.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "symp/core/error.h"
#include "symp/core/rng.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "symp/io/openai_reply.h"
#include "symp/io/safetensors.h"
#include "symp/io/toml_check.h"
#include "symp/judge/rubric.h"
#include "symp/nn/bert_config.h"
#include "symp/nn/glm_config.h"
#include "symp/nn/lora_config.h"
#include "symp/records/encoded.h"
#include "symp/records/features_row.h"
#include "symp/records/judge_item.h"
#include "symp/records/manifest.h"
#include "symp/records/response.h"
#include "symp/serve/api.h"
#include "symp/speech/flow_config.h"
#include "symp/speech/hift_config.h"
#include "symp/speech/whisper_vq_config.h"
#include "symp/speech/yaml.h"
#include "symp/text/glm_tokenizer.h"
#include "symp/text/sentencepiece.h"
#include "symp/text/wordpiece.h"

namespace symp::fuzz {
namespace fs = std::filesystem;
namespace {

// A private folder for the files a target writes, in memory when /dev/shm is there; reused per process.
const fs::path& scratch() {
  static const fs::path dir = [] {
    const fs::path root = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = root / ("symp-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

std::string write_input_file(const std::string& name, const std::string& bytes) {
  const fs::path p = scratch() / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

namespace {

// The input split at kFileSeparator into at most `n` parts (the last part keeps any further separators).
std::vector<std::string> split_files(const uint8_t* data, size_t size, size_t n) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const std::string sep = kFileSeparator;
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() + 1 < n) {
    const size_t at = all.find(sep, start);
    if (at == std::string::npos) break;
    parts.push_back(all.substr(start, at - start));
    start = at + sep.size();
  }
  parts.push_back(all.substr(start));
  parts.resize(n);
  return parts;
}

std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `fn`; a symp::Error is the reader refusing the input, which is what it should do.
template <typename Fn>
void expect_success_or_error(Fn&& fn) {
  try {
    fn();
  } catch (const symp::Error&) {
  }
}

void run_safetensors(const uint8_t* data, size_t size) {
  const std::string path = write_input_file("model.safetensors", as_string(data, size));
  expect_success_or_error([&] {
    const auto file = io::SafetensorsFile::open(path);
    for (const auto& name : file.names()) {
      const io::TensorView& t = file.get(name);
      FUZZ_CHECK(t.nbytes == static_cast<size_t>(t.numel()) * io::dtype_size(t.dtype));
      FUZZ_CHECK(t.to_f32().size() == static_cast<size_t>(t.numel()));
      expect_success_or_error([&] { FUZZ_CHECK(t.to_i64().size() == static_cast<size_t>(t.numel())); });
    }
  });
}

// model.safetensors.index.json, then two shards the index may name: a.safetensors and b.safetensors.
void run_safetensors_index(const uint8_t* data, size_t size) {
  const auto parts = split_files(data, size, 3);
  const fs::path dir = scratch() / "sharded";
  fs::remove_all(dir);
  write_input_file("sharded/model.safetensors.index.json", parts[0]);
  write_input_file("sharded/a.safetensors", parts[1]);
  write_input_file("sharded/b.safetensors", parts[2]);
  expect_success_or_error([&] {
    const auto model = io::SafetensorsModel::open(dir.string());
    for (const auto& name : model.names()) FUZZ_CHECK(model.contains(name) && model.get(name).name == name);
  });
}

void run_hyperpyyaml(const uint8_t* data, size_t size) {
  expect_success_or_error([&] { (void)speech::parse_hyperpyyaml(as_string(data, size), "fuzz.yaml"); });
}

void run_toml(const uint8_t* data, size_t size) {
  expect_success_or_error([&] { io::check_toml_text(as_string(data, size), "fuzz.toml"); });
}

// tokenizer.model (tiktoken ranks), then tokenizer_config.json; a tokenizer that loads encodes a fixed
// text and its own added tokens, and decodes the ids back to the same bytes.
void run_glm_tokenizer(const uint8_t* data, size_t size) {
  const auto parts = split_files(data, size, 2);
  const fs::path dir = scratch() / "glm";
  write_input_file("glm/tokenizer.model", parts[0]);
  write_input_file("glm/tokenizer_config.json", parts[1]);
  expect_success_or_error([&] {
    const auto tok = text::GlmTokenizer::load(dir.string());
    for (const std::string text :
         {"<|user|>\nHello, world! 123 <|assistant|>", "\xc3\xa9t\xc3\xa9  \n\t x"}) {
      expect_success_or_error([&] {
        const auto ids = tok.encode(text);
        for (int64_t id : ids) FUZZ_CHECK(id >= 0 && id < tok.vocab_size());
        (void)tok.decode(ids);
      });
    }
    (void)tok.prefix_ids();
  });
}

// vocab.txt, then a text to tokenize with it.
void run_wordpiece(const uint8_t* data, size_t size) {
  const auto parts = split_files(data, size, 2);
  const std::string vocab = write_input_file("wordpiece/vocab.txt", parts[0]);
  expect_success_or_error([&] {
    const auto tok = text::WordPieceTokenizer::load(vocab);
    const auto ids = tok.encode(parts[1]);
    FUZZ_CHECK(ids.size() <= tok.options().max_length);
    for (int64_t id : ids) FUZZ_CHECK(id >= 0 && static_cast<size_t>(id) < tok.vocab_size());
  });
}

// tokenizer.json, then text.model (a serialized SentencePiece model): symp's own tokenizer folder.
void run_spm_tokenizer(const uint8_t* data, size_t size) {
  const auto parts = split_files(data, size, 2);
  const fs::path dir = scratch() / "spm";
  write_input_file(std::string("spm/") + text::SpmTokenizer::kConfigFile, parts[0]);
  write_input_file(std::string("spm/") + text::SpmTokenizer::kModelFile, parts[1]);
  expect_success_or_error([&] {
    const auto tok = text::SpmTokenizer::load(dir.string());
    const auto ids = tok.encode("<|user|>\n<|audio_3|>hello there, friend");
    for (int64_t id : ids) FUZZ_CHECK(id >= 0 && id < tok.vocab_size());
    (void)tok.decode(ids);
  });
}

// One JSONL file read as a manifest, as encoded records and as replies; a record that parses writes
// back to JSON that parses to the same JSON.
void run_records(const uint8_t* data, size_t size) {
  const std::string path = write_input_file("records.jsonl", as_string(data, size));
  expect_success_or_error([&] {
    records::for_each_manifest_record(path, [](const records::ManifestRecord& r, size_t) {
      const io::Json j = records::to_json(r);
      FUZZ_CHECK(records::to_json(records::parse_manifest_record(j, "again")) == j);
    });
  });
  expect_success_or_error([&] {
    records::for_each_encoded_record(path, [](const records::EncodedRecord& r, size_t) {
      const io::Json j = records::to_json(r);
      FUZZ_CHECK(records::to_json(records::parse_encoded_record(j, "again")) == j);
    });
  });
  expect_success_or_error([&] {
    records::for_each_response_record(
        path,
        [](const records::ResponseRecord& r, size_t) {
          const io::Json j = records::to_json(r);
          FUZZ_CHECK(records::to_json(records::parse_response_record(j, "again")) == j);
        },
        /*tolerate_torn_tail=*/true);
  });
  expect_success_or_error([&] { (void)records::read_judge_items(path); });
}

void run_features_csv(const uint8_t* data, size_t size) {
  const std::string path = write_input_file("features.csv", as_string(data, size));
  expect_success_or_error([&] { (void)records::read_features_csv(path); });
}

// Any audio file libsndfile reads (WAV, FLAC, ...), as is and resampled to 16 kHz.
void run_audio(const uint8_t* data, size_t size) {
  const std::string path = write_input_file("audio.wav", as_string(data, size));
  expect_success_or_error([&] {
    const io::Audio a = io::read_audio(path);
    FUZZ_CHECK(a.sample_rate > 0);
    for (float x : a.samples) FUZZ_CHECK(std::isfinite(x));
  });
  expect_success_or_error([&] {
    const io::Audio a = io::read_audio(path, 16000);
    FUZZ_CHECK(a.sample_rate == 16000);
  });
}

void run_judge_rating(const uint8_t* data, size_t size) {
  const auto rating = judge::parse_rating(as_string(data, size));
  FUZZ_CHECK(!rating || (*rating >= 1 && *rating <= 5));
}

// The JSON replies of OpenAI-compatible servers: a chat completion and a transcription. Never throws.
void run_openai_reply(const uint8_t* data, size_t size) {
  const std::string body = as_string(data, size);
  (void)io::chat_completion_text(body);
  (void)io::transcription_text(body);
}

// A /v1/chat/completions body as symp serve parses it: only ApiError (a 400 naming the field) may come out;
// what it accepts must resolve to a condition, and its audio must open or fail with an InputError.
void run_serve_request(const uint8_t* data, size_t size) {
  serve::Limits limits;
  limits.max_audio_bytes = 1 << 20;
  serve::ChatRequest request;
  try {
    request = serve::parse_chat_request(as_string(data, size), limits);
  } catch (const serve::ApiError& e) {
    FUZZ_CHECK(e.status == 400);
    FUZZ_CHECK(!std::string(e.what()).empty());
    return;
  }
  FUZZ_CHECK(!request.audio.empty() || !request.text.empty());
  Rng rng(0);
  const auto condition = affect::resolve_condition(request.affect, rng);
  if (condition.used) {
    FUZZ_CHECK(condition.used->valence >= -1 && condition.used->valence <= 1);
    FUZZ_CHECK(condition.used->arousal >= -1 && condition.used->arousal <= 1);
  }
  if (!request.audio.empty()) {
    try {
      (void)io::decode_audio_bytes(request.audio, request.audio_param);
    } catch (const InputError&) {
    }
  }
}

// A model folder's JSON configs: config.json, then preprocessor_config.json. config.json is read as a GLM-4
// config (either layout), a BERT-family config and a PEFT adapter_config.json; both files as a WhisperVQ
// tokenizer folder. What loads must hold sizes the models can be built with.
void run_model_configs(const uint8_t* data, size_t size) {
  const auto parts = split_files(data, size, 2);
  const fs::path dir = scratch() / "configs";
  const std::string config = write_input_file("configs/config.json", parts[0]);
  write_input_file("configs/preprocessor_config.json", parts[1]);
  expect_success_or_error([&] {
    const auto c = nn::GlmConfig::load(dir.string());
    FUZZ_CHECK(c.num_heads % c.num_kv_heads == 0 && c.rotary_dim <= c.head_dim);
    FUZZ_CHECK(c.num_parameters() > 0);
    (void)c.summary();
  });
  expect_success_or_error([&] {
    const auto c = nn::read_bert_config(config);
    FUZZ_CHECK(c.heads > 0 && c.hidden % c.heads == 0 && c.vocab > 0);
  });
  expect_success_or_error([&] {
    const auto c = nn::read_lora_config(config);
    FUZZ_CHECK(c.rank > 0 && std::isfinite(c.scale()) && c.scale() > 0);
  });
  expect_success_or_error([&] {
    const auto c = speech::WhisperVQConfig::load(dir.string());
    FUZZ_CHECK(c.samples_per_token() > 0 && c.frame_rate() > 0);
    FUZZ_CHECK(c.quantize_position >= 1 && c.quantize_position <= c.encoder_layers);
  });
}

// GLM-4-Voice's decoder config.yaml through the hyperpyyaml reader (or, when it starts with '{', a flat
// config.json), then its flow and hift blocks as the codec reads them; the whole mapping also as a flat
// flow or hift config.
void run_speech_configs(const uint8_t* data, size_t size) {
  const std::string text = as_string(data, size);
  io::Json config;
  if (const auto first = text.find_first_not_of(" \t\r\n");
      first != std::string::npos && text[first] == '{') {
    // A flat config.json, parsed as the tests and tools read it.
    const std::string path = write_input_file("speech/config.json", text);
    try {
      config = io::read_json(path);
    } catch (const symp::Error&) {
      return;
    }
  } else {
    try {
      config = speech::parse_hyperpyyaml(text, "config.yaml");
    } catch (const symp::Error&) {
      return;
    }
  }
  const auto check_flow = [](const io::Json& j) {
    expect_success_or_error([&] {
      const auto c = speech::FlowConfig::from_json(j, "config.yaml");
      FUZZ_CHECK(c.attention_heads > 0 && c.encoder_output_size % c.attention_heads == 0);
      FUZZ_CHECK(c.mel_frames(30) >= 0);
    });
  };
  const auto check_hift = [](const io::Json& j) {
    expect_success_or_error([&] {
      const auto c = speech::HiftConfig::from_json(j, "config.yaml");
      FUZZ_CHECK(c.samples_per_frame() > 0);
    });
  };
  if (config.is_object()) {
    if (const auto it = config.find("flow"); it != config.end()) check_flow(*it);
    if (const auto it = config.find("hift"); it != config.end()) check_hift(*it);
  }
  check_flow(config);
  check_hift(config);
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"safetensors", "one .safetensors file (header, offsets, dtypes), every tensor converted",
       run_safetensors},
      {"safetensors_index", "model.safetensors.index.json with two shards", run_safetensors_index},
      {"hyperpyyaml", "a hyperpyyaml config (CosyVoice's flow and HiFT configs)", run_hyperpyyaml},
      {"toml", "a --config TOML file", run_toml},
      {"glm_tokenizer", "GLM-4's tokenizer.model (tiktoken) and tokenizer_config.json", run_glm_tokenizer},
      {"wordpiece", "a WordPiece vocab.txt and a text tokenized with it", run_wordpiece},
      {"spm_tokenizer", "symp's tokenizer folder: tokenizer.json and the SentencePiece text.model",
       run_spm_tokenizer},
      {"records", "a JSONL file as manifest, encoded, reply and judge-item records", run_records},
      {"features_csv", "eval-prosody's features.csv", run_features_csv},
      {"audio", "an audio file through libsndfile and the resampler", run_audio},
      {"judge_rating", "an audio judge's reply text to a 1-5 rating", run_judge_rating},
      {"openai_reply", "the JSON body of a chat completion or transcription reply", run_openai_reply},
      {"serve_request", "a symp serve chat-completion request (messages, audio, affect)", run_serve_request},
      {"model_configs",
       "config.json as GLM-4, BERT and LoRA adapter config; with preprocessor_config.json, WhisperVQ",
       run_model_configs},
      {"speech_configs",
       "GLM-4-Voice's decoder config.yaml: its flow and hift blocks as the codec reads them",
       run_speech_configs},
  };
  return all;
}

const Target& target(const std::string& name, const std::vector<Target>& all) {
  for (const auto& t : all)
    if (name == t.name) return t;
  throw std::invalid_argument("no fuzz target named '" + name + "'");
}

}  // namespace symp::fuzz
