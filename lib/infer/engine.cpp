#include "symp/infer/engine.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "model_io.h"
#include "stop_tokens.h"
#include "symp/codec/codec.h"
#include "symp/core/error.h"
#include "symp/core/rng.h"
#include "symp/nn/glm.h"
#include "symp/text/sequence.h"
#include "symp/text/utf8.h"

namespace symp::infer {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Length of the longest prefix of `s` that does not end inside a UTF-8 sequence (a character whose
// continuation bytes have not been generated yet is held back; invalid bytes are not).
size_t complete_utf8_prefix(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for its lead
    const size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

bool is_blank(char c) {
  return c == ' ' || c == '\n';
}

// Turns the growing decoded text into the pieces a client sees, so that their concatenation is exactly the
// reply's final text (trimmed of spaces and newlines at both ends): leading blanks are dropped, trailing
// blanks are held until something follows them.
class TextStreamer {
 public:
  explicit TextStreamer(std::function<void(const std::string&)> sink) : sink_(std::move(sink)) {}

  // `decoded`: the text of every text id so far.
  void update(const std::string& decoded) {
    const std::string text = text::to_valid_utf8(decoded.substr(0, complete_utf8_prefix(decoded)));
    const size_t start = text.find_first_not_of(" \n");
    if (start == std::string::npos) return;
    // Held back at the end: blanks (the reply may end there) and U+FFFD (a tokenizer that decodes bytes
    // shows the first bytes of a character as U+FFFD until the rest arrive).
    static const std::string kReplacement = "\xEF\xBF\xBD";
    size_t end = text.size();
    for (;;) {
      if (end > start && is_blank(text[end - 1])) {
        --end;
      } else if (end >= start + 3 && text.compare(end - 3, 3, kReplacement) == 0) {
        end -= 3;
      } else {
        break;
      }
    }
    if (end <= start) return;
    const std::string visible = text.substr(start, end - start);
    // Decoding a longer id sequence normally extends the text; when a tokenizer rewrites the tail instead,
    // nothing more is sent until the text agrees with what was sent again.
    if (visible.size() <= sent_.size() || visible.compare(0, sent_.size(), sent_) != 0) return;
    const std::string piece = visible.substr(sent_.size());
    sent_ = visible;
    sink_(piece);
  }
  const std::string& sent() const { return sent_; }

 private:
  std::function<void(const std::string&)> sink_;
  std::string sent_;
};

std::string trim_blanks(const std::string& s) {
  const auto b = s.find_first_not_of(" \n"), e = s.find_last_not_of(" \n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The nucleus draw: p holds n probabilities in descending order (ids `idx`); keeps the smallest prefix whose
// mass reaches top_p (at least one id), then draws from it with the seeded generator.
int64_t draw_nucleus(const double* p, const int64_t* idx, int64_t n, double top_p, Rng& rng) {
  std::vector<double> cum(static_cast<size_t>(n));
  double c = 0;
  int64_t below = 0;  // ids before the mass reaches top_p
  for (int64_t i = 0; i < n; ++i) {
    c += p[i];
    cum[static_cast<size_t>(i)] = c;
    below += c < top_p;
  }
  const int64_t keep = std::min(below, n - 1) + 1;
  const double u = cum[static_cast<size_t>(keep - 1)] * rng.uniform();
  int64_t chosen = 0;  // first kept position whose cumulative mass exceeds u
  for (int64_t i = 0; i < keep; ++i) chosen += cum[static_cast<size_t>(i)] <= u;
  return idx[std::min(chosen, keep - 1)];
}

// Samples one id per row of logits [B, V] (float32, on the model's device), row k with options[k] and
// rngs[k]: temperature (<= 0: the argmax, no draw), then the smallest set of ids whose probability reaches
// top_p, then a draw. The nucleus is a prefix of the ids sorted by probability, so when a row's 64 most
// likely ids already hold top_p of its mass (nearly always at the paper's temperature) only they are
// sorted and copied to the host: the same draw as sorting all ids, for far less work per step.
std::vector<int64_t> sample_rows(const torch::Tensor& logits,
                                 const std::vector<const SamplingOptions*>& options, std::vector<Rng>& rngs) {
  const int64_t b = logits.size(0), v = logits.size(1);
  std::vector<double> temperature;
  for (const auto* s : options) temperature.push_back(s->temperature > 0 ? s->temperature : 1.0);
  const auto t = torch::tensor(temperature, torch::kFloat64).view({b, 1}).to(logits.device());
  const auto probs = torch::softmax(logits.to(torch::kFloat64) / t, 1);
  const int64_t k = std::min<int64_t>(64, v);
  const auto top = probs.topk(k, 1, /*largest=*/true, /*sorted=*/true);
  const auto top_p = std::get<0>(top).cpu().contiguous();
  const auto top_id = std::get<1>(top).cpu().contiguous();
  const auto argmax = logits.argmax(1).cpu().contiguous();
  std::vector<int64_t> out(static_cast<size_t>(b));
  for (int64_t r = 0; r < b; ++r) {
    const auto& s = *options[static_cast<size_t>(r)];
    auto& rng = rngs[static_cast<size_t>(r)];
    if (s.temperature <= 0) {
      out[static_cast<size_t>(r)] = argmax[r].item<int64_t>();
      continue;
    }
    const double* p = top_p.data_ptr<double>() + r * k;
    double mass = 0;
    for (int64_t i = 0; i < k; ++i) mass += p[i];
    if (mass < s.top_p && k < v) {  // a flat row: sort all of it
      const auto all = probs[r].sort(0, /*descending=*/true);
      const auto ap = std::get<0>(all).cpu().contiguous();
      const auto ai = std::get<1>(all).cpu().contiguous();
      out[static_cast<size_t>(r)] =
          draw_nucleus(ap.data_ptr<double>(), ai.data_ptr<int64_t>(), v, s.top_p, rng);
    } else {
      out[static_cast<size_t>(r)] = draw_nucleus(p, top_id.data_ptr<int64_t>() + r * k, k, s.top_p, rng);
    }
  }
  return out;
}

// One row: sample_rows for logits [V].
int64_t sample_token(const torch::Tensor& logits, const SamplingOptions& s, Rng& rng) {
  std::vector<Rng> rngs{rng};
  const int64_t id = sample_rows(logits.unsqueeze(0), {&s}, rngs)[0];
  rng = rngs[0];
  return id;
}

// Why a reply ended, from its stop id (kept when already set, e.g. "cancelled").
void name_stop(Reply& reply) {
  if (!reply.stopped.empty()) return;
  reply.stopped = reply.stop_token.empty()                ? "max_new_tokens"
                  : reply.stop_token == "<|user|>"        ? "user"
                  : reply.stop_token == "<|observation|>" ? "observation"
                                                          : "eos";
}

// The anchor the text baseline names: `emotion` when given, else the nearest to the condition ("" for N/A).
std::string named_anchor(const std::optional<affect::VA>& condition, const std::string& emotion) {
  if (!condition) return "";
  return !emotion.empty() ? emotion : affect::AnchorSet::builtin().nearest(*condition).name;
}

struct EngineSystem {
  SystemSpec spec;
  text::PromptStyle style = text::PromptStyle::Sympatheia;
  std::shared_ptr<nn::GlmModel> model;  // loaded on first use
};

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
  std::unique_ptr<text::ChatTokenizer> tokenizer;
  std::unique_ptr<codec::SpeechCodec> codec;
  std::map<int64_t, std::string> stops;
  int64_t text_vocab = 0, audio_first = 0, audio_last = -1;
  std::vector<EngineSystem> systems;
  std::mutex models_mutex;  // loading and releasing models
  std::mutex codec_mutex;   // codecs keep state between calls: one call at a time

  EngineSystem& find(const std::string& name) {
    for (auto& s : systems)
      if (s.spec.name == name) return s;
    std::string known;
    for (const auto& s : systems) known += (known.empty() ? "" : ", ") + s.spec.name;
    throw UsageError("unknown system '" + name + "' (this engine has: " + known + ")");
  }

  std::shared_ptr<nn::GlmModel> model(EngineSystem& s) {
    std::lock_guard<std::mutex> lock(models_mutex);
    if (!s.model)
      s.model = std::make_shared<nn::GlmModel>(load_system(options.model_dir, s.spec, dtype, device));
    return s.model;
  }
};

Engine::Engine(const EngineOptions& o) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.options = o;
  if (o.model_dir.empty()) throw UsageError("--model: required");
  if (o.tokenizer_dir.empty()) throw UsageError("--tokenizer: required");
  if (o.dtype != "f32" && o.dtype != "bf16") throw UsageError("--dtype: f32 or bf16, got '" + o.dtype + "'");
  m.device = parse_device(o.device);
  m.dtype = o.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  const auto style = text::parse_prompt_style(o.prompt_style);
  for (const auto& spec : parse_systems(o.include_base, o.base_name, o.adapters))
    m.systems.push_back({spec, style, {}});
  for (const auto& spec : o.styles) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--style: expected NAME=STYLE, got '" + spec + "'");
    const std::string name = spec.substr(0, eq);
    auto it = std::find_if(m.systems.begin(), m.systems.end(),
                           [&](const EngineSystem& s) { return s.spec.name == name; });
    if (it == m.systems.end()) throw UsageError("--style: no system named '" + name + "'");
    it->style =
        with_context("--style " + spec, [&] { return text::parse_prompt_style(spec.substr(eq + 1)); });
  }

  m.tokenizer = open_tokenizer(o.tokenizer_dir);
  // Before anything is generated: the model must cover every id the tokenizer can give.
  if (const auto vocab = nn::GlmConfig::load(o.model_dir).vocab_size; vocab < m.tokenizer->vocab_size()) {
    throw InputError(
        fmt::format("{}: the model's vocabulary ({}) is smaller than the tokenizer's ({}): model and "
                    "tokenizer do not belong together",
                    o.model_dir, vocab, m.tokenizer->vocab_size()));
  }
  codec::CodecLocation where;
  where.kind = o.codec;
  where.encoder_dir = o.codec_encoder_dir.empty() ? o.tokenizer_dir : o.codec_encoder_dir;
  where.decoder_dir = o.codec_decoder_dir.empty() ? o.tokenizer_dir : o.codec_decoder_dir;
  where.device = o.device;
  m.codec = codec::open_codec(where);
  m.stops = stop_tokens(o.model_dir, o.tokenizer_dir, *m.tokenizer);
  m.text_vocab = m.tokenizer->vocab_size();
  m.audio_first = m.tokenizer->audio_id(0);
  m.audio_last = m.tokenizer->audio_id(m.codec->vocab_size() - 1);
}

Engine::~Engine() = default;

std::vector<std::string> Engine::systems() const {
  std::vector<std::string> names;
  for (const auto& s : impl_->systems) names.push_back(s.spec.name);
  return names;
}

bool Engine::has_system(const std::string& name) const {
  return std::any_of(impl_->systems.begin(), impl_->systems.end(),
                     [&](const EngineSystem& s) { return s.spec.name == name; });
}

std::string Engine::adapter_dir(const std::string& system) const {
  return impl_->find(system).spec.adapter_dir;
}

std::string Engine::prompt_style(const std::string& system) const {
  return text::prompt_style_name(impl_->find(system).style);
}

std::string Engine::system_prompt(const std::string& system, const std::optional<affect::VA>& condition,
                                  const std::string& emotion) const {
  return text::style_system_line(impl_->find(system).style, condition, named_anchor(condition, emotion));
}

void Engine::load_all() {
  for (auto& s : impl_->systems) impl_->model(s);
}

void Engine::release(const std::string& system) {
  auto& s = impl_->find(system);
  std::lock_guard<std::mutex> lock(impl_->models_mutex);
  s.model.reset();
}

int Engine::sample_rate() const {
  return impl_->codec->sample_rate();
}
int Engine::output_sample_rate() const {
  return impl_->codec->output_sample_rate();
}
std::string Engine::describe_codec() const {
  return impl_->codec->describe();
}

std::vector<int64_t> Engine::encode(const io::Audio& audio) {
  const int rate = impl_->codec->sample_rate();
  const auto samples =
      audio.sample_rate == rate ? audio.samples : io::resample(audio.samples, audio.sample_rate, rate);
  std::lock_guard<std::mutex> lock(impl_->codec_mutex);
  return impl_->codec->encode(samples);
}

Reply Engine::reply(const ReplyRequest& request, const ReplyEvents& events) {
  auto& m = *impl_;
  request.sampling.validate();
  auto& sys = m.find(request.system);
  const auto model = m.model(sys);
  torch::NoGradGuard no_grad;

  const auto built =
      text::build_prompt(sys.style, request.condition, named_anchor(request.condition, request.emotion),
                         request.query_codes, *m.tokenizer);
  Reply reply;
  reply.prompt = built.system;
  reply.prompt_style = text::prompt_style_name(sys.style);
  reply.prompt_tokens = static_cast<int64_t>(built.ids.size());

  Rng rng(request.seed);
  std::optional<TextStreamer> streamer;
  if (events.on_text) streamer.emplace(events.on_text);
  const int max_new = request.sampling.max_new_tokens;
  const auto t0 = Clock::now();
  nn::KvCache cache;
  cache.reserve(reply.prompt_tokens + max_new);
  // Audio while generating: with a prefix-stable decoder, the ids so far are decoded every few ids and the
  // samples that later ids cannot change are sent (their concatenation is decode(all ids) exactly).
  const int lookahead = m.codec->prefix_stable_lookahead();
  const bool early_audio = request.stream_audio && request.decode_audio && events.on_audio && lookahead >= 0;
  const double samples_per_id = m.codec->output_sample_rate() / m.codec->frame_rate();
  size_t audio_sent = 0;                                    // samples sent so far
  size_t next_decode = static_cast<size_t>(lookahead) + 2;  // decode when this many ids are there
  const auto t_gen = Clock::now();
  auto send_stable_audio = [&](const std::vector<int64_t>& ids, bool final) {
    std::vector<float> wav;
    {
      std::lock_guard<std::mutex> lock(m.codec_mutex);
      wav = m.codec->decode(ids);
    }
    const size_t stable =
        final
            ? wav.size()
            : std::min(wav.size(), static_cast<size_t>(std::max<int64_t>(
                                       0, static_cast<int64_t>((static_cast<double>(ids.size()) - lookahead) *
                                                               samples_per_id))));
    if (stable <= audio_sent) return;
    if (reply.first_audio_seconds < 0) reply.first_audio_seconds = seconds_since(t_gen);
    std::vector<float> piece(wav.begin() + static_cast<std::ptrdiff_t>(audio_sent),
                             wav.begin() + static_cast<std::ptrdiff_t>(stable));
    reply.audio.insert(reply.audio.end(), piece.begin(), piece.end());
    audio_sent = stable;
    events.on_audio(piece);
  };
  auto ids = torch::tensor(built.ids, torch::kInt64).view({1, -1}).to(m.device);
  std::vector<int64_t> text_ids, codes;
  for (int step = 0; step < max_new; ++step) {
    if (events.cancelled && events.cancelled()) {
      reply.stopped = "cancelled";
      break;
    }
    // Only ids the tokenizer knows: a checkpoint's padded vocabulary rows are never valid output.
    auto logits =
        (*model)->forward(ids, &cache).index({0, -1}).narrow(0, 0, m.text_vocab).to(torch::kFloat32);
    const int64_t next = sample_token(logits, request.sampling, rng);
    if (auto stop = m.stops.find(next); stop != m.stops.end()) {
      reply.stop_token = stop->second;
      break;
    }
    ++reply.generated_tokens;
    if (next >= m.audio_first && next <= m.audio_last) {
      codes.push_back(next - m.audio_first);
      if (early_audio && codes.size() >= next_decode) {
        send_stable_audio(codes, false);
        // Decoding again grows with the reply: space the decodes out as it gets longer.
        next_decode = codes.size() + std::max<size_t>(4, codes.size() / 4);
      }
    } else {
      text_ids.push_back(next);
      if (streamer) streamer->update(m.tokenizer->decode(text_ids));
    }
    ids = torch::tensor({next}, torch::kInt64).view({1, 1}).to(m.device);
  }
  reply.generation_seconds = seconds_since(t0);
  name_stop(reply);
  reply.text = trim_blanks(text::to_valid_utf8(m.tokenizer->decode(text_ids)));
  if (streamer && reply.text.size() > streamer->sent().size() &&
      reply.text.compare(0, streamer->sent().size(), streamer->sent()) == 0) {
    events.on_text(reply.text.substr(streamer->sent().size()));
  }
  reply.text_tokens = static_cast<int64_t>(text_ids.size());
  reply.audio_tokens = static_cast<int64_t>(codes.size());

  if (early_audio && !codes.empty() && reply.stopped != "cancelled") {
    const auto t1 = Clock::now();
    send_stable_audio(codes, true);
    reply.decode_seconds = seconds_since(t1);
  } else if (!codes.empty() && reply.stopped != "cancelled" && request.decode_audio) {
    const auto t1 = Clock::now();
    std::lock_guard<std::mutex> lock(m.codec_mutex);
    if (request.stream_audio) {
      m.codec->decode_stream(codes, [&](const std::vector<float>& piece) {
        if (reply.first_audio_seconds < 0) reply.first_audio_seconds = seconds_since(t1);
        reply.audio.insert(reply.audio.end(), piece.begin(), piece.end());
        if (events.on_audio) events.on_audio(piece);
      });
    } else {
      reply.audio = m.codec->decode(codes);
      if (events.on_audio && !reply.audio.empty()) events.on_audio(reply.audio);
    }
    reply.decode_seconds = seconds_since(t1);
  }
  return reply;
}

std::vector<Reply> Engine::replies(const std::vector<ReplyRequest>& requests) {
  auto& m = *impl_;
  std::vector<Reply> out(requests.size());
  if (requests.empty()) return out;
  for (const auto& r : requests) {
    r.sampling.validate();
    if (r.system != requests.front().system)
      throw UsageError("Engine::replies: one system per call, got '" + requests.front().system + "' and '" +
                       r.system + "'");
  }
  auto& sys = m.find(requests.front().system);
  const auto model = m.model(sys);
  torch::NoGradGuard no_grad;

  // Prompts, grouped by their number of ids (rows of one group need no padding).
  std::vector<std::vector<int64_t>> prompts(requests.size());
  std::map<size_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    auto built = text::build_prompt(sys.style, r.condition, named_anchor(r.condition, r.emotion),
                                    r.query_codes, *m.tokenizer);
    out[i].prompt = built.system;
    out[i].prompt_style = text::prompt_style_name(sys.style);
    out[i].prompt_tokens = static_cast<int64_t>(built.ids.size());
    prompts[i] = std::move(built.ids);
    groups[prompts[i].size()].push_back(i);
  }

  for (const auto& [length, rows] : groups) {
    const auto b = static_cast<int64_t>(rows.size());
    int max_new = 0;
    std::vector<Rng> rngs;
    std::vector<const SamplingOptions*> options;
    std::vector<int64_t> flat;
    for (size_t row : rows) {
      max_new = std::max(max_new, requests[row].sampling.max_new_tokens);
      rngs.emplace_back(requests[row].seed);
      options.push_back(&requests[row].sampling);
      flat.insert(flat.end(), prompts[row].begin(), prompts[row].end());
    }
    std::vector<std::vector<int64_t>> text_ids(rows.size()), codes(rows.size());
    std::vector<bool> active(rows.size(), true);
    const auto t0 = Clock::now();
    nn::KvCache cache;
    cache.reserve(static_cast<int64_t>(length) + max_new);
    auto ids = torch::tensor(flat, torch::kInt64).view({b, -1}).to(m.device);
    std::vector<int64_t> next_ids(rows.size(), 0);
    for (int step = 0; step < max_new; ++step) {
      const auto logits = (*model)
                              ->forward(ids, &cache)
                              .index({torch::indexing::Slice(), -1})
                              .narrow(1, 0, m.text_vocab)
                              .to(torch::kFloat32);
      // Every row draws (a finished row's draw is ignored: its generator is not used again).
      const auto sampled = sample_rows(logits, options, rngs);
      bool any = false;
      for (size_t k = 0; k < rows.size(); ++k) {
        if (!active[k]) continue;  // a finished row is fed its last id; its logits are ignored
        Reply& reply = out[rows[k]];
        const auto& request = requests[rows[k]];
        if (step >= request.sampling.max_new_tokens) {
          active[k] = false;
          continue;
        }
        const int64_t next = sampled[k];
        if (auto stop = m.stops.find(next); stop != m.stops.end()) {
          reply.stop_token = stop->second;
          active[k] = false;
          continue;
        }
        ++reply.generated_tokens;
        if (next >= m.audio_first && next <= m.audio_last) {
          codes[k].push_back(next - m.audio_first);
        } else {
          text_ids[k].push_back(next);
        }
        next_ids[k] = next;
        any = true;
      }
      if (!any) break;
      ids = torch::tensor(next_ids, torch::kInt64).view({b, 1}).to(m.device);
    }
    const double seconds = seconds_since(t0) / static_cast<double>(b);
    for (size_t k = 0; k < rows.size(); ++k) {
      Reply& reply = out[rows[k]];
      const auto& request = requests[rows[k]];
      reply.generation_seconds = seconds;
      name_stop(reply);
      reply.text = trim_blanks(text::to_valid_utf8(m.tokenizer->decode(text_ids[k])));
      reply.text_tokens = static_cast<int64_t>(text_ids[k].size());
      reply.audio_tokens = static_cast<int64_t>(codes[k].size());
      if (!codes[k].empty() && request.decode_audio) {
        const auto t1 = Clock::now();
        std::lock_guard<std::mutex> lock(m.codec_mutex);
        reply.audio = m.codec->decode(codes[k]);
        reply.decode_seconds = seconds_since(t1);
      }
    }
  }
  return out;
}

}  // namespace symp::infer
