// The fuzz targets that need torch: the `.pt` checkpoint reader (libtorch's zip reader and symp's own
// unpickler). Built into scripts/fuzz.sh's build when libtorch is found, and into the torch tests.
#include <string>

#include "fuzz_targets.h"
#include "symp/core/error.h"
#include "symp/speech/glm4voice_checkpoint.h"

namespace symp::fuzz {
namespace {

// A `torch.save` archive: every tensor it yields has as many elements as its shape says.
void run_torch_checkpoint(const uint8_t* data, size_t size) {
  const std::string path =
      write_input_file("checkpoint.pt", std::string(reinterpret_cast<const char*>(data), size));
  try {
    for (const auto& [name, t] : speech::read_torch_checkpoint(path))
      FUZZ_CHECK(t.numel() == t.contiguous().view(-1).size(0));
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
