# shellcheck shell=bash
# Debian packages scopeflow needs to build and test, installed on demand.
#
#   source scripts/lib/deps.sh
#   scopeflow_install_deps        # no-op when everything is already installed
#
# Works on a fresh minimal Debian 12 (no compiler, no cmake, no apt lists) when run as root.

# The one list of build/test dependencies. Add new ones here (e.g. libpq-dev, libhiredis-dev).
SCOPEFLOW_DEPS=(
  g++
  cmake
  ninja-build
  make
  pkg-config
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  procps
  ca-certificates
  libsimdjson-dev      # event parsing
  nlohmann-json3-dev   # baseline for the JSON benchmark
  libtbb-dev           # baseline for the pipeline benchmark (oneTBB parallel_pipeline)
  libpq-dev            # PostgreSQL connector
  libhiredis-dev       # Redis connector
  libcurl4-openssl-dev # HTTP client
  libmicrohttpd-dev    # HTTP server (admin endpoints, http ingest): event-driven, epoll
  libsqlite3-dev       # SQLite connector (the embedded default database)
  libyaml-cpp-dev      # the service's pipeline files
  libcli11-dev         # the service's command line
  libspdlog-dev        # the service's logs
  postgresql           # real servers for the tests and benchmarks (scripts/test-servers); pgbench
  redis-server         # also brings redis-cli and redis-benchmark (redis-tools)
  prometheus           # promtool: the tests validate /metrics with it
  clang-16             # the fuzzers (libFuzzer; clang 14 lacks the builtin g++ 12's <source_location> needs)
  libclang-rt-16-dev   # ... libFuzzer's and the sanitizers' runtimes
  llvm-16              # llvm-symbolizer: readable stacks in sanitizer and fuzzer reports
)

# Prints the packages of SCOPEFLOW_DEPS that are not installed, one per line.
scopeflow_missing_deps() {
  local pkg status
  for pkg in "${SCOPEFLOW_DEPS[@]}"; do
    # dpkg-query fails (and prints nothing useful) for packages it has never heard of.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
      echo "$pkg"
    fi
  done
}

# Installs whatever is missing with apt-get; exits 1 if that needs root and we are not root.
scopeflow_install_deps() {
  local missing
  mapfile -t missing < <(scopeflow_missing_deps)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if ((EUID != 0)); then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "install them as root with:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}
