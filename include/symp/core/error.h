#pragma once
// Errors in symp are exceptions that carry their context ("file.jsonl:12: field 'valence': not a number").
// The library throws; only tools/symp/main.cpp catches, prints one line and picks the exit code:
// a UsageError (bad option or configuration) exits 2, every other error exits 1.
#include <stdexcept>
#include <string>
#include <utility>

namespace symp {

enum class ErrorKind {
  Usage,    // a bad option or configuration value: exit 2
  Input,    // a bad input file, record or field: exit 1
  Runtime,  // anything else that went wrong while working: exit 1
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  // Throws the same error, as its own kind and C++ type (UsageError stays a UsageError), with
  // "context: " put in front of its message.
  [[noreturn]] void rethrow_with_context(const std::string& context) const;

 private:
  ErrorKind kind_;
};

struct UsageError : Error {
  explicit UsageError(const std::string& message) : Error(ErrorKind::Usage, message) {}
};
struct InputError : Error {
  explicit InputError(const std::string& message) : Error(ErrorKind::Input, message) {}
};
struct RuntimeError : Error {
  explicit RuntimeError(const std::string& message) : Error(ErrorKind::Runtime, message) {}
};

inline void Error::rethrow_with_context(const std::string& context) const {
  const std::string message = context + ": " + what();
  switch (kind_) {
    case ErrorKind::Usage:
      throw UsageError(message);
    case ErrorKind::Input:
      throw InputError(message);
    case ErrorKind::Runtime:
      break;
  }
  throw RuntimeError(message);
}

// Runs fn(); an Error escaping it is rethrown with `context` in front (the kind is kept), and any other
// std::exception becomes a RuntimeError with the same context.
template <class Fn>
auto with_context(const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const Error& e) {
    e.rethrow_with_context(context);
  } catch (const std::exception& e) {
    throw RuntimeError(context + ": " + e.what());
  }
}

}  // namespace symp
