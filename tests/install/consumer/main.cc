// Uses the installed scopeflow: exits 0 only if the deferred cleanup ran on close(). Includes the
// scope header by its path and by its 0.1 path (a forwarding header kept for one release).
#include <cstdio>

#include <scopeflow/core/scope.h>
#include <scopeflow/scope.h>

int main() {
    bool ran = false;
    scopeflow::Scope root{"consumer"};
    root.defer({"hello"}, [&] { ran = true; });
    root.close();
    if (!ran) {
        std::fputs("consumer: deferred cleanup did not run\n", stderr);
        return 1;
    }
    std::puts("consumer: ok");
    return 0;
}
