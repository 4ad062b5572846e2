#include "symp/io/csv.h"

#include <cmath>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"

namespace symp::io {
namespace {

std::string quote(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void append_row(std::string& out, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    out += quote(cells[i]);
  }
  out += '\n';
}

}  // namespace

CsvWriter::CsvWriter(std::vector<std::string> header) : header_(std::move(header)) {}

void CsvWriter::add_row(const std::vector<std::string>& cells) {
  if (cells.size() != header_.size()) {
    throw RuntimeError(fmt::format("CSV row has {} cells, the header {}", cells.size(), header_.size()));
  }
  rows_.push_back(cells);
}

void CsvWriter::write(const std::string& path) const {
  std::string out;
  append_row(out, header_);
  for (const auto& row : rows_) append_row(out, row);
  write_file_atomic(path, out);
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{}", value);
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
      }
      row.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (quoted) throw InputError(path + ": unterminated quoted field");
  if (any || !cell.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace symp::io
