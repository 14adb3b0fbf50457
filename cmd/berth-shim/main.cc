// berth-shim: the per-task shim (shim v2 over ttrpc). Everything lives in src/shim.
#include "shim/shim_main.h"

int main(int argc, char** argv) { return berth::shim::Main(argc, argv); }
