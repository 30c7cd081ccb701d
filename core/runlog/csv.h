// RFC 4180 CSV as the run folder writes and reads it: quoting on the way out, a strict parser (that
// says which line is wrong) on the way in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

// The field as it goes in a row: quoted only when it holds a comma, a quote, CR or LF, with inner
// quotes doubled.
std::string csvField(std::string_view field);

// Fields joined by commas, ended by a single "\n" (what spreadsheets and pandas read alike).
std::string csvRow(const std::vector<std::string>& fields);

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts (a quoted newline spans lines)
  std::vector<std::string> fields;
};

// Records of an RFC 4180 text. Lines end in "\n" or "\r\n"; a final line ending is optional. An
// empty line is a record with one empty field. With `drop_torn_tail`, a last record that has no
// line ending and is cut inside quotes (a writer stopped mid-row) is dropped instead of being an
// error. Errors name the line.
Result<std::vector<CsvRecord>> parseCsvRecords(std::string_view text, bool drop_torn_tail = false);

// parseCsvRecords without the line numbers.
Result<std::vector<std::vector<std::string>>> parseCsv(std::string_view text);

}  // namespace edgerig
