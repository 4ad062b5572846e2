#pragma once
// A toy GLM-4-Voice bundle in the folder layouts the real models ship, and the real path run over it by
// the symp binary: gen-data -> tokenize encode --codec glm4voice -> train-lora -> (infer, eval-prosody and
// judge in the tests). Built once per symp build under the temp dir (a file lock keeps test processes
// started together from building it twice), like the embedded pipeline of infer_fixture.h.
//
//   glm-4-voice-9b/        config.json (ChatGLM layout, padded vocabulary), model.safetensors,
//                          tokenizer.model (tiktoken ranks), tokenizer_config.json (chat specials and
//                          <|audio_0|>..<|audio_255|> as added tokens), generation_config.json (eos ids)
//   glm-4-voice-tokenizer  the WhisperVQ fixture (256 codes), shared/fixtures/whisper_vq
//   glm-4-voice-decoder    the flow + HiFT fixture, shared/fixtures/glm4voice_decoder
#include "infer_fixture.h"
#include "symp/text/glm_tokenizer.h"

namespace symp::test::glm4voice {

namespace fs = std::filesystem;
using infer::symp_ok;

// The chat specials of glm-4-voice-9b's tokenizer_config.json, in its order, then the audio tokens.
inline const std::vector<std::string>& chat_specials() {
  static const std::vector<std::string> specials = {"<|endoftext|>",
                                                    "[MASK]",
                                                    "[gMASK]",
                                                    "[sMASK]",
                                                    "<sop>",
                                                    "<eop>",
                                                    "<|system|>",
                                                    "<|user|>",
                                                    "<|assistant|>",
                                                    "<|observation|>",
                                                    "<|begin_of_image|>",
                                                    "<|end_of_image|>",
                                                    "<|begin_of_video|>",
                                                    "<|end_of_video|>",
                                                    "<|begin_of_audio|>",
                                                    "<|end_of_audio|>"};
  return specials;
}

// Byte ranks 0-255, then merges of common English pieces: a tiktoken file of the shipped format.
inline int64_t write_text_tokenizer(const fs::path& dir, int audio_tokens) {
  fs::create_directories(dir);
  const std::vector<std::string> merges = {
      "th", "he", "in", "er", "an", " t",  " a",   "re", "on", "ou", "the", " the", "nd", "ing", "at", "en",
      "it", " s", " w", "is", "or", "you", " you", "ha", "es", "to", " to", "ll",   "ea", "ar",  " I", "'s"};
  std::ofstream model(dir / "tokenizer.model", std::ios::binary);
  for (int b = 0; b < 256; ++b) model << base64(std::string(1, char(b))) << " " << b << "\n";
  for (size_t i = 0; i < merges.size(); ++i) model << base64(merges[i]) << " " << 256 + i << "\n";
  model.close();
  int64_t next = 256 + static_cast<int64_t>(merges.size());
  io::Json added = io::Json::object();
  auto add = [&](const std::string& content) {
    added[std::to_string(next++)] = {{"content", content}, {"lstrip", false},      {"normalized", false},
                                     {"rstrip", false},    {"single_word", false}, {"special", true}};
  };
  for (const auto& s : chat_specials()) add(s);
  for (int i = 0; i < audio_tokens; ++i) add("<|audio_" + std::to_string(i) + "|>");
  io::write_json_atomic(
      (dir / "tokenizer_config.json").string(),
      {{"added_tokens_decoder", added},
       {"auto_map", {{"AutoTokenizer", {"tokenization_chatglm.ChatGLM4Tokenizer", nullptr}}}},
       {"clean_up_tokenization_spaces", false},
       {"do_lower_case", false},
       {"eos_token", "<|endoftext|>"},
       {"model_max_length", 128000},
       {"pad_token", "<|endoftext|>"},
       {"padding_side", "left"},
       {"remove_space", false},
       {"tokenizer_class", "ChatGLM4Tokenizer"}});
  return next;  // the tokenizer's vocabulary
}

// config.json as glm-4-voice-9b ships it, at toy size; the vocabulary padded past the tokenizer's.
inline io::Json model_config(int64_t padded_vocab) {
  return {{"architectures", {"ChatGLMModel"}},
          {"model_type", "chatglm"},
          {"auto_map",
           {{"AutoConfig", "configuration_chatglm.ChatGLMConfig"},
            {"AutoModel", "modeling_chatglm.ChatGLMForConditionalGeneration"}}},
          {"add_bias_linear", false},
          {"add_qkv_bias", true},
          {"apply_query_key_layer_scaling", true},
          {"apply_residual_connection_post_layernorm", false},
          {"attention_dropout", 0.0},
          {"attention_softmax_in_fp32", true},
          {"bias_dropout_fusion", true},
          {"ffn_hidden_size", 96},
          {"fp32_residual_connection", false},
          {"hidden_dropout", 0.0},
          {"hidden_size", 32},
          {"kv_channels", 8},
          {"layernorm_epsilon", 1.5625e-07},
          {"multi_query_attention", true},
          {"multi_query_group_num", 2},
          {"num_attention_heads", 4},
          {"num_layers", 2},
          {"original_rope", true},
          {"padded_vocab_size", padded_vocab},
          {"post_layer_norm", true},
          {"rmsnorm", true},
          {"rope_ratio", 1},
          {"seq_length", 8192},
          {"tie_word_embeddings", false},
          {"torch_dtype", "float32"},
          {"use_cache", true}};
}

struct Bundle {
  fs::path dir;
  std::string glm;        // glm-4-voice-9b layout: model + text tokenizer
  std::string tokenizer;  // glm-4-voice-tokenizer (WhisperVQ)
  std::string decoder;    // glm-4-voice-decoder (flow + HiFT)
  std::string corpus;     // gen-data output
  std::string encoded;    // tokenize encode --codec glm4voice output
  std::string lora;       // train-lora output folder (adapter/, metrics.jsonl)
  int64_t vocab = 0;      // the text tokenizer's ids
};

inline std::string encode_args(const Bundle& b, const std::string& out) {
  return "tokenize encode --codec glm4voice --corpus " + b.corpus + " --speech-tokenizer " + b.tokenizer +
         " --text-tokenizer " + b.glm + " --out " + out;
}

inline void build_bundle(Bundle& b) {
  const std::string d = b.dir.string();
  b.vocab = write_text_tokenizer(b.glm, 256);
  const int64_t padded = (b.vocab + 63) / 64 * 64;
  io::write_json_atomic(b.glm + "/config.json", model_config(padded));
  symp_ok("--seed 5 gen-data --out " + b.corpus + " --per-emotion 1 --neutral-queries 2");
  symp_ok("--seed 5 " + encode_args(b, b.encoded));
  // The base: random ChatGLM weights trained 2 steps on the encoded corpus, its safetensors put beside the
  // shipped config and tokenizer files.
  const std::string steps = " --batch-size 4 --grad-accum 1 --lr 1e-2 --warmup-steps 0 --save-every 1000";
  symp_ok("--seed 5 train-lora --init " + b.glm + "/config.json --full --max-steps 2 --train " + b.encoded +
          "/encoded_train.jsonl --out " + d + "/base" + steps);
  const auto tok = text::GlmTokenizer::load(b.glm);
  auto special = [&](const char* name) { return tok.special_id(name); };
  fs::copy_file(d + "/base/model/model.safetensors", b.glm + "/model.safetensors",
                fs::copy_options::overwrite_existing);
  io::write_json_atomic(
      b.glm + "/generation_config.json",
      {{"eos_token_id", {special("<|endoftext|>"), special("<|user|>"), special("<|observation|>")}},
       {"pad_token_id", special("<|endoftext|>")},
       {"do_sample", true},
       {"temperature", 0.8},
       {"top_p", 0.8},
       {"max_length", 8192}});
  symp_ok("--seed 5 train-lora --model " + b.glm + " --lora-rank 4 --max-steps 3 --eval-every 3 --train " +
          b.encoded + "/encoded_train.jsonl --eval " + b.encoded + "/encoded_eval.jsonl --out " + b.lora +
          steps);
}

inline const Bundle& bundle() {
  static const Bundle built = [] {
    const std::string binary = SYMP_BINARY;
    const auto root =
        fs::temp_directory_path() /
        ("symp-test-glm4voice-" + std::to_string(symp::stable_hash(binary.data(), binary.size())));
    fs::create_directories(root);
    Bundle b;
    b.dir = root / "bundle";
    b.glm = (b.dir / "glm-4-voice-9b").string();
    b.tokenizer = fixtures_dir() + "/whisper_vq";
    b.decoder = fixtures_dir() + "/glm4voice_decoder";
    b.corpus = (b.dir / "corpus").string();
    b.encoded = (b.dir / "encoded").string();
    b.lora = (b.dir / "lora").string();
    const std::string stamp = std::to_string(fs::last_write_time(binary).time_since_epoch().count()) + " " +
                              std::to_string(fs::file_size(binary));
    infer::FileLock lock((root / "lock").string());
    if (infer::read_text(root / "stamp") != stamp) {
      fs::remove(root / "stamp");
      fs::remove_all(b.dir);
      fs::create_directories(b.dir);
      build_bundle(b);
      std::ofstream(root / "stamp") << stamp;
    } else {
      b.vocab = text::GlmTokenizer::load(b.glm).vocab_size();
    }
    return b;
  }();
  return built;
}

// Samples the flow + HiFT decoder gives for `tokens` tokens: whole mel frames of 256 samples at 22,050 Hz
// for tokens at 12.5 Hz.
inline int64_t decoded_samples(int64_t tokens) {
  return static_cast<int64_t>(double(tokens) / 12.5 * 22050.0 / 256.0) * 256;
}

}  // namespace symp::test::glm4voice
