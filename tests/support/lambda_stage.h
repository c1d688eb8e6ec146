// LambdaStage: a stage whose process() is a lambda, for tests of the engine's routing and
// accounting.
//
//   g.add_stage("upper", std::make_unique<testing::LambdaStage>([](Event& e, TaskContext&) {
//       return kActionDefault;
//   }));
#pragma once

#include <functional>
#include <string>
#include <utility>

#include <scopeflow/engine/stage.h>
#include <scopeflow/event/event.h>

namespace scopeflow::testing {

// A stage built from lambdas, for tests.
class LambdaStage final : public Stage {
public:
    using Fn = std::function<ActionId(Event&, TaskContext&)>;
    explicit LambdaStage(Fn fn, std::string type = "lambda")
        : Stage(std::move(type)),
          fn_(std::move(fn)) {}

protected:
    ActionId on_process(Event& e, TaskContext& t) override { return fn_(e, t); }

private:
    Fn fn_;
};

}  // namespace scopeflow::testing
