// The experiment JSON held against the wire::Experiment schema: type checks that name the field
// as the file spells it, the full JSON printer and --set path walking. Internal to the experiment
// module.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/experiment/algorithm_params.h"
#include "device_bridge/status.h"

namespace google::protobuf {
class Descriptor;
class FieldDescriptor;
class Message;
}  // namespace google::protobuf

namespace edgerig {

using Json = nlohmann::ordered_json;  // keeps the file's key order when --set rewrites it

// "invalid JSON: <where and why>", without nlohmann's exception tag.
Result<Json> parseJsonText(std::string_view text);

// "a, b, c": the list of accepted names a message offers.
std::string joinNames(const std::vector<std::string>& names);

// "field <path>: <what>".
Status fieldError(const std::string& path, const std::string& what);

// Walks `obj` against `d` (path "" for the document itself) and reports the first unknown, repeated
// or ill-typed field, named as the file spells it. Values are checked only by type and range.
Status checkMessage(const Json& obj, const google::protobuf::Descriptor* d,
                    const std::string& path);

// Every field, in schema order, JSON names; 64-bit integers as numbers (protobuf's printer quotes
// them, which is right for JavaScript and wrong for a file people edit).
Json messageJson(const google::protobuf::Message& m);

// Where a dotted path leads inside the document; creates what is missing on the way.
struct PathTarget {
  Json* node = nullptr;
  const google::protobuf::FieldDescriptor* field = nullptr;
  bool element = false;  // node is one element of the repeated `field`
  bool free = false;     // node is inside (or is) a free object, e.g. `algorithm`
};

// An `algorithm` object's parameters against their declarations (defaults for absent ones),
// and back; `path` is the object's own ("algorithm").
Result<AlgorithmParams> paramsFromObject(const Json& obj, const AlgorithmInfo& info,
                                         const std::string& path);
Json paramsObject(const AlgorithmParams& p);

// Resolves a --set path (either spelling, list indexes, .N appends) from wire::Experiment. Errors
// say what is wrong with the path, without a prefix.
Result<PathTarget> walkPath(Json& root, const std::string& path);

}  // namespace edgerig
