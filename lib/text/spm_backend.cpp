#include "symp/text/spm_backend.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

#include "symp/core/error.h"

namespace symp::text {
namespace {

struct Plugin {
  SpmNewFn make = nullptr;
  SpmTrainFn train = nullptr;
};

// Opens libsymp_spm.so from the folder libsymp_base.so was loaded from (or $SYMP_SPM_PLUGIN), once.
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
    int flags = RTLD_NOW | RTLD_LOCAL;
#if !defined(__SANITIZE_ADDRESS__) && !defined(SYMP_SPM_NO_DEEPBIND)
    flags |= RTLD_DEEPBIND;  // the plugin's protobuf copy must bind to itself (sanitizers refuse DEEPBIND)
#endif
    void* handle = dlopen(path.c_str(), flags);
    if (!handle) throw RuntimeError(std::string("cannot load the SentencePiece plugin: ") + dlerror());
    p.make = reinterpret_cast<SpmNewFn>(dlsym(handle, "symp_spm_new"));
    p.train = reinterpret_cast<SpmTrainFn>(dlsym(handle, "symp_spm_train"));
    if (!p.make || !p.train) throw RuntimeError(path + ": not a symp SentencePiece plugin");
  });
  return p;
}

}  // namespace

std::unique_ptr<SpmBackend> new_spm_backend() {
  return std::unique_ptr<SpmBackend>(plugin().make());
}

std::string spm_train(const std::vector<std::pair<std::string, std::string>>& args,
                      const std::vector<std::string>& texts, unsigned seed, std::string* model) {
  return plugin().train(args, texts, seed, model);
}

}  // namespace symp::text
