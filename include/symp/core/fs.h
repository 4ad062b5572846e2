#pragma once
// File helpers that never leave a half-written file behind: writes go to a temporary file beside the
// target and are renamed over it only when complete.
#include <filesystem>
#include <fstream>
#include <string>

namespace symp {

namespace fs = std::filesystem;

// Reads a whole file; InputError naming the path when it cannot.
std::string read_text_file(const fs::path& path);
// Writes `content` to `path` atomically (temporary file + fsync + rename); creates parent folders. Without
// `durable` there is no fsync: a killed process still leaves the old file or the whole new one (the kernel
// holds what was written), only a power cut can lose it.
void write_file_atomic(const fs::path& path, const std::string& content, bool durable = true);
// Creates a folder and its parents; RuntimeError naming it when that fails.
void ensure_dir(const fs::path& dir);

// A file written in place under a temporary name; commit() renames it to the target. Destroyed without
// commit(), the temporary is removed and the target is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(fs::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  const fs::path& temp_path() const { return temp_; }
  const fs::path& target() const { return target_; }
  // Renames the temporary into place; `durable` fsyncs the file before and its folder after.
  void commit(bool durable = true);

 private:
  fs::path target_, temp_;
  bool committed_ = false;
};

// Locates a file under the toolkit's data/ folder: $SYMP_DATA_DIR first, then the source tree the binary
// was built from, then the install prefix. InputError listing the places tried when none has it.
fs::path data_path(const std::string& relative);

}  // namespace symp
