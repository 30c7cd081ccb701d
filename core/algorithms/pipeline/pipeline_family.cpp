#include "core/algorithms/pipeline/pipeline_family.h"

#include "core/algorithms/pipeline/ftpipehd/ftpipehd.h"
#include "core/algorithms/pipeline/gpipe/gpipe.h"
#include "core/algorithms/pipeline/respipe/respipe.h"

namespace edgerig {

void registerPipelineFamily(AlgorithmRegistry& registry) {
  registry.add(gpipeEntry());
  registry.add(ftpipehdEntry());
  registry.add(respipeEntry());
}

}  // namespace edgerig
