// The fuzz targets that need torch: the `.pt` checkpoint reader (libtorch's zip reader and symp's own
// unpickler). Built into scripts/fuzz.sh's build when libtorch is found, and into the torch tests.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fuzz_targets.h"
#include "symp/core/error.h"
#include "symp/speech/glm4voice_checkpoint.h"

namespace symp::fuzz {
namespace {

const std::string& checkpoint_path() {
  static const std::string path = [] {
    namespace fs = std::filesystem;
    const fs::path root = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path dir = root / ("symp-fuzz-torch-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return (dir / "checkpoint.pt").string();
  }();
  return path;
}

// A `torch.save` archive: every tensor it yields has as many elements as its shape says.
void run_torch_checkpoint(const uint8_t* data, size_t size) {
  {
    std::ofstream out(checkpoint_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const speech::StateDict tensors = speech::read_torch_checkpoint(checkpoint_path());
    for (const auto& [name, t] : tensors) {
      if (t.numel() != t.contiguous().view(-1).size(0)) {
        std::fprintf(stderr, "fuzz: tensor %s has inconsistent sizes\n", name.c_str());
        std::abort();
      }
    }
  } catch (const symp::Error&) {
  }
}

}  // namespace

const std::vector<Target>& torch_targets() {
  static const std::vector<Target> all = {
      {"torch_checkpoint", "a torch.save .pt archive (zip, pickle, storages)", run_torch_checkpoint},
  };
  return all;
}

}  // namespace symp::fuzz
