#include "core/runlog/run_reader.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>

#include "core/runlog/csv.h"
#include "core/runlog/numbers.h"

namespace edgerig {
namespace {

namespace fs = std::filesystem;

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return notFound("cannot open " + path + ": is this a run folder?");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return unavailable("cannot read " + path);
  return text.str();
}

// One CSV file of the run: its header checked, its rows handed to `parseRow` with a function that
// builds a "<file> line <n>: ..." error.
class RowReader {
 public:
  RowReader(std::string path, const CsvRecord& record) : path_(std::move(path)), record_(record) {}

  const std::string& text(size_t i) const { return record_.fields[i]; }

  Status error(const std::string& what) const {
    return invalidArgument(path_ + " line " + std::to_string(record_.line) + ": " + what);
  }

  bool number(size_t i, const char* column, double* out, Status* err) const {
    auto v = parseDouble(record_.fields[i]);
    if (!v) {
      *err = error(std::string(column) + " \"" + record_.fields[i] + "\" is not a number");
      return false;
    }
    *out = *v;
    return true;
  }

  template <typename Int>
  bool integer(size_t i, const char* column, Int* out, Status* err) const {
    auto v = parseInt64(record_.fields[i]);
    if (!v || *v < std::numeric_limits<Int>::min() || *v > std::numeric_limits<Int>::max()) {
      *err = error(std::string(column) + " \"" + record_.fields[i] + "\" is not an integer");
      return false;
    }
    *out = static_cast<Int>(*v);
    return true;
  }

 private:
  std::string path_;
  const CsvRecord& record_;
};

// `optional`: a missing file reads as no rows. `old_header`: an older layout with fewer columns,
// whose rows are read with the missing trailing columns empty.
template <typename Record, typename ParseRow>
Status readTable(const std::string& dir, const char* file, const char* header,
                 std::vector<Record>* out, ParseRow parseRow, bool optional = false,
                 const char* old_header = nullptr) {
  const std::string path = (fs::path(dir) / file).string();
  if (optional && !fs::exists(path)) return Status::ok();
  auto text = readFile(path);
  if (!text) return text.status();
  auto records = parseCsvRecords(*text, /*drop_torn_tail=*/true);
  if (!records) return invalidArgument(path + ": " + records.status().message());
  const auto full = parseCsv(header)->front();
  auto columns = full;
  if (old_header != nullptr && !records->empty() &&
      records->front().fields == parseCsv(old_header)->front()) {
    columns = parseCsv(old_header)->front();
  }
  if (records->empty() || records->front().fields != columns) {
    return invalidArgument(path + " line 1: the header must be \"" + std::string(header) +
                           "\"; this is not an edgerig run file");
  }
  const bool ends_clean = !text->empty() && text->back() == '\n';
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& record = (*records)[r];
    RowReader row(path, record);
    if (record.fields.size() != columns.size()) {
      // A crash mid-write leaves a short last row with no line ending.
      if (r + 1 == records->size() && !ends_clean) break;
      return row.error("expected " + std::to_string(columns.size()) + " fields, found " +
                       std::to_string(record.fields.size()));
    }
    CsvRecord padded = record;  // an older layout: the missing columns read as empty
    padded.fields.resize(full.size());
    RowReader full_row(path, padded);
    Record value;
    Status err;
    if (!parseRow(full_row, &value, &err)) return err;
    out->push_back(std::move(value));
  }
  return Status::ok();
}

}  // namespace

Result<RunData> readRun(const std::string& dir) {
  RunData run;
  auto config = readFile((fs::path(dir) / kConfigFile).string());
  if (!config) return config.status();
  run.config_json = std::move(*config);

  Status s = readTable(dir, kMetricsFile, kMetricsHeader, &run.metrics,
                       [](const RowReader& row, MetricSample* m, Status* err) {
                         m->device = row.text(2);
                         m->metric = row.text(3);
                         return row.number(0, "time_s", &m->time_s, err) &&
                                row.integer(1, "iteration", &m->iteration, err) &&
                                row.number(4, "value", &m->value, err);
                       });
  if (!s) return s;
  s = readTable(
      dir, kEventsFile, kEventsHeader, &run.events,
      [](const RowReader& row, RunEvent* e, Status* err) {
        e->device = row.text(2);
        e->kind = row.text(3);
        e->detail = row.text(4);
        auto fields = parseFieldsText(row.text(5));
        if (!fields) {
          *err = row.error(fields.status().message());
          return false;
        }
        e->fields = std::move(fields).value();
        return row.number(0, "time_s", &e->time_s, err) &&
               row.integer(1, "iteration", &e->iteration, err);
      },
      /*optional=*/false, kEventsHeaderWithoutFields);
  if (!s) return s;
  s = readTable(dir, kPartitionsFile, kPartitionsHeader, &run.partitions,
                [](const RowReader& row, PartitionRecord* p, Status* err) {
                  p->device = row.text(3);
                  p->layers = row.text(6);
                  return row.number(0, "time_s", &p->time_s, err) &&
                         row.integer(1, "iteration", &p->iteration, err) &&
                         row.integer(2, "stage", &p->stage, err) &&
                         row.integer(4, "first_layer", &p->first_layer, err) &&
                         row.integer(5, "last_layer", &p->last_layer, err);
                });
  if (!s) return s;
  s = readTable(
      dir, kGraphFile, kGraphHeader, &run.graph,
      [](const RowReader& row, GraphEdgeRecord* g, Status* err) {
        g->graph = row.text(3);
        g->from = row.text(4);
        g->to = row.text(5);
        return row.number(0, "time_s", &g->time_s, err) &&
               row.integer(1, "iteration", &g->iteration, err) &&
               row.integer(2, "round", &g->round, err) && row.number(6, "weight", &g->weight, err);
      },
      /*optional=*/true);
  if (!s) return s;
  s = readTable(
      dir, kShardsFile, kShardsHeader, &run.shards,
      [](const RowReader& row, ShardRecord* r, Status* err) {
        r->device = row.text(0);
        return row.integer(1, "class", &r->label, err) && row.integer(2, "count", &r->count, err);
      },
      /*optional=*/true);
  if (!s) return s;
  s = readTable(
      dir, kLinksFile, kLinksHeader, &run.links,
      [](const RowReader& row, LinkBandwidthRecord* l, Status* err) {
        l->from = row.text(2);
        l->to = row.text(3);
        return row.number(0, "time_s", &l->time_s, err) &&
               row.integer(1, "iteration", &l->iteration, err) &&
               row.number(4, "bytes_per_s", &l->bytes_per_s, err);
      },
      /*optional=*/true);
  if (!s) return s;
  return run;
}

Status exportWide(const std::string& run_dir, const std::string& out_csv) {
  auto run = readRun(run_dir);
  if (!run) return run.status();

  std::vector<std::string> columns;
  std::map<std::string, size_t> column_of;
  using Key = std::tuple<std::string, int64_t,
                         std::string>;  // printed time, iteration, device
  std::vector<Key> keys;
  std::map<Key, size_t> row_of;
  std::vector<std::vector<std::string>> cells;
  for (const MetricSample& m : run->metrics) {
    auto [col, new_col] = column_of.emplace(m.metric, columns.size());
    if (new_col) columns.push_back(m.metric);
    Key key{formatTime(m.time_s), m.iteration, m.device};
    auto [row, new_row] = row_of.emplace(key, keys.size());
    if (new_row) {
      keys.push_back(key);
      cells.emplace_back();
    }
    auto& line = cells[row->second];
    if (line.size() <= col->second) line.resize(col->second + 1);
    line[col->second] = formatValue(m.value);
  }

  std::vector<std::string> header{"time_s", "iteration", "device"};
  header.insert(header.end(), columns.begin(), columns.end());
  std::string text = csvRow(header);
  for (size_t r = 0; r < keys.size(); ++r) {
    std::vector<std::string> fields{std::get<0>(keys[r]), std::to_string(std::get<1>(keys[r])),
                                    std::get<2>(keys[r])};
    cells[r].resize(columns.size());
    fields.insert(fields.end(), cells[r].begin(), cells[r].end());
    text += csvRow(fields);
  }

  std::ofstream out(out_csv, std::ios::binary | std::ios::trunc);
  if (!out) {
    return unavailable("cannot create " + out_csv + ": check the folder exists and is writable");
  }
  out << text;
  out.close();
  if (!out) return unavailable("cannot write " + out_csv + ": check free space");
  return Status::ok();
}

}  // namespace edgerig
