#pragma once
// The generation engine `symp infer` and `symp serve` share: the systems (a base model and its LoRA
// adapters), the chat tokenizer, the speech codec and the stop ids, opened once; one call turns the user's
// speech and a VA condition into a spoken reply (prompt building, KV cache, sampling, stop rules, audio
// decoding), streaming its text and audio as they come. Because both commands call this, a condition and a
// seed give the same reply from either. No torch in this header.
//
//   symp::infer::Engine engine(options);                 // opens tokenizer, codec and (lazily) the models
//   ReplyRequest r;  r.system = "lora";  r.query_codes = engine.encode(audio);  r.condition = VA{0.8, 0.5};
//   auto reply = engine.reply(r, {.on_text = print_piece});
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "symp/affect/affect.h"
#include "symp/infer/infer.h"
#include "symp/io/audio.h"

namespace symp::infer {

struct EngineOptions {
  std::string model_dir;              // base model folder (config.json + safetensors)
  std::vector<std::string> adapters;  // PEFT adapters, "DIR" or "NAME=DIR": one system each
  bool include_base = false;          // the base alone is a system too (always, when there is no adapter)
  std::string base_name = "base";     // its name
  std::string tokenizer_dir;          // tokenize fit's folder, or GLM-4's
  std::string codec = "embedded";     // codec kind (symp/codec/codec.h)
  std::string codec_encoder_dir;      // codec folders when they are not tokenizer_dir
  std::string codec_decoder_dir;
  std::string prompt_style = "sympatheia";  // the prompt's style for every system ...
  std::vector<std::string> styles;          // ... or per system, "NAME=STYLE"
  std::string device = "cpu";               // cpu or cuda[:N]
  std::string dtype = "f32";                // f32 or bf16
};

struct ReplyRequest {
  std::string system;                   // one of Engine::systems()
  std::vector<int64_t> query_codes;     // the user's speech as codec ids (Engine::encode)
  std::optional<affect::VA> condition;  // the VA the prompt states; nullopt = N/A
  std::string emotion;  // the anchor the emotion-text style names ("" = the nearest to `condition`)
  SamplingOptions sampling;
  uint64_t seed = 0;          // the sampling generator's seed: equal requests give equal replies
  bool stream_audio = false;  // decode with the codec's streaming decoder (pieces to on_audio as they come)
  bool decode_audio = true;   // false: the audio ids are counted but not decoded (a text-only answer)
};

// Callbacks during a reply; each may be empty. They run on the calling thread.
struct ReplyEvents {
  std::function<void(const std::string& piece)> on_text;          // reply text as it is generated
  std::function<void(const std::vector<float>& piece)> on_audio;  // audio at Engine::output_sample_rate()
  std::function<bool()> cancelled;  // polled every step; true ends the reply (stopped = "cancelled")
};

struct Reply {
  std::string text;          // the reply's text, trimmed
  std::vector<float> audio;  // mono, output_sample_rate(); empty when the model spoke no audio ids
  std::string prompt;        // the system line the model saw
  std::string prompt_style;  // its style's name
  int64_t prompt_tokens = 0, text_tokens = 0, audio_tokens = 0, generated_tokens = 0;
  std::string stopped;     // eos, user, observation, max_new_tokens, cancelled
  std::string stop_token;  // the id's name when a stop id ended it
  double generation_seconds = 0, decode_seconds = 0;
  // With stream_audio, seconds to the first audio piece: from the start of generation when the codec's
  // decoder is prefix-stable and on_audio is set (audio then plays while ids are generated), else from the
  // decoder's start.
  double first_audio_seconds = -1;
};

class Engine {
 public:
  // Opens the tokenizer, the codec and the stop ids, and checks that model and tokenizer belong together.
  // Models load on first use (load_all() loads every system now). UsageError / InputError naming the
  // option or file.
  explicit Engine(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // System names in order: the base (when included), then each adapter.
  std::vector<std::string> systems() const;
  bool has_system(const std::string& name) const;
  std::string adapter_dir(const std::string& system) const;  // "" for the base
  std::string prompt_style(const std::string& system) const;
  // The system line a reply of `system` under `condition` will see (emotion as in ReplyRequest).
  std::string system_prompt(const std::string& system, const std::optional<affect::VA>& condition,
                            const std::string& emotion = "") const;
  void load_all();
  void release(const std::string& system);  // frees a system's model (infer keeps one in memory at a time)

  int sample_rate() const;         // of the audio encode() takes
  int output_sample_rate() const;  // of the reply audio
  std::string describe_codec() const;
  // The user's speech (any rate; resampled to the codec's) as codec ids. InputError for bad samples.
  std::vector<int64_t> encode(const io::Audio& audio);

  // One reply. Thread-safe: replies run side by side (each has its own cache and generator; codec calls
  // take turns). UsageError for an unknown system.
  Reply reply(const ReplyRequest& request, const ReplyEvents& events = {});
  // Several replies of one system generated side by side, one batch row each (requests whose prompts have
  // the same number of ids share a forward pass; the 12 anchors' prompts to one query do, since each VA
  // value is one id). Each row keeps its own seed, sampling and stop rules, so a reply is the one reply()
  // gives up to floating-point summation order (a batched product may round differently in the last bit,
  // which can change a sampled id where two are nearly tied). No streaming or events; each reply's
  // generation_seconds is its group's wall time divided by the group's size. Replies come back in the
  // order of `requests`. UsageError for an unknown system or requests of different systems.
  std::vector<Reply> replies(const std::vector<ReplyRequest>& requests);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace symp::infer
