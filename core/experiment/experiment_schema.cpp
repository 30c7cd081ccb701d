#include "core/experiment/experiment_schema.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <charconv>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

#include "edgerig.pb.h"

namespace edgerig {

// ---------------------------------------------------------------------------------------------
// JSON text and names

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// A value as a message quotes it: short, JSON-spelled (strings keep their quotes).
std::string shown(const Json& v) {
  std::string s = v.dump();
  constexpr size_t kMax = 40;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

std::string knownFields(const Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->json_name());
  return joinNames(names);
}

// Either spelling the JSON mapping accepts: "batchSize" or "batch_size".
const FieldDescriptor* findField(const Descriptor* d, const std::string& key) {
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->name() == key || d->field(i)->json_name() == key) return d->field(i);
  }
  return nullptr;
}

// A google.protobuf.Struct field: a JSON object whose keys the schema does not list.
bool isFreeObject(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         f->message_type()->full_name() == "google.protobuf.Struct";
}

std::string child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

}  // namespace

Result<Json> parseJsonText(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag: the reader wants the position.
    if (auto p = what.find("] "); what.rfind("[json.", 0) == 0 && p != std::string::npos) {
      what = what.substr(p + 2);
    }
    return invalidArgument("invalid JSON: " + what);
  }
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Status fieldError(const std::string& path, const std::string& what) {
  return invalidArgument("field " + path + ": " + what);
}

// ---------------------------------------------------------------------------------------------
// Schema check: protobuf's own messages name the field in three different shapes (and in the proto
// spelling, not the file's), so the document is walked against the schema first and every unknown
// or ill-typed value is reported the same way, with the file's spelling.

namespace {

// A quoted integer ("64") is valid in the JSON mapping.
bool parseIntegerText(const std::string& s, long double* x) {
  const char* end = s.data() + s.size();
  int64_t i = 0;
  if (auto r = std::from_chars(s.data(), end, i); r.ec == std::errc() && r.ptr == end) {
    *x = i;
    return true;
  }
  uint64_t u = 0;
  auto r = std::from_chars(s.data(), end, u);
  *x = u;
  return r.ec == std::errc() && r.ptr == end;
}

Status checkInteger(const Json& v, const FieldDescriptor* f, const std::string& path) {
  long double lo = 0, hi = std::numeric_limits<uint64_t>::max();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      lo = std::numeric_limits<int32_t>::min();
      hi = std::numeric_limits<int32_t>::max();
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      hi = std::numeric_limits<uint32_t>::max();
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      lo = std::numeric_limits<int64_t>::min();
      hi = std::numeric_limits<int64_t>::max();
      break;
    default:
      break;
  }
  long double x = 0;
  bool integral = true;
  if (v.is_number_unsigned()) {
    x = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    x = v.get<double>();
    integral = std::trunc(x) == x;
  } else {
    integral = v.is_string() && parseIntegerText(v.get<std::string>(), &x);
  }
  if (!integral) return fieldError(path, "expected an integer, got " + shown(v));
  if (lo == 0 && x < 0) return fieldError(path, "expected a non-negative integer, got " + shown(v));
  if (x < lo || x > hi) {
    std::ostringstream range;
    range << std::fixed << std::setprecision(0) << lo << " to " << hi;
    return fieldError(path, "expected an integer from " + range.str() + ", got " + shown(v));
  }
  return Status::ok();
}

Status checkSingle(const Json& v, const FieldDescriptor* f, const std::string& path) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (isFreeObject(f)) {  // checked later, against the algorithm registry
        if (v.is_object()) return Status::ok();
        return fieldError(path, "expected an object {...}, got " + shown(v));
      }
      return checkMessage(v, f->message_type(), path);
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return checkInteger(v, f, path);
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      if (v.is_number()) return Status::ok();
      if (v.is_string()) {
        const std::string s = v.get<std::string>();
        double x;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        if (s == "NaN" || s == "Infinity" || s == "-Infinity" ||
            (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size())) {
          return Status::ok();
        }
      }
      return fieldError(path, "expected a number, got " + shown(v));
    }
    case FieldDescriptor::CPPTYPE_STRING:
      if (v.is_string()) return Status::ok();
      return fieldError(path, "expected a string, got " + shown(v));
    case FieldDescriptor::CPPTYPE_BOOL:
      if (v.is_boolean()) return Status::ok();
      return fieldError(path, "expected true or false, got " + shown(v));
    case FieldDescriptor::CPPTYPE_ENUM:
      if (v.is_string() || v.is_number_integer()) return Status::ok();
      return fieldError(path, "expected a name, got " + shown(v));
  }
  return Status::ok();
}

}  // namespace

Status checkMessage(const Json& obj, const Descriptor* d, const std::string& path) {
  if (!obj.is_object()) {
    if (path.empty()) {
      return invalidArgument("the experiment must be a JSON object, got " + shown(obj));
    }
    return fieldError(path, "expected an object {...}, got " + shown(obj));
  }
  std::map<int, std::string> seen;  // field number -> spelling used
  for (const auto& [key, value] : obj.items()) {
    const std::string here = child(path, key);
    const FieldDescriptor* f = findField(d, key);
    if (f == nullptr) {
      return fieldError(here, "unknown field; " + (path.empty() ? "the experiment" : path) +
                                  " has: " + knownFields(d));
    }
    if (auto [it, fresh] = seen.emplace(f->number(), key); !fresh) {
      return fieldError(here, "given twice (also as " + it->second + ")");
    }
    if (value.is_null()) continue;  // null means absent in the JSON mapping
    if (!f->is_repeated()) {
      if (Status s = checkSingle(value, f, here); !s) return s;
      continue;
    }
    if (!value.is_array()) return fieldError(here, "expected a list [...], got " + shown(value));
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string at = child(here, std::to_string(i));
      if (value[i].is_null()) return fieldError(at, "null in a list; remove it");
      if (Status s = checkSingle(value[i], f, at); !s) return s;
    }
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// wire message -> JSON

namespace {

Json doubleJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

}  // namespace

Json messageJson(const google::protobuf::Message& m) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  Json out = Json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (isFreeObject(f)) {  // written by whoever knows what the object holds
      out[f->json_name()] = Json::object();
      continue;
    }
    auto one = [&](int index) -> Json {
      const bool rep = f->is_repeated();
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
        case FieldDescriptor::CPPTYPE_INT64:
          return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
        case FieldDescriptor::CPPTYPE_UINT32:
          return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
        case FieldDescriptor::CPPTYPE_UINT64:
          return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
        case FieldDescriptor::CPPTYPE_DOUBLE:
          return doubleJson(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
        case FieldDescriptor::CPPTYPE_FLOAT:
          return doubleJson(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
        case FieldDescriptor::CPPTYPE_BOOL:
          return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
        case FieldDescriptor::CPPTYPE_STRING:
          return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
        case FieldDescriptor::CPPTYPE_ENUM:
          return (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
        case FieldDescriptor::CPPTYPE_MESSAGE:
          return messageJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      }
      return nullptr;
    };
    if (f->is_repeated()) {
      Json list = Json::array();
      for (int k = 0; k < r->FieldSize(m, f); ++k) list.push_back(one(k));
      out[f->json_name()] = std::move(list);
    } else {
      out[f->json_name()] = one(0);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// --set

Result<PathTarget> walkPath(Json& root, const std::string& path) {
  if (path.back() == '.') return invalidArgument("empty name at the end of the path");
  PathTarget t{&root, nullptr, false};
  const Descriptor* d = wire::Experiment::descriptor();
  std::string so_far;
  std::stringstream segments(path);
  std::string seg;
  while (std::getline(segments, seg, '.')) {
    const std::string where = so_far.empty() ? "the experiment" : so_far;
    if (seg.empty()) return invalidArgument("empty name in the path; use dots between names");
    if (t.free) {  // inside a free object: names and list indexes as the document has them
      if (t.node->is_null()) *t.node = Json::object();
      size_t index = 0;
      auto r = std::from_chars(seg.data(), seg.data() + seg.size(), index);
      const bool numeric = r.ec == std::errc() && r.ptr == seg.data() + seg.size();
      if (t.node->is_array()) {
        if (!numeric || index > t.node->size()) {
          return invalidArgument(where + " is a list of " + std::to_string(t.node->size()) +
                                 " elements; expected an index from 0 to " +
                                 std::to_string(t.node->size()) + ", got \"" + seg + "\"");
        }
        if (index == t.node->size()) t.node->push_back(nullptr);
        t.node = &(*t.node)[index];
      } else if (t.node->is_object()) {
        std::string key = seg;  // replace whichever spelling the file already uses
        for (auto it = t.node->begin(); it != t.node->end(); ++it) {
          if (camelCase(it.key()) == camelCase(seg)) key = it.key();
        }
        t.node = &(*t.node)[key];
      } else {
        return invalidArgument(where + " holds " + shown(*t.node) + "; it has no \"" + seg + "\"");
      }
      so_far = child(so_far, seg);
      continue;
    }
    if (t.node->is_null()) {
      *t.node = (t.field != nullptr && t.field->is_repeated() && !t.element) ? Json::array()
                                                                             : Json::object();
    }
    if (t.field != nullptr && t.field->is_repeated() && !t.element) {
      size_t index = 0;
      auto r = std::from_chars(seg.data(), seg.data() + seg.size(), index);
      if (r.ec != std::errc() || r.ptr != seg.data() + seg.size()) {
        return invalidArgument(where + " is a list; expected an index (.0, .1, ...), got \"" + seg +
                               "\"");
      }
      if (!t.node->is_array()) {
        return invalidArgument(where + " holds " + shown(*t.node) + ", not a list");
      }
      if (index > t.node->size()) {
        return invalidArgument("index " + seg + " is past the end of " + where + " (" +
                               std::to_string(t.node->size()) + " elements; ." +
                               std::to_string(t.node->size()) + " appends)");
      }
      if (index == t.node->size()) t.node->push_back(nullptr);
      t.node = &(*t.node)[index];
      t.element = true;
    } else {
      if (t.field != nullptr) {
        if (t.field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
          return invalidArgument(where + " is a single value; it has no field \"" + seg + "\"");
        }
        d = t.field->message_type();
      }
      const FieldDescriptor* f = findField(d, seg);
      if (f == nullptr) {
        return invalidArgument(where + " has no field \"" + seg + "\"; known: " + knownFields(d));
      }
      if (!t.node->is_object()) {
        return invalidArgument(where + " holds " + shown(*t.node) + ", not an object");
      }
      std::string key = seg;  // replace whichever spelling the file already uses
      for (const std::string& spelling : {f->name(), f->json_name()}) {
        if (t.node->contains(spelling)) key = spelling;
      }
      t.node = &(*t.node)[key];
      t.field = f;
      t.element = false;
      t.free = isFreeObject(f);
    }
    so_far = child(so_far, seg);
  }
  if (t.field == nullptr) return invalidArgument("empty path; expected e.g. training.batchSize");
  return t;
}

}  // namespace edgerig
