#pragma once
// What the reports share to read the stages' CSV files (internal to lib/report): rows keyed by the header.
#include <map>
#include <string>
#include <vector>

#include "symp/core/fs.h"

namespace symp::report {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;  // a short row holds only the columns it has
};

// The CSV at `path` (io::read_csv), each row keyed by the header; empty when the file has no header.
CsvTable read_csv_table(const fs::path& path);

// A cell as a number; NaN for an empty cell, "nan" or anything that is not wholly a number.
double parse_number(const std::string& s);

}  // namespace symp::report
