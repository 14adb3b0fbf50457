# Run by `cmake --install` (install(SCRIPT)): writes berthd.service with ExecStart pointing at
# the installed berthd, under $DESTDIR<prefix>/lib/systemd/system.
set(unit_in "${CMAKE_CURRENT_LIST_DIR}/berthd.service.in")
file(READ "${unit_in}" unit)
string(REPLACE "@BINDIR@" "${CMAKE_INSTALL_PREFIX}/bin" unit "${unit}")
set(unit_out "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/berthd.service")
message(STATUS "Installing: ${unit_out}")
file(WRITE "${unit_out}" "${unit}")
