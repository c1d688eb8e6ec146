// The resource types a pipeline file can declare under `resources:` (sqlite, postgres, redis,
// http, memory, files), each registered into a Catalog.
//
//   resources:
//     orders_db: {type: postgres, host: db, dbname: shop, user: app, password_env: PGPASSWORD,
//                 max_size: 8, acquire_timeout: 2s}
//
// Pool settings are fields of the resource itself: max_size, min_idle, acquire_timeout,
// idle_timeout, max_lifetime, leak_threshold, validate_if_idle_for, housekeeping_interval.
// Durations are "250ms", "30s", ... or integers (milliseconds).
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include <scopeflow/pool/pool_options.h>
#include <scopeflow/core/secret.h>

#include "service/catalog.h"

namespace scopeflow::service {

void register_resource_types(Catalog& catalog);

// Option helpers shared by the resource types (ConfigError naming "<block.path>.<field>").
[[nodiscard]] std::chrono::milliseconds optional_duration(const Block& b,
                                                          std::string_view field,
                                                          std::chrono::milliseconds fallback);
[[nodiscard]] bool optional_bool(const Block& b, std::string_view field, bool fallback);
[[nodiscard]] Secret secret_from(const Block& b, std::string_view field, bool required);
[[nodiscard]] PoolOptions pool_options(const Block& b, std::size_t default_max);

}  // namespace scopeflow::service
