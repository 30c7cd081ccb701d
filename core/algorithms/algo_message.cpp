#include "core/algorithms/algo_message.h"

namespace edgerig {

wire::AlgoMessage algoMessage(bridge::TrafficKind kind, const google::protobuf::Message& body) {
  wire::AlgoMessage m;
  m.set_kind(static_cast<uint32_t>(kind));
  m.mutable_body()->PackFrom(body);
  return m;
}

std::string bodyName(const wire::AlgoMessage& m) {
  const std::string& url = m.body().type_url();
  const auto slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

}  // namespace edgerig
