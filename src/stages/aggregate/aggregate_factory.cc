// The counter and tumbling_window stages' options and their registration.
#include <scopeflow/stages/aggregate_stages.h>
#include <scopeflow/stages/builtin_stages.h>

namespace scopeflow {

void register_aggregate_stages(StageRegistry& registry) {
    registry.add(
        OptionsSchema("counter", "counts events per key and writes the running count")
            .add({.name = "key_field", .doc = "count per value of this field"})
            .add({.name = "count_field", .doc = "where the count goes", .default_value = "count"}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            return std::make_unique<CounterStage>(CounterOptions{
                .key_field = o.string("key_field"), .count_field = o.string("count_field")});
        });
    registry.add(
        OptionsSchema("tumbling_window",
                      "per-key aggregates over fixed event-time windows (emitted through the "
                      "\"window\" action)")
            .add({.name = "time_field", .doc = "integer epoch milliseconds", .required = true})
            .add({.name = "size_ms",
                  .kind = OptionKind::duration,
                  .doc = "window length",
                  .default_value = "1m",
                  .min = 1})
            .add({.name = "key_field", .doc = "group by this field"})
            .add({.name = "sum_field", .doc = "also sum this numeric field"}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            return std::make_unique<TumblingWindowStage>(
                TumblingWindowOptions{.time_field = o.string("time_field"),
                                      .size = o.duration("size_ms"),
                                      .key_field = o.string("key_field"),
                                      .sum_field = o.string("sum_field")});
        });
}

}  // namespace scopeflow
