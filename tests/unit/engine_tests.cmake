scopeflow_add_test(pipeline_test SOURCES unit/pipeline_test.cc LABELS concurrency)
scopeflow_add_test(gate_test SOURCES unit/gate_test.cc LABELS concurrency)
scopeflow_add_test(node_test SOURCES unit/node_test.cc)
scopeflow_add_test(jsonl_source_test SOURCES unit/jsonl_source_test.cc LABELS concurrency)
