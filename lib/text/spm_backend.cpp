#include "symp/text/spm_backend.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

#include "symp/core/error.h"
#include "symp/text/spm_abi.h"

namespace symp::text {
namespace {

struct Plugin {
  symp_spm_open_fn open = nullptr;
  symp_spm_close_fn close = nullptr;
  symp_spm_piece_size_fn piece_size = nullptr;
  symp_spm_piece_to_id_fn piece_to_id = nullptr;
  symp_spm_unk_id_fn unk_id = nullptr;
  symp_spm_encode_fn encode = nullptr;
  symp_spm_decode_fn decode = nullptr;
  symp_spm_train_fn train = nullptr;
};

template <class Fn>
void find(void* handle, const char* name, const std::string& path, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (!out) throw RuntimeError(path + ": not a symp SentencePiece plugin (no " + name + ")");
}

// Opens libsymp_spm.so from the folder libsymp_base.so was loaded from (or $SYMP_SPM_PLUGIN), once, in a
// new link-map namespace.
const Plugin& plugin() {
  static Plugin p;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string path;
    if (const char* env = std::getenv("SYMP_SPM_PLUGIN"); env && *env) {
      path = env;
    } else {
      Dl_info info{};
      dladdr(reinterpret_cast<void*>(&new_spm_backend), &info);
      path = (std::filesystem::path(info.dli_fname ? info.dli_fname : "").parent_path() / "libsymp_spm.so")
                 .string();
    }
    void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) throw RuntimeError(std::string("cannot load the SentencePiece plugin: ") + dlerror());
    find(handle, "symp_spm_open", path, p.open);
    find(handle, "symp_spm_close", path, p.close);
    find(handle, "symp_spm_piece_size", path, p.piece_size);
    find(handle, "symp_spm_piece_to_id", path, p.piece_to_id);
    find(handle, "symp_spm_unk_id", path, p.unk_id);
    find(handle, "symp_spm_encode", path, p.encode);
    find(handle, "symp_spm_decode", path, p.decode);
    find(handle, "symp_spm_train", path, p.train);
  });
  return p;
}

// What the plugin hands back through its callbacks, copied into this side's memory.
struct Results {
  std::string bytes;
  std::vector<int> ints;
  std::string error;
};

void take_bytes(void* ctx, const char* data, size_t size) {
  static_cast<Results*>(ctx)->bytes.assign(data, size);
}
void take_ints(void* ctx, const int* data, size_t size) {
  static_cast<Results*>(ctx)->ints.assign(data, data + size);
}
void take_error(void* ctx, const char* data, size_t size) {
  static_cast<Results*>(ctx)->error.assign(data, size);
}

class PluginBackend : public SpmBackend {
 public:
  PluginBackend() : p_(plugin()) {}
  ~PluginBackend() override {
    if (handle_) p_.close(handle_);
  }
  std::string load(const std::string& serialized) override {
    if (handle_) p_.close(handle_);
    Results r;
    handle_ = p_.open(serialized.data(), serialized.size(), take_error, &r);
    return handle_ ? "" : (r.error.empty() ? "the model did not load" : r.error);
  }
  int piece_size() const override { return p_.piece_size(checked()); }
  int piece_to_id(const std::string& piece) const override {
    return p_.piece_to_id(checked(), piece.data(), piece.size());
  }
  int unk_id() const override { return p_.unk_id(checked()); }
  std::vector<int> encode(const std::string& text) const override {
    Results r;
    if (p_.encode(checked(), text.data(), text.size(), take_ints, take_error, &r) != 0)
      throw RuntimeError("SentencePiece: encode failed: " + r.error);
    return std::move(r.ints);
  }
  std::string decode(const std::vector<int>& ids) const override {
    Results r;
    if (p_.decode(checked(), ids.data(), ids.size(), take_bytes, take_error, &r) != 0)
      throw RuntimeError("SentencePiece: decode failed: " + r.error);
    return std::move(r.bytes);
  }

 private:
  const void* checked() const {
    if (!handle_) throw RuntimeError("SentencePiece: no model loaded");
    return handle_;
  }
  const Plugin& p_;
  void* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<SpmBackend> new_spm_backend() {
  return std::make_unique<PluginBackend>();
}

std::string spm_train(const std::vector<std::pair<std::string, std::string>>& args,
                      const std::vector<std::string>& texts, unsigned seed, std::string* model) {
  std::vector<const char*> keys, values, pointers;
  std::vector<size_t> sizes;
  for (const auto& [k, v] : args) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  for (const auto& t : texts) {
    pointers.push_back(t.data());
    sizes.push_back(t.size());
  }
  Results r;
  if (plugin().train(keys.data(), values.data(), keys.size(), pointers.data(), sizes.data(), texts.size(),
                     seed, take_bytes, take_error, &r) != 0)
    return r.error.empty() ? "training failed" : r.error;
  *model = std::move(r.bytes);
  return "";
}

}  // namespace symp::text
