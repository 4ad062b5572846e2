#pragma once
// A small CSV writer (RFC 4180 quoting) that writes atomically on close().
#include <string>
#include <vector>

namespace symp::io {

class CsvWriter {
 public:
  explicit CsvWriter(std::vector<std::string> header);
  // Cells are written as given; numbers should be formatted by the caller (format_number helps).
  void add_row(const std::vector<std::string>& cells);
  void write(const std::string& path) const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Shortest round-trip text for a double; "nan" for NaN, empty for the `missing` flag.
std::string format_number(double value);

// Reads a CSV with a header row into rows of cells (quoted fields supported).
std::vector<std::vector<std::string>> read_csv(const std::string& path);

}  // namespace symp::io
