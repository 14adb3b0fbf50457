#pragma once
#ifndef BERTH_SHIM_VERSION
#define BERTH_SHIM_VERSION "v0.1.0-berth"
#endif
