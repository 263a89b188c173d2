// The system SQLite 3 (Debian: libsqlite3-dev), used by RigorStore.
#include <sqlite3.h>
