#pragma once
// The SentencePiece library behind a plugin boundary. Debian's libsentencepiece carries its own copy of
// protobuf 3.14 with exported symbols, and Debian's libtorch loads the system protobuf 3.21: in one symbol
// namespace they crash at start-up. So symp never links libsentencepiece into the process: the plugin
// libsymp_spm.so (lib/spm_plugin/) does, and is opened with dlmopen in a link-map namespace of its own, where
// it and its protobuf see only each other. Unlike RTLD_DEEPBIND (used before), dlmopen works under the
// sanitizers. Only plain data crosses (symp/text/spm_abi.h); this class wraps it. Internal to lib/text; use
// symp/text/sentencepiece.h.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace symp::text {

class SpmBackend {
 public:
  virtual ~SpmBackend() = default;
  // Loads a serialized model; returns "" or the library's error text.
  virtual std::string load(const std::string& serialized) = 0;
  virtual int piece_size() const = 0;
  virtual int piece_to_id(const std::string& piece) const = 0;
  virtual int unk_id() const = 0;
  virtual std::vector<int> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int>& ids) const = 0;
};

std::unique_ptr<SpmBackend> new_spm_backend();
std::string spm_train(const std::vector<std::pair<std::string, std::string>>& args,
                      const std::vector<std::string>& texts, unsigned seed, std::string* model);

}  // namespace symp::text
