#include "core/runlog/csv.h"

namespace edgerig {

std::string csvField(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out;
  out.reserve(field.size() + 2);
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += csvField(fields[i]);
  }
  out += '\n';
  return out;
}

Result<std::vector<CsvRecord>> parseCsvRecords(std::string_view text, bool drop_torn_tail) {
  std::vector<CsvRecord> records;
  size_t i = 0;
  int line = 1;
  const size_t n = text.size();
  while (i < n) {
    CsvRecord record;
    record.line = line;
    bool record_done = false;
    while (!record_done) {
      std::string field;
      if (i < n && text[i] == '"') {
        const int quote_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (!closed) {
          if (drop_torn_tail) return records;
          return invalidArgument("CSV line " + std::to_string(quote_line) +
                                 ": a quoted field is never closed; add the closing '\"'");
        }
        if (i < n && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          return invalidArgument("CSV line " + std::to_string(line) +
                                 ": text after a closing quote; a quote inside a field must be "
                                 "doubled and the field quoted");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' &&
               !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          if (text[i] == '"' || text[i] == '\r') {
            return invalidArgument("CSV line " + std::to_string(line) +
                                   ": a quote or CR inside an unquoted field; quote the field "
                                   "and double its quotes");
          }
          field += text[i++];
        }
      }
      record.fields.push_back(std::move(field));
      if (i >= n) {
        record_done = true;
      } else if (text[i] == ',') {
        ++i;
      } else {  // "\n" or "\r\n"
        i += text[i] == '\r' ? 2 : 1;
        ++line;
        record_done = true;
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

Result<std::vector<std::vector<std::string>>> parseCsv(std::string_view text) {
  auto records = parseCsvRecords(text);
  if (!records) return records.status();
  std::vector<std::vector<std::string>> rows;
  rows.reserve(records->size());
  for (auto& r : *records) rows.push_back(std::move(r.fields));
  return rows;
}

}  // namespace edgerig
