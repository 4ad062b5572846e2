#include "csv_table.h"

#include <cmath>
#include <cstdlib>

#include "symp/io/csv.h"

namespace symp::report {

CsvTable read_csv_table(const fs::path& path) {
  CsvTable t;
  auto cells = io::read_csv(path.string());
  if (cells.empty()) return t;
  t.header = cells[0];
  for (size_t i = 1; i < cells.size(); ++i) {
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < t.header.size() && c < cells[i].size(); ++c) row[t.header[c]] = cells[i][c];
    t.rows.push_back(std::move(row));
  }
  return t;
}

double parse_number(const std::string& s) {
  if (s.empty() || s == "nan") return NAN;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  return end && *end == '\0' ? v : NAN;
}

}  // namespace symp::report
