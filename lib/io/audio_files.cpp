// The one expander of audio arguments (files and folders) into audio files.
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/audio.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace symp::io {

bool has_audio_extension(const std::string& path) {
  static const std::set<std::string> ext = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                                            ".aif", ".aiff", ".au",  ".w64", ".caf"};
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext.count(e) > 0;
}

std::vector<std::string> expand_audio_paths(const std::vector<std::string>& args, bool recursive) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (!fs::is_directory(arg)) {
      files.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    auto take = [&](const fs::directory_entry& e) {
      if (e.is_regular_file() && has_audio_extension(e.path().string())) found.push_back(e.path().string());
    };
    if (recursive) {
      for (const auto& e : fs::recursive_directory_iterator(arg)) take(e);
    } else {
      for (const auto& e : fs::directory_iterator(arg)) take(e);
    }
    if (found.empty()) throw InputError(arg + ": no audio files in this folder");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace symp::io
