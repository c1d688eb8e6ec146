// The resource types a pipeline file can declare under `resources:` (sqlite, postgres, redis,
// http, memory, files), each declared by an OptionsSchema and registered into a Catalog.
//
//   resources:
//     orders_db: {type: postgres, host: db, dbname: shop, user: app, password_env: PGPASSWORD,
//                 max_size: 8, acquire_timeout: 2s}
//
// Pool settings are fields of the resource itself: max_size, min_idle, acquire_timeout,
// idle_timeout, max_lifetime, leak_threshold, validate_if_idle_for, housekeeping_interval.
// Durations are "250ms", "30s", ... or integers (milliseconds). The types live in the service
// because each also registers a probe for /resources and the monitor.
#pragma once

#include "service/catalog.h"

namespace scopeflow::service {

void register_resource_types(Catalog& catalog);

}  // namespace scopeflow::service
