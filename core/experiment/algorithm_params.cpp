#include "core/experiment/algorithm_params.h"

#include <cctype>
#include <cmath>
#include <sstream>

#include "core/experiment/experiment_schema.h"

namespace edgerig {

const ParamSpec* AlgorithmInfo::param(std::string_view n) const {
  for (const auto& p : params) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

const ParamValue* AlgorithmParams::find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

int64_t AlgorithmParams::getInt(std::string_view name) const {
  const ParamValue* v = find(name);
  if (v == nullptr) return 0;
  if (auto* i = std::get_if<int64_t>(v)) return *i;
  if (auto* d = std::get_if<double>(v)) return static_cast<int64_t>(*d);
  return 0;
}

double AlgorithmParams::getDouble(std::string_view name) const {
  const ParamValue* v = find(name);
  if (v == nullptr) return 0;
  if (auto* d = std::get_if<double>(v)) return *d;
  if (auto* i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return 0;
}

bool AlgorithmParams::getBool(std::string_view name) const {
  const ParamValue* v = find(name);
  auto* b = v ? std::get_if<bool>(v) : nullptr;
  return b != nullptr && *b;
}

std::string AlgorithmParams::getString(std::string_view name) const {
  const ParamValue* v = find(name);
  auto* s = v ? std::get_if<std::string>(v) : nullptr;
  return s ? *s : std::string();
}

IntList AlgorithmParams::getIntList(std::string_view name) const {
  const ParamValue* v = find(name);
  auto* l = v ? std::get_if<IntList>(v) : nullptr;
  return l ? *l : IntList{};
}

DoubleList AlgorithmParams::getDoubleList(std::string_view name) const {
  const ParamValue* v = find(name);
  if (v == nullptr) return {};
  if (auto* l = std::get_if<DoubleList>(v)) return *l;
  if (auto* l = std::get_if<IntList>(v)) return DoubleList(l->begin(), l->end());
  return {};
}

std::string camelCase(std::string_view name) {
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = !out.empty();
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

namespace {

Json valueJson(const ParamValue& v) {
  return std::visit(
      [](const auto& x) -> Json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, IntList> || std::is_same_v<T, DoubleList>) {
          Json list = Json::array();
          for (auto e : x) list.push_back(e);
          return list;
        } else {
          return Json(x);
        }
      },
      v);
}

std::string num(double v) {
  if (std::trunc(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string kindText(ParamSpec::Kind k) {
  switch (k) {
    case ParamSpec::Kind::kInt:
      return "an integer";
    case ParamSpec::Kind::kDouble:
      return "a number";
    case ParamSpec::Kind::kBool:
      return "true or false";
    case ParamSpec::Kind::kChoice:
      return "a name";
    case ParamSpec::Kind::kIntList:
      return "a list of integers [...]";
    case ParamSpec::Kind::kDoubleList:
      return "a list of numbers [...]";
  }
  return "a value";
}

std::string shownJson(const Json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// An integer in the JSON sense: 4, 4.0 or "4" (protobuf's JSON mapping quotes 64-bit integers).
bool integerOf(const Json& v, int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::trunc(d) != d || !(std::fabs(d) < 9e15)) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    std::size_t used = 0;
    try {
      *out = std::stoll(s, &used);
    } catch (const std::exception&) {
      return false;
    }
    return used == s.size();
  }
  return false;
}

Status inRange(const ParamSpec& p, double x, const std::string& field) {
  if (x >= p.min && x <= p.max) return Status::ok();
  std::string range;
  if (std::isinf(p.max)) {
    range = "at least " + num(p.min);
  } else if (std::isinf(p.min)) {
    range = "at most " + num(p.max);
  } else {
    range = "from " + num(p.min) + " to " + num(p.max);
  }
  return fieldError(field, "must be " + range + ", got " + num(x));
}

// One value checked against its declaration.
Result<ParamValue> valueOf(const ParamSpec& p, const Json& v, const std::string& field) {
  const auto wrongType = [&] {
    return fieldError(field, "expected " + kindText(p.kind) + ", got " + shownJson(v));
  };
  switch (p.kind) {
    case ParamSpec::Kind::kInt: {
      int64_t i = 0;
      if (!integerOf(v, &i)) return wrongType();
      if (auto st = inRange(p, static_cast<double>(i), field); !st) return st;
      return ParamValue(i);
    }
    case ParamSpec::Kind::kDouble: {
      if (!v.is_number()) return wrongType();
      const double d = v.get<double>();
      if (auto st = inRange(p, d, field); !st) return st;
      return ParamValue(d);
    }
    case ParamSpec::Kind::kBool:
      if (!v.is_boolean()) return wrongType();
      return ParamValue(v.get<bool>());
    case ParamSpec::Kind::kChoice: {
      if (!v.is_string()) return wrongType();
      const std::string s = v.get<std::string>();
      for (const auto& c : p.choices) {
        if (c == s) return ParamValue(s);
      }
      return fieldError(field, "unknown choice \"" + s + "\"; one of " + joinNames(p.choices));
    }
    case ParamSpec::Kind::kIntList: {
      if (!v.is_array()) return wrongType();
      IntList out;
      for (size_t i = 0; i < v.size(); ++i) {
        int64_t x = 0;
        const std::string at = field + "." + std::to_string(i);
        if (!integerOf(v[i], &x))
          return fieldError(at, "expected an integer, got " + shownJson(v[i]));
        if (auto st = inRange(p, static_cast<double>(x), at); !st) return st;
        out.push_back(x);
      }
      return ParamValue(std::move(out));
    }
    case ParamSpec::Kind::kDoubleList: {
      if (!v.is_array()) return wrongType();
      DoubleList out;
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string at = field + "." + std::to_string(i);
        if (!v[i].is_number()) return fieldError(at, "expected a number, got " + shownJson(v[i]));
        if (auto st = inRange(p, v[i].get<double>(), at); !st) return st;
        out.push_back(v[i].get<double>());
      }
      return ParamValue(std::move(out));
    }
  }
  return wrongType();
}

}  // namespace

std::string paramText(const ParamValue& v) {
  const Json j = valueJson(v);
  if (j.is_array()) {  // "[3, 7]" reads better than "[3,7]" in a sentence
    std::string s = "[";
    for (size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + j[i].dump();
    return s + "]";
  }
  return j.dump();
}

AlgorithmParams defaultParams(const AlgorithmInfo& info) {
  AlgorithmParams p;
  for (const auto& spec : info.params) p.set(spec.name, spec.default_value);
  return p;
}

std::string describeAlgorithm(const AlgorithmConfig& a, const AlgorithmInfo* info) {
  std::string parts;
  auto add = [&](const std::string& name, const ParamValue& v) {
    std::string text = paramText(v);
    if (text.size() > 2 && text.front() == '"') text = text.substr(1, text.size() - 2);
    parts += (parts.empty() ? "" : ", ") + name + " " + text;
  };
  if (info != nullptr) {
    for (const auto& spec : info->params) {
      const ParamValue* v = a.params.find(spec.name);
      if (v != nullptr && !(*v == spec.default_value)) add(spec.name, *v);
    }
  } else {
    for (const auto& [name, v] : a.params.all()) add(name, v);
  }
  return parts.empty() ? a.name : a.name + " (" + parts + ")";
}

Result<AlgorithmParams> paramsFromObject(const Json& obj, const AlgorithmInfo& info,
                                         const std::string& path) {
  if (!obj.is_object()) return fieldError(path, "expected an object {...}, got " + shownJson(obj));
  AlgorithmParams out = defaultParams(info);
  std::map<std::string, std::string> seen;
  for (const auto& [key, value] : obj.items()) {
    if (key == "name") continue;
    const std::string canonical = camelCase(key);
    const std::string field = path + "." + key;
    const ParamSpec* spec = info.param(canonical);
    if (spec == nullptr) {
      std::vector<std::string> known;
      for (const auto& p : info.params) known.push_back(p.name);
      return fieldError(field, "unknown parameter of " + info.name + "; " + info.name +
                                   (known.empty() ? " takes none" : " takes: " + joinNames(known)));
    }
    if (auto [it, fresh] = seen.emplace(canonical, key); !fresh) {
      return fieldError(field, "given twice (also as " + it->second + ")");
    }
    if (value.is_null()) continue;  // null means absent, as in the rest of the file
    auto v = valueOf(*spec, value, path + "." + canonical);
    if (!v) return v.status();
    out.set(canonical, std::move(v).value());
  }
  return out;
}

Json paramsObject(const AlgorithmParams& p) {
  Json out = Json::object();
  for (const auto& [name, v] : p.all()) out[name] = valueJson(v);
  return out;
}

std::string paramsJson(const AlgorithmParams& p) { return paramsObject(p).dump(); }

Result<AlgorithmParams> paramsFromJson(std::string_view json, const AlgorithmInfo& info) {
  auto doc = parseJsonText(json);
  if (!doc) return doc.status();
  return paramsFromObject(*doc, info, "algorithm");
}

}  // namespace edgerig
