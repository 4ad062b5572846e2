#pragma once
// What the tests of recipes/paper/run.sh share: the four OpenAI-compatible servers the recipe talks to,
// started on 127.0.0.1 with answers whose consequences the tests can compute (a chat model with canned
// queries and replies, a TTS that speaks the text with espeak-ng, an audio judge that always rates 4, an ASR
// server that always hears kHeard), and running the recipe with its log captured.
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "loopback_http.h"
#include "symp/core/fs.h"
#include "symp/core/rng.h"
#include "symp/data/espeak_tts.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "test_util.h"

namespace symp::test::paper {

inline const std::string kHeard = "I hear you, and I'm here to help you today.";

inline io::Json completion(const std::string& content) {
  return {{"choices",
           io::Json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}}})}};
}

// A distinct sentence per n (so that canned queries survive gen-data's dedup).
inline std::string sentence(int n, const char* opening) {
  static const char* words[] = {"garden",  "ticket", "window", "basket", "lantern", "pencil",
                                "harbor",  "violin", "meadow", "copper", "saddle",  "marble",
                                "rocket",  "tunnel", "carpet", "anchor", "walnut",  "canyon",
                                "feather", "island", "jacket", "kettle", "ladder",  "magnet"};
  Rng rng(static_cast<uint64_t>(n) * 7919 + 11);
  std::string s = opening;
  for (int k = 0; k < 6; ++k) s += std::string(" ") + words[rng.below(24)];
  return s;
}

class Servers {
 public:
  explicit Servers(const ScratchDir& dir)
      : dir_(dir),
        espeak_(data::TtsStyleTable::load(SYMP_SOURCE_DIR "/data/gen/tts_style.json")),
        llm([this](HttpExchange& ex) {
          const io::Json body = io::Json::parse(ex.body);
          const bool reply =
              body.value("chat_template_kwargs", io::Json::object()).value("enable_thinking", false);
          const int n = texts_++;
          ex.reply = completion(reply ? sentence(n, "That sounds hard, so let us sort out the") + ". " +
                                            sentence(n + 1000, "Start with the") + "."
                                      : sentence(n, "Could you tell me about the") + "?")
                         .dump();
        }),
        tts([this](HttpExchange& ex) {
          const std::string path = dir_.file("tts-" + std::to_string(wavs_++) + ".wav");
          io::write_wav(path, speak(io::Json::parse(ex.body).at("input").get<std::string>()));
          ex.content_type = "audio/wav";
          ex.reply = read_text_file(path);
        }),
        judge([](HttpExchange& ex) {
          ex.reply = completion("4 | Warm, and it answers what was asked.").dump();
        }),
        asr([](HttpExchange& ex) {
          ex.reply = io::Json{{"text", kHeard}}.dump();
        }) {}

  // espeak-ng speaking `text` (the TTS server's voice; also for spoken questions a test writes).
  io::Audio speak(const std::string& text) {
    data::SpeechStyle style;
    style.voice = "en-us";
    return espeak_.synthesize(text, style);
  }
  // The recipe's --set options naming the four servers.
  std::string set_args() const {
    return " --set LLM_URL=" + llm.url() + " --set TTS_URL=" + tts.url() + " --set JUDGE_URL=" + judge.url() +
           " --set ASR_URL=" + asr.url() + " ";
  }
  size_t requests() {
    return llm.requests().size() + tts.requests().size() + judge.requests().size() + asr.requests().size();
  }

 private:
  const ScratchDir& dir_;
  data::EspeakBackend espeak_;
  std::atomic<int> texts_{0}, wavs_{0};

 public:
  LoopbackHttpServer llm, tts, judge, asr;
};

struct Run {
  int status = -1;
  std::string log;
};

// `bash recipes/paper/run.sh ARGS` with the built symp; its exit status and output.
inline Run run_recipe(const ScratchDir& dir, const std::string& args) {
  const std::string log = dir.file("recipe.log");
  const std::string cmd = "SYMP=" + std::string(SYMP_BINARY) +
                          " bash " SYMP_SOURCE_DIR "/recipes/paper/run.sh " + args + " > " + log + " 2>&1";
  Run r;
  const int status = std::system(cmd.c_str());
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.log = read_text_file(log);
  return r;
}

// The row of a tables.json table whose `key` column holds `value` (a test failure when there is none).
inline const io::Json& row_of(const io::Json& table, const std::string& key, const std::string& value) {
  for (const auto& r : table.at("rows"))
    if (r.at(key) == value) return r;
  FAIL("no row with " << key << " = " << value << " in " << table.dump());
  throw std::logic_error("unreachable");
}

}  // namespace symp::test::paper
