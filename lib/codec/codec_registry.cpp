// The registry of speech codec families (symp/codec/codec.h).
#include <map>
#include <mutex>

#include "symp/codec/codec.h"
#include "symp/core/error.h"

namespace symp::codec {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, CodecFactory> factories;
};

// Function-local static: codecs register from static initialisers in other translation units.
Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void CodecLocation::validate() const {
  if (kind.empty()) throw UsageError("codec location: field 'kind' is empty");
  if (encoder_dir.empty() && decoder_dir.empty())
    throw UsageError("codec location (" + kind + "): both 'encoder_dir' and 'decoder_dir' are empty");
  if (device.empty()) throw UsageError("codec location (" + kind + "): field 'device' is empty");
}

bool register_codec(const std::string& kind, CodecFactory factory) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.factories.emplace(kind, std::move(factory)).second)
    throw RuntimeError("speech codec '" + kind + "' registered twice");
  return true;
}

std::vector<std::string> codec_kinds() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> kinds;
  for (const auto& entry : r.factories) kinds.push_back(entry.first);
  return kinds;
}

std::unique_ptr<SpeechCodec> open_codec(const CodecLocation& location) {
  location.validate();
  CodecFactory factory;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.factories.find(location.kind);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& entry : r.factories) known += (known.empty() ? "" : ", ") + entry.first;
      throw UsageError("unknown speech codec '" + location.kind +
                       "' (known: " + (known.empty() ? "none" : known) + ")");
    }
    factory = it->second;
  }
  return with_context("speech codec '" + location.kind + "'", [&] { return factory(location); });
}

}  // namespace symp::codec
