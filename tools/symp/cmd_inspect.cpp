// symp inspect: what is inside a safetensors checkpoint (file, folder or sharded index) or an audio file.
#include <iostream>

#include "command.h"
#include "symp/core/fs.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "symp/io/safetensors.h"

namespace {

int run(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    const auto ext = symp::fs::path(path).extension().string();
    if (symp::fs::is_directory(path) || ext == ".safetensors") {
      const auto model = symp::io::SafetensorsModel::open(path);
      for (const auto& name : model.names()) {
        const auto& t = model.get(name);
        std::cout << symp::io::Json({{"tensor", name}, {"dtype", symp::io::dtype_name(t.dtype)}, {"shape", t.shape},
                                     {"file", t.file}})
                         .dump()
                  << "\n";
      }
    } else {
      const auto info = symp::io::probe_audio(path);
      std::cout << symp::io::Json({{"file", path}, {"sample_rate", info.sample_rate}, {"channels", info.channels},
                                   {"frames", info.frames}, {"duration", info.duration()}, {"format", info.format}})
                       .dump()
                << "\n";
    }
  }
  return 0;
}

symp::cli::Runner setup(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  app.add_option("paths", *paths, "safetensors files or folders, or audio files")->required();
  return [paths](const symp::cli::GlobalOptions&) { return run(*paths); };
}

}  // namespace

SYMP_COMMAND(inspect, "inspect", 90, "List the tensors of a safetensors checkpoint or describe an audio file", setup)
