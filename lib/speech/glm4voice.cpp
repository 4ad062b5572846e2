// GLM-4-Voice codec: WhisperVQ + flow + HiFT, offline and streaming (see symp/speech/glm4voice.h).
#include "symp/speech/glm4voice.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/speech/flow.h"
#include "symp/speech/hift.h"
#include "symp/speech/whisper_vq.h"
#include "symp/speech/yaml.h"

namespace symp::speech {
namespace fs = std::filesystem;

namespace {

// GLM-4-Voice's streaming constants (flow_inference.py): 5 overlapping tokens -> int(5 / 12.5 x 22050 /
// 256) = 34 mel frames cross-faded with a Hamming window of 68; 1 mel frame and 256 excitation samples
// (one frame of vocoder output) carried to the next chunk.
constexpr int kOverlapTokens = 5;
constexpr int kMelCacheFrames = 1;

torch::Device parse_device(const std::string& name) {
  try {
    return torch::Device(name);
  } catch (const std::exception&) {
    throw UsageError("device '" + name + "': expected cpu, cuda or cuda:N");
  }
}

// The decoder folder's weights: the shipped .pt, else a .safetensors copy.
std::string weights_file(const fs::path& dir, const std::string& stem) {
  for (const char* ext : {".pt", ".safetensors"})
    if (fs::exists(dir / (stem + ext))) return (dir / (stem + ext)).string();
  throw InputError((dir / (stem + ".pt")).string() + ": missing (the decoder folder needs " + stem +
                   ".pt or " + stem + ".safetensors)");
}

}  // namespace

void Glm4VoiceOptions::validate() const {
  if (tokenizer_dir.empty() && decoder_dir.empty() && !random_decoder)
    throw UsageError("glm4voice: give a tokenizer folder, a decoder folder or both");
  if (stream_chunks.empty()) throw UsageError("glm4voice: stream_chunks is empty");
  for (int n : stream_chunks)
    if (n < 10) throw UsageError("glm4voice: stream chunk of " + std::to_string(n) + " tokens (at least 10)");
  if (encode_batch <= 0) throw UsageError("glm4voice: encode_batch must be > 0");
  parse_device(device);
}

struct Glm4VoiceCodec::Impl {
  Glm4VoiceOptions options;
  torch::Device device{torch::kCPU};
  std::unique_ptr<WhisperVQ> tokenizer;
  std::unique_ptr<Flow> flow;
  std::unique_ptr<Hift> hift;
  at::Generator generator;
  StreamStats stats;
  std::vector<float> mel;  // record_mel: frames vocoded by the last decode, [frames][mel bins]

  void record(const torch::Tensor& m) {  // m [1, bins, frames]
    if (!options.record_mel) return;
    auto t = m.squeeze(0).transpose(0, 1).to(torch::kCPU, torch::kFloat32).contiguous();
    mel.insert(mel.end(), t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  void check_ids(const std::vector<int64_t>& ids) const {
    const int64_t vocab = flow->config().vocab_size;
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] < 0 || ids[i] >= vocab)
        throw InputError("glm4voice decode: token " + std::to_string(i) + " is " + std::to_string(ids[i]) +
                         ", outside the decoder's codebook [0, " + std::to_string(vocab) + ")");
  }
  torch::Tensor ids_tensor(const std::vector<int64_t>& ids, size_t from, size_t to) const {
    return torch::tensor(std::vector<int64_t>(ids.begin() + long(from), ids.begin() + long(to)), torch::kLong)
        .unsqueeze(0);
  }
  static std::vector<float> to_vector(const torch::Tensor& speech) {
    auto s = speech.reshape({-1}).to(torch::kCPU, torch::kFloat32).contiguous();
    return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }
};

Glm4VoiceCodec::Glm4VoiceCodec() : impl_(std::make_unique<Impl>()) {}
Glm4VoiceCodec::~Glm4VoiceCodec() = default;

std::unique_ptr<Glm4VoiceCodec> Glm4VoiceCodec::open(const Glm4VoiceOptions& options) {
  options.validate();
  std::unique_ptr<Glm4VoiceCodec> codec(new Glm4VoiceCodec());
  auto& m = *codec->impl_;
  m.options = options;
  m.device = parse_device(options.device);
  m.generator = make_generator(options.seed);
  if (!options.tokenizer_dir.empty()) m.tokenizer = WhisperVQ::open(options.tokenizer_dir, m.device);
  if (options.random_decoder) {
    const FlowConfig flow_config;  // the defaults are glm-4-voice-decoder's shipped sizes
    const HiftConfig hift_config;
    m.flow = Flow::random(flow_config, m.device);
    m.hift = Hift::random(hift_config, m.device);
    log_warn("glm4voice",
             "decoder: full-size flow + HiFT with RANDOM weights (benchmark only; the audio is noise)");
  } else if (!options.decoder_dir.empty()) {
    const fs::path dir(options.decoder_dir);
    const auto yaml_path = (dir / "config.yaml").string();
    auto config = read_hyperpyyaml(yaml_path);
    if (!config.contains("flow") || !config.contains("hift"))
      throw InputError(yaml_path + ": needs 'flow' and 'hift' blocks");
    auto flow_config = FlowConfig::from_json(config["flow"], yaml_path);
    auto hift_config = HiftConfig::from_json(config["hift"], yaml_path);
    if (flow_config.output_size != hift_config.in_channels)
      throw InputError(yaml_path + ": flow output_size " + std::to_string(flow_config.output_size) +
                       " differs from hift in_channels " + std::to_string(hift_config.in_channels));
    m.flow = Flow::open(flow_config, weights_file(dir, "flow"), m.device);
    m.hift = Hift::open(hift_config, weights_file(dir, "hift"), m.device);
    log_info("glm4voice", "decoder {}: flow ({} blocks, {} codes), HiFT {} Hz", options.decoder_dir,
             flow_config.num_blocks, flow_config.vocab_size, hift_config.sampling_rate);
  }
  return codec;
}

std::string Glm4VoiceCodec::describe() const {
  std::string s = "GLM-4-Voice (";
  if (impl_->tokenizer)
    s += "WhisperVQ " + std::to_string(impl_->tokenizer->config().quantize_vocab_size) + " codes";
  if (impl_->tokenizer && impl_->flow) s += "; ";
  if (impl_->flow) s += "flow matching + HiFT " + std::to_string(impl_->hift->config().sampling_rate) + " Hz";
  return s + ")";
}

int Glm4VoiceCodec::sample_rate() const {
  return impl_->tokenizer ? impl_->tokenizer->sample_rate() : 16000;
}
double Glm4VoiceCodec::frame_rate() const {
  return impl_->tokenizer ? impl_->tokenizer->config().frame_rate() : impl_->flow->config().input_frame_rate;
}
int64_t Glm4VoiceCodec::vocab_size() const {
  return impl_->tokenizer ? impl_->tokenizer->config().quantize_vocab_size : impl_->flow->config().vocab_size;
}
int Glm4VoiceCodec::output_sample_rate() const {
  return impl_->hift ? impl_->hift->config().sampling_rate : 22050;
}
bool Glm4VoiceCodec::can_encode() const {
  return bool(impl_->tokenizer);
}
bool Glm4VoiceCodec::can_decode() const {
  return bool(impl_->flow);
}
const std::vector<float>& Glm4VoiceCodec::last_mel() const {
  return impl_->mel;
}

const StreamStats& Glm4VoiceCodec::last_stream_stats() const {
  return impl_->stats;
}

std::vector<std::vector<int64_t>> Glm4VoiceCodec::encode_batch(const std::vector<std::vector<float>>& wavs) {
  if (!impl_->tokenizer) throw UsageError("glm4voice: opened without a tokenizer folder, cannot encode");
  return impl_->tokenizer->tokenize(wavs, impl_->options.encode_batch);
}

std::vector<int64_t> Glm4VoiceCodec::encode(const std::vector<float>& wav) {
  return encode_batch({wav})[0];
}

std::vector<float> Glm4VoiceCodec::decode(const std::vector<int64_t>& ids) {
  if (!impl_->flow) throw UsageError("glm4voice: opened without a decoder folder, cannot decode");
  impl_->check_ids(ids);
  impl_->mel.clear();
  if (ids.empty()) return {};
  Flow::Request request;
  request.tokens = impl_->ids_tensor(ids, 0, ids.size());
  auto mel = impl_->flow->inference(request);
  impl_->record(mel);
  return Impl::to_vector(impl_->hift->forward(mel, impl_->generator).speech);
}

void Glm4VoiceCodec::decode_stream(const std::vector<int64_t>& ids, const AudioSink& on_audio) {
  if (!impl_->flow) throw UsageError("glm4voice: opened without a decoder folder, cannot decode");
  impl_->check_ids(ids);
  auto& m = *impl_;
  m.stats = StreamStats{};
  m.mel.clear();
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto& fc = m.flow->config();
  const int64_t overlap = fc.mel_frames(kOverlapTokens);                                         // 34
  const int64_t source_cache = int64_t(kMelCacheFrames) * m.hift->config().samples_per_frame();  // 256
  // np.hamming(2 x overlap): symmetric. The first half fades the new chunk in, the second the old one out.
  auto n = torch::arange(2 * overlap, torch::kFloat64);
  auto window =
      (0.54 - 0.46 * torch::cos(2 * M_PI * n / double(2 * overlap - 1))).to(torch::kFloat32).to(m.device);

  torch::Tensor mel_overlap, cache_mel, cache_source, prompt_tokens;
  std::vector<torch::Tensor> mels;  // every chunk's mel as returned, the next chunk's prompt
  size_t pos = 0, chunk_index = 0;
  torch::InferenceMode guard;
  while (pos < ids.size()) {
    const auto& sizes = m.options.stream_chunks;
    const size_t size = size_t(sizes[std::min(chunk_index, sizes.size() - 1)]);
    const size_t end = std::min(ids.size(), pos + size);
    const bool final = end == ids.size();
    Flow::Request request;
    request.tokens = m.ids_tensor(ids, pos, end);
    if (pos > 0) {
      request.prompt_tokens = prompt_tokens;
      request.prompt_mel = torch::cat(mels, -1).transpose(1, 2);
    }
    auto mel = m.flow->inference(request);
    if (mel_overlap.defined() && m.options.stream_crossfade) {
      const int64_t k = std::min({overlap, mel.size(2), mel_overlap.size(2)});
      mel.narrow(2, 0, k).copy_(mel.narrow(2, 0, k) * window.narrow(0, 0, k) +
                                mel_overlap.narrow(2, mel_overlap.size(2) - k, k) *
                                    window.narrow(0, overlap, k));
    }
    if (cache_mel.defined()) mel = torch::cat({cache_mel, mel}, 2);
    torch::Tensor speech;
    if (!final) {
      if (mel.size(2) <= overlap)
        throw UsageError("glm4voice stream: a chunk of " + std::to_string(end - pos) +
                         " tokens is shorter than the "
                         "cross-fade");
      mel_overlap = mel.narrow(2, mel.size(2) - overlap, overlap);
      mel = mel.narrow(2, 0, mel.size(2) - overlap);
      m.record(cache_mel.defined() ? mel.narrow(2, kMelCacheFrames, mel.size(2) - kMelCacheFrames) : mel);
      auto out = m.hift->forward(mel, m.generator, cache_source);
      cache_mel = mel.narrow(2, mel.size(2) - kMelCacheFrames, kMelCacheFrames);
      cache_source = out.source.narrow(2, out.source.size(2) - source_cache, source_cache);
      speech = out.speech.narrow(1, 0, out.speech.size(1) - source_cache);
    } else {
      m.record(cache_mel.defined() ? mel.narrow(2, kMelCacheFrames, mel.size(2) - kMelCacheFrames) : mel);
      speech = m.hift->forward(mel, m.generator, cache_source).speech;
    }
    mels.push_back(mel);
    prompt_tokens = pos == 0 ? request.tokens : torch::cat({prompt_tokens, request.tokens}, 1);
    auto piece = Impl::to_vector(speech);
    if (chunk_index == 0) m.stats.first_audio_seconds = elapsed();
    m.stats.chunk_tokens.push_back(int(end - pos));
    m.stats.chunk_samples.push_back(int64_t(piece.size()));
    on_audio(piece);
    pos = end;
    ++chunk_index;
  }
  m.stats.total_seconds = elapsed();
}

namespace {
[[maybe_unused]] const bool registered =
    codec::register_codec("glm4voice", [](const codec::CodecLocation& location) {
      Glm4VoiceOptions options;
      options.tokenizer_dir = location.encoder_dir;
      options.decoder_dir = location.decoder_dir;
      options.device = location.device;
      return std::unique_ptr<codec::SpeechCodec>(Glm4VoiceCodec::open(options));
    });
}  // namespace

}  // namespace symp::speech
