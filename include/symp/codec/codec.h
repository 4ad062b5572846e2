#pragma once
// A speech codec: waveform in, discrete ids out (encode), ids back to a waveform (decode). tokenize,
// infer and the tools take any implementation: the embedded codec the toolkit trains on the corpus, or
// GLM-4-Voice's own stack (WhisperVQ tokenizer + flow-matching decoder + HiFT vocoder,
// symp/speech/glm4voice.h). Every rate and size comes from the codec, never from constants: sample_rate() of
// the input, frame_rate() of the ids, vocab_size() of the codebook, output_sample_rate() of the decoded
// waveform. No torch here: implementations hide their models behind a pimpl.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace symp::codec {

class SpeechCodec {
 public:
  virtual ~SpeechCodec() = default;

  // Short stable name of the codec family, as the registry knows it: "embedded", "glm4voice".
  virtual std::string name() const = 0;
  // What it is, for datasheets and logs: "GLM-4-Voice (WhisperVQ 16,384 codes, flow + HiFT 22,050 Hz)".
  virtual std::string describe() const { return name(); }

  // Rate (Hz) of the waveform encode() expects; resample to it first (symp::io::resample).
  virtual int sample_rate() const = 0;
  // Ids per second of audio (12.5 for both codecs: 80 ms per id).
  virtual double frame_rate() const = 0;
  // Ids are in [0, vocab_size()). Mapping them into a text vocabulary (an id offset) is the text
  // tokenizer's business, not the codec's.
  virtual int64_t vocab_size() const = 0;
  // Rate (Hz) of the waveform decode() returns (22,050 for GLM-4-Voice's decoder).
  virtual int output_sample_rate() const = 0;

  // Whether this instance was opened with what encode()/decode() need (a tokenizer-only GLM-4-Voice
  // codec cannot decode); calling one that cannot throws UsageError.
  virtual bool can_encode() const { return true; }
  virtual bool can_decode() const { return true; }

  // Mono samples in [-1, 1] at sample_rate() -> about duration x frame_rate() ids. InputError for
  // non-finite samples.
  virtual std::vector<int64_t> encode(const std::vector<float>& wav) = 0;
  // Ids -> mono samples in [-1, 1] at output_sample_rate(). InputError naming the first id outside
  // [0, vocab_size()).
  virtual std::vector<float> decode(const std::vector<int64_t>& ids) = 0;

  // Streaming decode: calls on_audio with consecutive pieces whose concatenation is the waveform (a
  // codec that streams, like GLM-4-Voice's, emits the first piece after its first chunk of ids). The
  // default decodes everything and emits it once.
  using AudioSink = std::function<void(const std::vector<float>& piece)>;
  // For a decoder whose output at a sample depends only on ids up to a few ids ahead of it: how many
  // (decode(prefix) then equals decode(all) except in the last this-many ids' worth of samples, bit for
  // bit). A generator may then play audio while ids are still being generated. -1: no such bound (decode
  // with decode_stream() once every id is known).
  virtual int prefix_stable_lookahead() const { return -1; }
  virtual void decode_stream(const std::vector<int64_t>& ids, const AudioSink& on_audio) {
    on_audio(decode(ids));
  }
};

// Where a codec's files are. A codec needs the parts for what it will do: encode-only use may leave
// decoder_dir empty and decode-only use encoder_dir.
struct CodecLocation {
  std::string kind;         // registry name: "embedded", "glm4voice"
  std::string encoder_dir;  // tokenizer folder (GLM-4-Voice: glm-4-voice-tokenizer; embedded: its model dir)
  std::string
      decoder_dir;  // decoder folder (GLM-4-Voice: glm-4-voice-decoder; embedded: same as encoder_dir)
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1" (codecs that run on torch)
  void validate() const;       // UsageError naming the field: empty kind, both folders empty
};

using CodecFactory = std::function<std::unique_ptr<SpeechCodec>(const CodecLocation&)>;

// Registers a codec family under `kind` (call from a static initialiser in the codec's .cpp:
//   static const bool registered = symp::codec::register_codec("glm4voice", open_glm4voice);).
// Returns true; registering a kind twice throws RuntimeError.
bool register_codec(const std::string& kind, CodecFactory factory);
// Opens a codec by location.kind; UsageError listing the known kinds when it is unknown. Errors of the
// factory (missing files, bad config) come out with the kind in front.
std::unique_ptr<SpeechCodec> open_codec(const CodecLocation& location);
// Registered kinds, sorted.
std::vector<std::string> codec_kinds();

}  // namespace symp::codec
