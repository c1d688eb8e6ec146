// NotifyStage: the seed's Notification step. Appends one line per event to a notification log
// (one file per worker, <path>.w<N>, buffered and flushed at the end of each batch, before the
// batch is acked), naming the event by `key_field` and the fields listed in `fields`.
//
//   NotifyStage({.path = "out/notifications.log", .key_field = "id", .fields = {"customer"}})
//   // out/notifications.log.w0:  notify id=42 customer="cust-3"
//
// Fault point "notify" (use phase) lets --simulate-failures make it throw; the event then takes
// the error route (dead letter).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct NotifyOptions {
    std::string path;
    std::string key_field = "id";
    std::vector<std::string> fields;
};

class NotifyStage final : public Stage {
public:
    explicit NotifyStage(NotifyOptions options);
    ~NotifyStage() override;

    struct Worker;

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_end_batch(std::size_t worker_index) override;

private:
    NotifyOptions options_;
    std::vector<Worker*> workers_;  // owned by the worker scopes
};

}  // namespace scopeflow
