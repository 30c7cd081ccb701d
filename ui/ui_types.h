// The controller's plain values as Qt meta-types, so they travel in signals, QVariant and
// QSignalSpy. Include this (not the core headers directly) wherever such a signal is declared.
#pragma once

#include <QMetaType>
#include <vector>

#include "core/controller/run_types.h"
#include "core/experiment/experiment.h"
#include "core/runlog/run_log.h"

Q_DECLARE_METATYPE(edgerig::RunEvent)
Q_DECLARE_METATYPE(edgerig::MetricSample)
Q_DECLARE_METATYPE(edgerig::DeviceStatus)
Q_DECLARE_METATYPE(edgerig::RunProgress)
Q_DECLARE_METATYPE(edgerig::RunSummary)
Q_DECLARE_METATYPE(edgerig::FaultConfig)
Q_DECLARE_METATYPE(std::vector<edgerig::RunEvent>)
Q_DECLARE_METATYPE(std::vector<edgerig::MetricSample>)
Q_DECLARE_METATYPE(std::vector<edgerig::DeviceStatus>)
Q_DECLARE_METATYPE(edgerig::PlanInfo)
Q_DECLARE_METATYPE(edgerig::GraphInfo)
Q_DECLARE_METATYPE(edgerig::ShardInfo)
Q_DECLARE_METATYPE(std::vector<edgerig::ShardInfo>)
Q_DECLARE_METATYPE(edgerig::AlgorithmConfig)
Q_DECLARE_METATYPE(edgerig::LinkTraffic)
Q_DECLARE_METATYPE(std::vector<edgerig::LinkTraffic>)
Q_DECLARE_METATYPE(std::vector<edgerig::FaultConfig>)
Q_DECLARE_METATYPE(edgerig::LinkBandwidthInfo)
