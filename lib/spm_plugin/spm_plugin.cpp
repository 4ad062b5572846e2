// libsymp_spm.so: SentencePiece behind the C interface of symp/text/spm_abi.h. Only this file links
// libsentencepiece; it uses nothing else of symp. Every entry point catches what SentencePiece or the C++
// runtime throws: no exception leaves the plugin's namespace.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "symp/text/spm_abi.h"

#define SYMP_SPM_EXPORT extern "C" __attribute__((visibility("default")))

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

void report(symp_spm_bytes_fn on_error, void* ctx, const std::string& message) {
  if (on_error) on_error(ctx, message.data(), message.size());
}

// Runs fn and returns what it returns; anything it throws goes to on_error and the call returns `failed`.
template <class R, class Fn>
R guarded(symp_spm_bytes_fn on_error, void* ctx, R failed, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    report(on_error, ctx, e.what());
  } catch (...) {
    report(on_error, ctx, "unknown error");
  }
  return failed;
}

const sentencepiece::SentencePieceProcessor& processor(const void* p) {
  return *static_cast<const sentencepiece::SentencePieceProcessor*>(p);
}

}  // namespace

SYMP_SPM_EXPORT void* symp_spm_open(const char* model, size_t size, symp_spm_bytes_fn on_error, void* ctx) {
  return guarded<void*>(on_error, ctx, nullptr, [&]() -> void* {
    auto p = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = p->LoadFromSerializedProto(std::string(model, size));
    if (status.ok()) return p.release();
    report(on_error, ctx, status.ToString());
    return nullptr;
  });
}

SYMP_SPM_EXPORT void symp_spm_close(void* p) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(p);
}

SYMP_SPM_EXPORT int symp_spm_piece_size(const void* p) {
  return processor(p).GetPieceSize();
}

SYMP_SPM_EXPORT int symp_spm_piece_to_id(const void* p, const char* piece, size_t size) {
  return guarded(nullptr, nullptr, processor(p).unk_id(),
                 [&] { return processor(p).PieceToId(std::string(piece, size)); });
}

SYMP_SPM_EXPORT int symp_spm_unk_id(const void* p) {
  return processor(p).unk_id();
}

SYMP_SPM_EXPORT int symp_spm_encode(const void* p, const char* text, size_t size, symp_spm_ints_fn out,
                                    symp_spm_bytes_fn on_error, void* ctx) {
  return guarded(on_error, ctx, -1, [&] {
    const std::vector<int> ids = processor(p).EncodeAsIds(std::string(text, size));
    out(ctx, ids.data(), ids.size());
    return 0;
  });
}

SYMP_SPM_EXPORT int symp_spm_decode(const void* p, const int* ids, size_t n, symp_spm_bytes_fn out,
                                    symp_spm_bytes_fn on_error, void* ctx) {
  return guarded(on_error, ctx, -1, [&] {
    const std::string text = processor(p).DecodeIds(std::vector<int>(ids, ids + n));
    out(ctx, text.data(), text.size());
    return 0;
  });
}

SYMP_SPM_EXPORT int symp_spm_train(const char* const* keys, const char* const* values, size_t nargs,
                                   const char* const* texts, const size_t* sizes, size_t ntexts,
                                   unsigned seed, symp_spm_bytes_fn model_out, symp_spm_bytes_fn on_error,
                                   void* ctx) {
  return guarded(on_error, ctx, -1, [&] {
    std::unordered_map<std::string, std::string> flags;
    for (size_t i = 0; i < nargs; ++i) flags[keys[i]] = values[i];
    std::vector<std::string> sentences;
    sentences.reserve(ntexts);
    for (size_t i = 0; i < ntexts; ++i) sentences.emplace_back(texts[i], sizes[i]);
    sentencepiece::SetRandomGeneratorSeed(seed);
    VectorIterator it(sentences);
    std::string model;
    const auto status = sentencepiece::SentencePieceTrainer::Train(flags, &it, &model);
    if (!status.ok()) {
      report(on_error, ctx, status.ToString());
      return -1;
    }
    model_out(ctx, model.data(), model.size());
    return 0;
  });
}
