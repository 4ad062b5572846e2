// libsymp_spm.so: SentencePiece behind the plugin boundary of symp/text/spm_backend.h. Only this file links
// libsentencepiece; it uses nothing else of symp.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "symp/text/spm_backend.h"

namespace {

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& texts) : texts_(texts) {}
  bool done() const override { return i_ >= texts_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return texts_[i_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  const std::vector<std::string>& texts_;
  size_t i_ = 0;
};

class Backend : public symp::text::SpmBackend {
 public:
  std::string load(const std::string& serialized) override {
    auto status = processor_.LoadFromSerializedProto(serialized);
    return status.ok() ? "" : status.ToString();
  }
  int piece_size() const override { return processor_.GetPieceSize(); }
  int piece_to_id(const std::string& piece) const override { return processor_.PieceToId(piece); }
  int unk_id() const override { return processor_.unk_id(); }
  std::vector<int> encode(const std::string& text) const override { return processor_.EncodeAsIds(text); }
  std::string decode(const std::vector<int>& ids) const override { return processor_.DecodeIds(ids); }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

extern "C" __attribute__((visibility("default"))) symp::text::SpmBackend* symp_spm_new() { return new Backend(); }

extern "C" __attribute__((visibility("default"))) std::string symp_spm_train(
    const std::vector<std::pair<std::string, std::string>>& args, const std::vector<std::string>& texts,
    unsigned seed, std::string* model) {
  std::unordered_map<std::string, std::string> flags(args.begin(), args.end());
  sentencepiece::SetRandomGeneratorSeed(seed);
  VectorIterator it(texts);
  const auto status = sentencepiece::SentencePieceTrainer::Train(flags, &it, model);
  return status.ok() ? "" : status.ToString();
}
