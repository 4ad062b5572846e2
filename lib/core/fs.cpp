#include "symp/core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "symp/core/build_info.h"
#include "symp/core/error.h"

namespace symp {
namespace {

std::atomic<uint64_t> g_temp_counter{0};

fs::path temp_name_for(const fs::path& target) {
  return target.parent_path() / (".tmp." + target.filename().string() + "." + std::to_string(::getpid()) +
                                 "." + std::to_string(g_temp_counter++));
}

void fsync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open (" + std::strerror(errno) + ")");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path.string() + ": read failed");
  return content;
}

void ensure_dir(const fs::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw RuntimeError(dir.string() + ": cannot create folder (" + ec.message() + ")");
}

void write_file_atomic(const fs::path& path, const std::string& content, bool durable) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    if (!out) throw RuntimeError(path.string() + ": cannot write (" + std::strerror(errno) + ")");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw RuntimeError(path.string() + ": write failed (" + std::strerror(errno) + ")");
  }
  file.commit(durable);
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  ensure_dir(target_.parent_path());
  temp_ = temp_name_for(target_);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit(bool durable) {
  if (committed_) return;
  if (durable) fsync_path(temp_);
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec)
    throw RuntimeError(target_.string() + ": cannot move the finished file into place (" + ec.message() +
                       ")");
  committed_ = true;
  if (durable) fsync_path(target_.parent_path().empty() ? fs::path(".") : target_.parent_path());
}

fs::path data_path(const std::string& relative) {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("SYMP_DATA_DIR"); env && *env) roots.emplace_back(env);
  roots.emplace_back(SYMP_SOURCE_DATA_DIR);
  roots.emplace_back(SYMP_INSTALL_DATA_DIR);
  std::string tried;
  for (const auto& root : roots) {
    auto candidate = root / relative;
    if (fs::exists(candidate)) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  throw InputError("data file '" + relative + "' not found (looked in " + tried + "; set SYMP_DATA_DIR)");
}

}  // namespace symp
