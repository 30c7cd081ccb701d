#include "core/algorithms/registry.h"

namespace edgerig {

void AlgorithmRegistry::add(AlgorithmEntry entry) {
  for (auto& e : entries_) {
    if (e.info.name == entry.info.name) {
      e = std::move(entry);
      return;
    }
  }
  entries_.push_back(std::move(entry));
}

const AlgorithmEntry* AlgorithmRegistry::find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.info.name == name) return &e;
  }
  return nullptr;
}

std::vector<AlgorithmInfo> AlgorithmRegistry::infos() const {
  std::vector<AlgorithmInfo> out;
  for (const auto& e : entries_) out.push_back(e.info);
  return out;
}

std::vector<std::string> AlgorithmRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.info.name);
  return out;
}

Status AlgorithmRegistry::unknown(const std::string& name) const {
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  return notFound("unknown algorithm '" + name + "'; known: " + known);
}

Result<std::unique_ptr<Coordinator>> AlgorithmRegistry::makeCoordinator(const std::string& name,
                                                                        RunContext& ctx) const {
  const AlgorithmEntry* e = find(name);
  if (e == nullptr) return unknown(name);
  return e->coordinator(ctx);
}

Result<std::unique_ptr<Worker>> AlgorithmRegistry::makeWorker(
    const std::string& name, WorkerContext& ctx, const wire::WorkerStart& start) const {
  const AlgorithmEntry* e = find(name);
  if (e == nullptr) return unknown(name);
  return e->worker(ctx, start);
}

}  // namespace edgerig
