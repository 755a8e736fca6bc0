// build/ngx-node: Node.js itself, on the same libnode as the workers. nginx's master runs the
// configuration checker with it (src/runtime/check.ts); tests and tools may use it too.
#include <node.h>

int main(int argc, char** argv) { return node::Start(argc, argv); }
